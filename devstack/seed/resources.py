"""Seeds the local AWS emulator (moto server) with the resources the exporter discovers.

Usage: resources.py ENDPOINT_URL

Creates in us-east-1, with dummy credentials: a tagged and an untagged Lambda function, two
tagged SQS queues, a tagged DynamoDB table, a tagged Step Functions state machine, a tagged
S3 bucket, and a tagged REST API (API Gateway v1, `images-api`) and HTTP API (v2). The untagged
function is there so tests can show that GetResources never returns it. moto's GetResources
returns neither API (moto 5.2.5 does not tag API Gateway for it), but GetRestApis and GetApis
list them; moto draws the HTTP API's id at random.
Prints nothing on success; on failure prints why and exits non-zero.
"""

import io
import json
import sys
import zipfile

import boto3

REGION = "us-east-1"
PROJECT = {"Project": "image-processor"}


def main(endpoint):
    def client(service):
        return boto3.client(
            service,
            endpoint_url=endpoint,
            region_name=REGION,
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )

    # The exporter's account_alias label comes from here.
    client("iam").create_account_alias(AccountAlias="image-pipeline-dev")

    role = client("iam").create_role(
        RoleName="image-processor-dev",
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
    )["Role"]["Arn"]

    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("bootstrap", "#!/bin/sh\n")
    lambda_ = client("lambda")
    for name, tags in [
        ("image-processor-dev-processor", {**PROJECT, "Environment": "dev"}),
        ("untagged-fn", {}),
    ]:
        lambda_.create_function(
            FunctionName=name,
            Runtime="provided.al2023",
            Handler="bootstrap",
            Role=role,
            Code={"ZipFile": code.getvalue()},
            Tags=tags,
        )

    sqs = client("sqs")
    sqs.create_queue(QueueName="image-processor-dev-dlq", tags=PROJECT)
    sqs.create_queue(QueueName="other-queue", tags={"Project": "other"})

    client("dynamodb").create_table(
        TableName="images",
        KeySchema=[{"AttributeName": "key", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "key", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        Tags=[{"Key": k, "Value": v} for k, v in PROJECT.items()],
    )

    client("stepfunctions").create_state_machine(
        name="pipeline",
        definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
        roleArn=role,
        tags=[{"key": k, "value": v} for k, v in PROJECT.items()],
    )

    s3 = client("s3")
    s3.create_bucket(Bucket="image-processor-dev-source")
    s3.put_bucket_tagging(
        Bucket="image-processor-dev-source",
        Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in PROJECT.items()]},
    )

    client("apigateway").create_rest_api(name="images-api", tags=PROJECT)
    client("apigatewayv2").create_api(Name="images-http-api", ProtocolType="HTTP", Tags=PROJECT)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: resources.py ENDPOINT_URL")
    try:
        main(sys.argv[1])
    except Exception as error:  # any failure, reported in one line for the calling test
        sys.exit(f"seeding {sys.argv[1]} failed: {error!r}")
