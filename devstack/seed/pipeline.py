"""The AWS side of the local whole-pipeline run (devstack's `pipeline` module), in the emulator.

Usage:
  pipeline.py ENDPOINT_URL create          creates the stack; prints its names as JSON
  pipeline.py ENDPOINT_URL upload DIR PREFIX
                                           uploads every file of DIR to the source bucket
                                           under PREFIX; prints the keys as JSON
  pipeline.py ENDPOINT_URL receive         takes every message off the events queue; prints
                                           them as SQS events of at most 10 records, in the
                                           shape Lambda's SQS event source mapping sends
  pipeline.py ENDPOINT_URL delete RECEIPT_HANDLE...
                                           deletes those messages from the events queue

`create` builds what terraform/ deploys with `sqs_buffered = true` (moto cannot invoke a
function itself without Docker, so the run polls the queue as Lambda's event source mapping
would), with the names and the tags terraform/ gives them (Project, Environment; the search
tag of deploy/exporter.yml), in the region deploy/exporter.yml watches: the source and
destination buckets, the events queue with its redrive policy to the dead-letter queue, the
bucket notification into the queue for `uploads/`, the function (a placeholder package: the
code runs through cargo-lambda), and the DynamoDB table and Step Functions state machine of
the seed stack's alarms. On failure it prints why and exits non-zero.
"""

import io
import json
import os
import sys
import zipfile

import boto3

REGION = "eu-west-1"
ACCOUNT = "123456789012"  # moto's account
PREFIX = "image-processor-dev"
TAGS = {"Project": "image-processor", "Environment": "dev"}
SOURCE_PREFIX = "uploads/"
# terraform/variables.tf's defaults.
VARIANTS = [
    {"name": "thumbnail", "width": 200, "height": 200, "fit": "cover", "format": "webp", "quality": 80},
    {"name": "medium", "width": 800, "height": 800, "fit": "inside", "format": "jpeg", "quality": 85},
]
TIMEOUT = 60

NAMES = {
    "region": REGION,
    "function": f"{PREFIX}-processor",
    "source_bucket": f"{PREFIX}-source-{ACCOUNT}",
    "source_prefix": SOURCE_PREFIX,
    "destination_bucket": f"{PREFIX}-destination-{ACCOUNT}",
    "destination_prefix": "processed/",
    "queue": f"{PREFIX}-events",
    "dead_letter_queue": f"{PREFIX}-dlq",
    "table": f"{PREFIX}-images",
    "state_machine": f"{PREFIX}-pipeline",
    "environment": "dev",
}


def client(endpoint, service):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def queue_url(endpoint, name):
    return client(endpoint, "sqs").get_queue_url(QueueName=name)["QueueUrl"]


def create(endpoint):
    tag_list = [{"Key": k, "Value": v} for k, v in TAGS.items()]
    iam = client(endpoint, "iam")
    role = iam.create_role(
        RoleName=f"{PREFIX}-lambda",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
        Tags=tag_list,
    )["Role"]["Arn"]

    s3 = client(endpoint, "s3")
    for bucket in (NAMES["source_bucket"], NAMES["destination_bucket"]):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tag_list})

    sqs = client(endpoint, "sqs")
    dlq = sqs.create_queue(
        QueueName=NAMES["dead_letter_queue"],
        Attributes={"MessageRetentionPeriod": "1209600"},
        tags=TAGS,
    )["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue = sqs.create_queue(
        QueueName=NAMES["queue"],
        Attributes={
            "VisibilityTimeout": str(6 * TIMEOUT),
            "MessageRetentionPeriod": "345600",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5}),
        },
        tags=TAGS,
    )["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(
        Bucket=NAMES["source_bucket"],
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "Id": "processor-uploads",
                    "QueueArn": queue_arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": SOURCE_PREFIX}]}},
                }
            ]
        },
    )

    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("bootstrap", "#!/bin/sh\n# placeholder: the run executes the real binary through cargo-lambda\n")
    client(endpoint, "lambda").create_function(
        FunctionName=NAMES["function"],
        Runtime="provided.al2023",
        Handler="bootstrap",
        Architectures=["arm64"],
        Role=role,
        Code={"ZipFile": package.getvalue()},
        Timeout=TIMEOUT,
        MemorySize=1024,
        Environment={"Variables": function_environment()},
        DeadLetterConfig={"TargetArn": dlq_arn},
        Tags=TAGS,
    )

    client(endpoint, "dynamodb").create_table(
        TableName=NAMES["table"],
        KeySchema=[{"AttributeName": "key", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "key", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        Tags=tag_list,
    )
    client(endpoint, "stepfunctions").create_state_machine(
        name=NAMES["state_machine"],
        definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
        roleArn=role,
        tags=[{"key": k, "value": v} for k, v in TAGS.items()],
    )
    print(json.dumps({**NAMES, "queue_url": queue, "function_environment": function_environment()}))


def function_environment():
    """The variables terraform/modules/lambda_function sets (with terraform/'s defaults)."""
    return {
        "SOURCE_BUCKET": NAMES["source_bucket"],
        "SOURCE_PREFIX": SOURCE_PREFIX,
        "DESTINATION_BUCKET": NAMES["destination_bucket"],
        "DESTINATION_PREFIX": NAMES["destination_prefix"],
        "VARIANTS": json.dumps(VARIANTS),
        "ENVIRONMENT": NAMES["environment"],
    }


def upload(endpoint, folder, prefix):
    s3 = client(endpoint, "s3")
    keys = []
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if not os.path.isfile(path) or name.endswith(".md"):
            continue
        key = f"{SOURCE_PREFIX}{prefix}{name}"
        with open(path, "rb") as body:
            s3.put_object(Bucket=NAMES["source_bucket"], Key=key, Body=body.read())
        keys.append(key)
    print(json.dumps(keys))


def receive(endpoint):
    sqs = client(endpoint, "sqs")
    url = queue_url(endpoint, NAMES["queue"])
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events = []
    while True:
        messages = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], WaitTimeSeconds=0
        ).get("Messages", [])
        if not messages:
            break
        events.append(
            {
                "Records": [
                    {
                        "messageId": m["MessageId"],
                        "receiptHandle": m["ReceiptHandle"],
                        "body": m["Body"],
                        "attributes": m.get("Attributes", {}),
                        "messageAttributes": {},
                        "md5OfBody": m["MD5OfBody"],
                        "eventSource": "aws:sqs",
                        "eventSourceARN": arn,
                        "awsRegion": REGION,
                    }
                    for m in messages
                ]
            }
        )
    print(json.dumps(events))


def delete(endpoint, receipts):
    sqs = client(endpoint, "sqs")
    url = queue_url(endpoint, NAMES["queue"])
    for start in range(0, len(receipts), 10):
        batch = receipts[start : start + 10]
        sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "ReceiptHandle": r} for i, r in enumerate(batch)],
        )


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    endpoint, command, args = argv[1], argv[2], argv[3:]
    try:
        if command == "create" and not args:
            create(endpoint)
        elif command == "upload" and len(args) == 2:
            upload(endpoint, *args)
        elif command == "receive" and not args:
            receive(endpoint)
        elif command == "delete":
            delete(endpoint, args)
        else:
            sys.exit(__doc__)
    except Exception as error:  # any failure, reported in one line for the calling process
        sys.exit(f"pipeline.py {command} against {endpoint} failed: {error!r}")


if __name__ == "__main__":
    main(sys.argv)
