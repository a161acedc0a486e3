"""Creates an SQS queue without any tag in the local AWS emulator (us-east-1).

Usage: untagged_queue.py ENDPOINT_URL QUEUE_NAME
"""

import sys

import boto3

endpoint, name = sys.argv[1], sys.argv[2]
sqs = boto3.client(
    "sqs",
    endpoint_url=endpoint,
    region_name="us-east-1",
    aws_access_key_id="testing",
    aws_secret_access_key="testing",
)
sqs.create_queue(QueueName=name)
