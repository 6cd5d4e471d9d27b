"""Metrics reach CloudWatch at the functions' log level, and the failure-rate alarm fires when it should.

Lambda's log-level filtering (JSON log format): "If the level value field is invalid or missing, Lambda
assigns the log output the level INFO" (docs: monitoring-cloudwatchlogs-log-level). A metric is an EMF
line on stdout, which carries no level.
"""

import ast
import json
import operator
from collections.abc import Callable
from typing import Any

import pytest
from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from devstack.template import load_template
from tests.infrastructure.deploy import processed, resources, samconfig_parameters, stack_names, with_pseudo_parameters

ENVIRONMENTS = samconfig_parameters()
LEVELS = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"]  # Lambda's, least severe first


def lambda_keeps(line: str, application_log_level: str) -> bool:
    """Lambda's filter for an application log line of a JSON-format function."""
    try:
        level = str(json.loads(line).get("level", "INFO")).upper()
    except (ValueError, AttributeError):
        level = "INFO"
    level = level if level in LEVELS else "INFO"
    return LEVELS.index(level) >= LEVELS.index(application_log_level)


def metric_line() -> str:
    """A metric line as the functions print it (Powertools' EMF serialization)."""
    metrics = Metrics(namespace="BlueWebhooks", service="blue-webhooks-test")
    metrics.add_metric(name="DeliveriesRetry", unit=MetricUnit.Count, value=1)
    return json.dumps(metrics.serialize_metric_set())


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_every_functions_metric_lines_reach_cloudwatch(packaged, environment):
    parameters = with_pseudo_parameters(ENVIRONMENTS[environment], stack_names()[environment])
    (template,) = processed(packaged.first, [parameters])
    levels = {
        name: function["Properties"]["LoggingConfig"]
        for name, function in resources(template, "AWS::Lambda::Function").items()
    }
    assert {name: config["LogFormat"] for name, config in levels.items()} == dict.fromkeys(levels, "JSON")
    dropped = {
        name: c["ApplicationLogLevel"]
        for name, c in levels.items()
        if not lambda_keeps(metric_line(), c["ApplicationLogLevel"])
    }
    assert dropped == {}


def test_lambdas_filter_drops_level_less_lines_above_info():
    # The rule the test above relies on, both ways: a metric line is INFO to Lambda.
    assert lambda_keeps(metric_line(), "INFO") and not lambda_keeps(metric_line(), "WARN")
    assert lambda_keeps('{"level": "ERROR", "message": "x"}', "WARN")


# -- the failure-rate alarm's metric math, evaluated as CloudWatch documents it ------------------------
# A series is one value per period of the alarm's evaluation window, None where the metric has no data.
# Arithmetic and comparisons are per period and missing where an operand is missing (a division by zero
# too); FILL(s, v) gives v where s is missing; IF(c, a, b) is a where c is non-zero, b where it is zero,
# missing where c is. The alarm breaches in a period whose value passes the threshold; a missing value
# is treated as TreatMissingData says; it fires when all EvaluationPeriods breach (DatapointsToAlarm).

Series = list[float | None]
_OPERATORS: dict[type, Callable[[float, float], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.GtE: operator.ge,
    ast.Gt: operator.gt,
    ast.LtE: operator.le,
    ast.Lt: operator.lt,
    ast.Eq: operator.eq,
}


def _pointwise(function: Callable[..., float | None], *operands: Series) -> Series:
    return [None if None in values else function(*values) for values in zip(*operands, strict=True)]


def _per_period(op: Callable[[float, float], Any]) -> Callable[[float, float], float | None]:
    """An operator on one period's values: a comparison gives 1 or 0, a division by zero no value."""

    def apply(left: float, right: float) -> float | None:
        if op is operator.truediv and right == 0:
            return None
        return float(op(left, right))

    return apply


def evaluate(node: ast.expr, series: Callable[[str], Series], periods: int) -> Series:
    if isinstance(node, ast.Constant):
        return [float(node.value)] * periods
    if isinstance(node, ast.Name):
        return series(node.id)
    if isinstance(node, ast.BinOp):
        left, right = evaluate(node.left, series, periods), evaluate(node.right, series, periods)
        return _pointwise(_per_period(_OPERATORS[type(node.op)]), left, right)
    if isinstance(node, ast.Compare):
        (op,), (right,) = node.ops, node.comparators
        return _pointwise(
            _per_period(_OPERATORS[type(op)]),
            evaluate(node.left, series, periods),
            evaluate(right, series, periods),
        )
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        args = [evaluate(arg, series, periods) for arg in node.args]
        if node.func.id == "FILL":
            return [fill if value is None else value for value, fill in zip(args[0], args[1], strict=True)]
        if node.func.id == "IF":
            return [None if c is None else (a if c else b) for c, a, b in zip(*args, strict=True)]
    raise ValueError(f"not a function this evaluator implements: {ast.dump(node)}")


def alarm_fires(alarm: dict[str, Any], data: dict[str, Series]) -> bool:
    """Whether the alarm is in ALARM after these periods, `data` giving each metric's Sum per period."""
    queries = {query["Id"]: query for query in alarm["Metrics"]}
    periods = alarm["EvaluationPeriods"]

    def series(query_id: str) -> Series:
        query = queries[query_id]
        if "Expression" in query:
            return evaluate(ast.parse(query["Expression"], mode="eval").body, series, periods)
        return data.get(query["MetricStat"]["Metric"]["MetricName"], [None] * periods)

    (returned,) = [query_id for query_id, query in queries.items() if query.get("ReturnData", True)]
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["TreatMissingData"] == "notBreaching" and "DatapointsToAlarm" not in alarm
    return all(value is not None and value > alarm["Threshold"] for value in series(returned))


@pytest.mark.parametrize(
    ("scenario", "data", "fires"),
    [
        ("no traffic: no metric has data", {}, False),
        ("receivers down: every attempt fails, nothing delivered", {"DeliveriesRetry": [40, 40, 40]}, True),
        ("attempts out of tries only", {"DeliveriesExhausted": [25, 30, 25]}, True),
        ("healthy", {"DeliveriesDelivered": [200, 180, 210], "DeliveriesRetry": [5, 3, None]}, False),
        ("failing, but under 20 attempts", {"DeliveriesRetry": [10, 12, 19]}, False),
        ("failing in two periods of three", {"DeliveriesRetry": [40, None, 40]}, False),
        (
            "over half failed",
            {"DeliveriesDelivered": [15, 15, 15], "DeliveriesRetry": [10, 10, 10], "DeliveriesExhausted": [6, 6, 6]},
            True,
        ),
        ("half failed exactly", {"DeliveriesDelivered": [20, 20, 20], "DeliveriesRetry": [20, 20, 20]}, False),
        ("410 Gone is an answer", {"DeliveriesGone": [30, 30, 30], "DeliveriesRetry": [10, 10, 10]}, False),
    ],
)
def test_the_failure_rate_alarm_over_series_with_missing_data(scenario, data, fires):
    alarm = load_template()["Resources"]["DeliveryFailureRateAlarm"]["Properties"]
    assert (
        alarm_fires(alarm, {name: [None if v is None else float(v) for v in values] for name, values in data.items()})
        is fires
    ), scenario
