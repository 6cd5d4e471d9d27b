"""A stand-in for the SAM CLI in tests/e2e/test_deploy.py: it records each call, and `deploy` creates the stage's
stack on the emulator (AWS_ENDPOINT_URL) with the outputs the tools read, pointing at the local stack's API.

FAKE_SAM_LOG: the file each call's arguments are appended to (a JSON line); FAKE_SAM_STACK: the stack's name;
FAKE_SAM_API: its ApiUrl output; FAKE_SAM_FAIL: a command that exits 1 instead.
"""

import json
import os
import sys

import boto3


def deploy(stack: str, api: str) -> None:
    cfn = boto3.client("cloudformation", aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1")
    template = {
        "Resources": {"Marker": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": f"{stack}-marker"}}},
        "Outputs": {"ApiUrl": {"Value": api}, "EventBusName": {"Value": "blue-events"}},
    }
    if not any(summary["StackName"] == stack for summary in cfn.list_stacks()["StackSummaries"]):
        cfn.create_stack(StackName=stack, TemplateBody=json.dumps(template))


def main() -> int:
    command = sys.argv[1]
    with open(os.environ["FAKE_SAM_LOG"], "a") as log:
        log.write(json.dumps({"argv": sys.argv[1:], "endpoint": os.environ.get("AWS_ENDPOINT_URL")}) + "\n")
    if os.environ.get("FAKE_SAM_FAIL") == command:
        print(f"Error: {command} failed (FAKE_SAM_FAIL)", file=sys.stderr)
        return 1
    if command == "deploy":
        deploy(os.environ["FAKE_SAM_STACK"], os.environ["FAKE_SAM_API"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
