"""The local stack builds template.yaml's resources, with the template's settings, on the emulator."""

import json
import tomllib

import boto3
import pytest

from devstack.stack import REGION, create_host_bus, instances
from devstack.template import ROOT, LocalStack, RuleFailed, load_template
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


HOST_BUS = "host-app-bus"


@pytest.fixture(scope="module")
def attached(stack):
    """A second stack on the same emulator, attached to the host app's bus, with concurrency caps."""
    parameters = {
        "ExistingEventBusName": HOST_BUS,
        "FanoutReservedConcurrency": "1",
        "DeliveryMaxConcurrency": "2",
    }
    create_host_bus(HOST_BUS)
    return LocalStack(load_template(), parameters, REGION, name="blue-webhooks-attached").provision()


def test_an_existing_bus_is_attached_to_not_created(attached):
    assert "EventBus" not in attached.physical  # its condition (CreateBus) is false
    buses = {bus["Name"] for bus in boto3.client("events").list_event_buses()["EventBuses"]}
    assert "blue-events" in buses  # the first stack's, created; no other bus of ours
    (rule,) = boto3.client("events").list_rules(EventBusName=HOST_BUS)["Rules"]
    assert rule["Name"] == "blue-webhooks-attached-blue-events"  # the template's RuleName, as the alarms expect
    assert attached.function_environment("DeliveryFunction")["EVENT_BUS_NAME"] == HOST_BUS
    assert attached.output("EventBusArn").endswith(f":event-bus/{HOST_BUS}")


def test_local_pollers_are_no_more_than_the_concurrency_lambda_allows(stack, attached):
    def concurrency(local: LocalStack) -> dict[str, int]:
        return {source.function: instances(source) for source in local.sources}

    # Defaults: DeliveryMaxConcurrency 100 and no reservation; the local instance counts apply.
    assert concurrency(stack) == {"FanoutFunction": 2, "DeliveryFunction": 4, "RetryFunction": 4}
    assert concurrency(attached) == {"FanoutFunction": 1, "DeliveryFunction": 2, "RetryFunction": 4}


@pytest.mark.parametrize(
    ("parameters", "refused"),
    [
        ({"Stage": "prod", "AllowHttp": "true"}, "AllowHttp"),
        ({"Stage": "prod", "AllowPrivateTargets": "true"}, "AllowPrivateTargets"),
        ({"ExistingEventBusName": "default"}, "custom bus"),
        ({"Stage": "prod"}, None),
        ({"Stage": "dev", "AllowHttp": "true", "AllowPrivateTargets": "true"}, None),
    ],
)
def test_the_templates_rules_refuse_what_cloudformation_would(parameters, refused):
    local = LocalStack(load_template(), parameters, REGION)
    if refused is None:
        local.check_rules()
    else:
        with pytest.raises(RuleFailed, match=refused):
            local.check_rules()


def test_each_deploy_environment_has_its_own_names_and_passes_the_rules():
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    template = load_template()
    names = set()
    for env in ("default", "staging", "prod"):
        line = config[env]["deploy"]["parameters"]["parameter_overrides"]
        overrides = dict(item.split("=", 1) for item in line.split())
        assert set(overrides) <= set(template["Parameters"]), env
        LocalStack(template, overrides, REGION).check_rules()
        names |= {overrides["EventBusName"], overrides["JwtSecretParameterName"]}
    assert len(names) == 6  # no two stages share a bus or a token key


LIMITS = {
    "TestPingsPerMinute": "TEST_PINGS_PER_MINUTE",
    "RetriesPerMinute": "RETRIES_PER_MINUTE",
    "RecoversPerMinute": "RECOVERS_PER_MINUTE",
    "ManualDeliveriesPerMinute": "MANUAL_DELIVERIES_PER_MINUTE",
}


def test_the_api_gets_the_per_company_limits_and_their_table(stack, attached):
    given = stack.function_environment("ApiFunction")
    assert {parameter: given[variable] for parameter, variable in LIMITS.items()} == {
        parameter: PARAMETERS[parameter] for parameter in LIMITS
    }
    defaults = attached.function_environment("ApiFunction")  # a stack given none of them: the template's defaults
    assert {parameter: defaults[variable] for parameter, variable in LIMITS.items()} == {
        parameter: str(load_template()["Parameters"][parameter]["Default"]) for parameter in LIMITS
    }
    assert given["LIMITS_TABLE"] == stack.ref("LimitsTable")
    ttl = boto3.client("dynamodb").describe_time_to_live(TableName=stack.ref("LimitsTable"))["TimeToLiveDescription"]
    assert (ttl["AttributeName"], ttl["TimeToLiveStatus"]) == ("expiresAt", "ENABLED")
