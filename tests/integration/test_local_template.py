"""The local stack builds template.yaml's resources, with the template's settings, on the emulator."""

import json

import boto3

from tests.integration.conftest import PARAMETERS, sample


def test_the_delivery_queue_bounds_receives_that_were_not_attempts(stack, queues):
    attributes = boto3.client("sqs").get_queue_attributes(QueueUrl=queues["DeliveryQueue"], AttributeNames=["All"])[
        "Attributes"
    ]
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["maxReceiveCount"] == 10  # attempts travel in the message; receives only bound our failures
    assert redrive["deadLetterTargetArn"].endswith(":blue-webhooks-local-DeliveryDLQ")
    timeout = float(stack.resolve(stack.function_property("DeliveryFunction", "Timeout")))
    assert timeout == float(PARAMETERS["DeliveryTimeoutSeconds"]) + 10  # derived from the delivery deadline
    assert int(attributes["VisibilityTimeout"]) >= 6 * 30  # ≥ 6 × DeliveryFunction's longest timeout
    assert attributes["MessageRetentionPeriod"] == "1209600"


def test_the_functions_get_the_template_environment(stack):
    env = stack.function_environment("DeliveryFunction")
    assert env["RETRY_SCHEDULE"] == PARAMETERS["RetrySchedule"]
    assert env["DELIVERY_QUEUE_URL"] == stack.ref("DeliveryQueue")
    assert env["WEBHOOKS_TABLE"] == "blue-webhooks-local-WebhooksTable"
    assert env["ALLOW_PRIVATE_TARGETS"] == "true"


def test_the_rule_matches_blue_events_on_the_bus(stack):
    events = boto3.client("events")
    (rule,) = events.list_rules(EventBusName="blue-events")["Rules"]
    assert json.loads(rule["EventPattern"]) == {"source": ["blue"]}
    (target,) = events.list_targets_by_rule(Rule=rule["Name"], EventBusName="blue-events")["Targets"]
    assert target["Arn"].endswith("-tap")


def test_the_tables_have_the_keys_the_code_uses(stack):
    dynamodb = boto3.client("dynamodb")
    webhooks = dynamodb.describe_table(TableName=stack.ref("WebhooksTable"))["Table"]
    assert [key["AttributeName"] for key in webhooks["KeySchema"]] == ["pk", "sk"]
    ttl = dynamodb.describe_time_to_live(TableName=stack.ref("IdempotencyTable"))["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expiration"


def test_the_sample_sqs_batch_is_a_valid_delivery_input(handlers, queues):
    from devstack.lambdas import LambdaContext

    # Its webhook does not exist here: the record is consumed (dropped), not failed.
    assert handlers["delivery"](sample("delivery-sqs-batch.json"), LambdaContext("DeliveryFunction")) == {
        "batchItemFailures": []
    }


def test_the_rule_invokes_the_fanout_asynchronously_with_the_templates_on_failure_queue(stack, queues):
    (source,) = [source for source in stack.sources if source.kind == "rule"]
    assert (source.function, source.retries, source.on_failure_url) == ("FanoutFunction", 2, queues["FanoutDLQ"])
    tap = boto3.client("sqs").get_queue_attributes(QueueUrl=source.queue_url, AttributeNames=["All"])["Attributes"]
    assert "RedrivePolicy" not in tap  # function errors are Lambda's to retry, not the tap's
    assert int(tap["VisibilityTimeout"]) > 3 * 30  # three invocations of the fan-out's timeout
    rule = stack.physical["FanoutFunctionBlueEvents"]["Ref"]
    (target,) = boto3.client("events").list_targets_by_rule(Rule=rule, EventBusName="blue-events")["Targets"]
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 185  # the hand-off's, as the template says
    assert target["DeadLetterConfig"]["Arn"].endswith(":blue-webhooks-local-FanoutDLQ")
