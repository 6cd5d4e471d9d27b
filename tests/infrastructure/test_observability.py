"""What the functions send to X-Ray and CloudWatch Logs, by EventTracing, and how DeliveryFunction's source
batches. Checked on the template as SAM's transforms leave it, with CloudFormation's conditions evaluated.

Lambda samples an Active function at a fixed rate no sampling rule changes (1 a second, then 5 %); a
PassThrough function is traced only when its caller's trace header says sampled, which an SQS source's
never does and an EventBridge rule's does when the producer's PutEvents call was traced."""

import pytest

from tests.infrastructure.deploy import processed, with_pseudo_parameters
from tests.infrastructure.test_egress import Stack

EVENT_FUNCTIONS = ("FanoutFunction", "DeliveryFunction", "RetryFunction")
# EventTracing → (Lambda's TracingConfig.Mode, POWERTOOLS_TRACE_DISABLED) of the event-driven functions.
TRACING = {
    "Disabled": ("PassThrough", "true"),
    "PassThrough": ("PassThrough", "false"),
    "Active": ("Active", "false"),
}
MODES = {
    "default": {},
    **{f"tracing-{value}": {"EventTracing": value} for value in TRACING},
    "batching-window": {"DeliveryBatchingWindowSeconds": "5"},
}


@pytest.fixture(scope="module")
def stacks(packaged) -> dict[str, Stack]:
    parameter_sets = [with_pseudo_parameters(mode, "blue-webhooks-dev") for mode in MODES.values()]
    templates = processed(packaged.first, parameter_sets)
    return {name: Stack(template, mode) for (name, mode), template in zip(MODES.items(), templates, strict=True)}


def tracing(stack: Stack, function: str) -> tuple[str, str]:
    properties = stack.properties(function)
    return properties["TracingConfig"]["Mode"], properties["Environment"]["Variables"]["POWERTOOLS_TRACE_DISABLED"]


@pytest.mark.parametrize("value", TRACING)
def test_event_functions_trace_as_event_tracing_says_and_the_api_always(stacks, value):
    stack = stacks[f"tracing-{value}"]
    assert {function: tracing(stack, function) for function in EVENT_FUNCTIONS} == dict.fromkeys(
        EVENT_FUNCTIONS, TRACING[value]
    )
    assert tracing(stack, "ApiFunction") == ("Active", "false")  # it follows API Gateway's sampling


def test_by_default_no_event_function_starts_a_trace_or_records_one(stacks):
    assert {function: tracing(stacks["default"], function) for function in EVENT_FUNCTIONS} == dict.fromkeys(
        EVENT_FUNCTIONS, TRACING["Disabled"]
    )


@pytest.mark.parametrize("value", ["PassThrough", "Active"])
def test_a_traced_function_may_write_its_segments(stacks, value):
    stack = stacks[f"tracing-{value}"]
    policies = {function: stack.properties(f"{function}Role")["ManagedPolicyArns"] for function in EVENT_FUNCTIONS}
    assert all(any(arn.endswith(":policy/AWSXrayWriteOnlyAccess") for arn in arns) for arns in policies.values())


def test_lambda_keeps_only_its_own_warnings_and_the_applications_info(stacks):
    stack = stacks["default"]
    functions = stack.existing("AWS::Lambda::Function")
    levels = {
        function: {
            key: stack.properties(function)["LoggingConfig"][key]
            for key in ("LogFormat", "ApplicationLogLevel", "SystemLogLevel")
        }
        for function in functions
    }
    assert len(functions) == 4
    expected = {"LogFormat": "JSON", "ApplicationLogLevel": "INFO", "SystemLogLevel": "WARN"}
    assert {function: level for function, level in levels.items() if level != expected} == {}


@pytest.mark.parametrize(("mode", "seconds"), [("default", 0), ("batching-window", 5)])
def test_delivery_source_waits_the_batching_window_and_retrys_never(stacks, mode, seconds):
    stack = stacks[mode]
    windows = {
        name: stack.properties(name).get("MaximumBatchingWindowInSeconds")
        for name in stack.existing("AWS::Lambda::EventSourceMapping")
    }
    assert {name: int(window) if window is not None else None for name, window in windows.items()} == {
        "DeliveryFunctionDeliveries": seconds,
        "RetryFunctionRetries": None,
    }
