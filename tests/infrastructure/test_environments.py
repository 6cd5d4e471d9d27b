"""Every samconfig environment deploys on a fresh account, and rolls back only what it deploys.

Each environment's template as CloudFormation would process it (SAM's transforms, its parameters).
"""

import re
from typing import Any

import pytest

from devstack.template import LocalStack, load_template
from tests.infrastructure.deploy import (
    REGION,
    live_versions,
    processed,
    resources,
    samconfig_parameters,
    stack_names,
    with_pseudo_parameters,
)

ENVIRONMENTS = samconfig_parameters()
STACKS = stack_names()


@pytest.fixture(scope="module")
def stacks(packaged) -> dict[str, dict[str, Any]]:
    parameter_sets = [with_pseudo_parameters(ENVIRONMENTS[name], STACKS[name]) for name in ENVIRONMENTS]
    return dict(zip(ENVIRONMENTS, processed(packaged.first, parameter_sets), strict=True))


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_each_environments_parameters_are_ones_cloudformation_accepts(environment):
    template = load_template()
    declared = template["Parameters"]
    assert set(ENVIRONMENTS[environment]) - set(declared) == set(), "overrides of parameters the template lacks"
    for name, value in ENVIRONMENTS[environment].items():
        spec = declared[name]
        assert "AllowedValues" not in spec or value in map(str, spec["AllowedValues"]), name
        assert spec["Type"] != "Number" or spec.get("MinValue", -1e18) <= float(value) <= spec.get("MaxValue", 1e18), (
            name
        )
        assert re.fullmatch(spec.get("AllowedPattern", ".*"), value), name
    LocalStack(template, ENVIRONMENTS[environment], REGION).check_rules()  # raises RuleFailed as CloudFormation would


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_api_stage_waits_for_the_accounts_logging_role(stacks, environment):
    """A fresh account has no API Gateway logging role: a stage with access logs fails without one
    ("CloudWatch Logs role ARN must be set in account settings to enable logging")."""
    template = stacks[environment]
    parameters = {
        **{n: str(s.get("Default", "")) for n, s in template["Parameters"].items()},
        **ENVIRONMENTS[environment],
    }
    assert LocalStack(template, parameters, REGION).condition(template["Resources"]["ApiGatewayAccount"]["Condition"])
    for stage in resources(template, "AWS::ApiGateway::Stage"):
        assert "ApiGatewayAccount" in dependencies(template, stage), f"{stage} may be created before the account's role"


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_no_concurrency_is_reserved_so_a_new_accounts_quota_accepts_the_functions(stacks, environment):
    """Lambda keeps 100 of the account's concurrency unreserved; a new account's quota is often 10 or 50."""
    reserved = {
        name: function["Properties"]["ReservedConcurrentExecutions"]
        for name, function in resources(stacks[environment], "AWS::Lambda::Function").items()
        if "ReservedConcurrentExecutions" in function["Properties"]
    }
    assert reserved == {}


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_queues_outlast_six_of_their_functions_timeouts(stacks, environment):
    """AWS: an SQS source's visibility timeout at least six times the function's timeout."""
    template = stacks[environment]
    for mapping in resources(template, "AWS::Lambda::EventSourceMapping").values():
        queue = template["Resources"][mapping["Properties"]["EventSourceArn"]["Fn::GetAtt"][0]]
        target = template["Resources"][mapping["Properties"]["FunctionName"]["Ref"]]  # the `live` alias
        function = template["Resources"][target["Properties"]["FunctionName"]["Ref"]]
        assert queue["Properties"]["VisibilityTimeout"] >= 6 * int(function["Properties"]["Timeout"])
        assert 2 <= int(mapping["Properties"]["ScalingConfig"]["MaximumConcurrency"]) <= 1000


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_rollback_alarms_count_only_the_errors_of_the_version_being_deployed(stacks, environment):
    """SAM's pattern: dimensions FunctionName, Resource (function:alias) and ExecutedVersion (the new one)."""
    template = stacks[environment]
    versions = live_versions(template)
    for alias in resources(template, "AWS::Lambda::Alias").values():
        function = alias["Properties"]["FunctionName"]["Ref"]
        group = alias["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]["DeploymentGroupName"]["Ref"]
        alarms = template["Resources"][group]["Properties"]["AlarmConfiguration"]["Alarms"]
        assert alarms, f"{function} deploys without a rollback alarm"
        for alarm in alarms:
            dimensions = {
                d["Name"]: d["Value"] for d in template["Resources"][alarm["Name"]["Ref"]]["Properties"]["Dimensions"]
            }
            assert dimensions.keys() == {"FunctionName", "Resource", "ExecutedVersion"}
            assert dimensions["FunctionName"] == {"Ref": function}
            assert sub_text(dimensions["Resource"]) == f"${{{function}}}:live"
            assert dimensions["ExecutedVersion"] == {"Fn::GetAtt": [versions[function], "Version"]}


def sub_text(value: Any) -> Any:
    """An Fn::Sub's text. SAM CLI's AWS::LanguageExtensions drops the Fn::Sub around references it cannot
    resolve (resources) and leaves the text; CloudFormation's keeps the Fn::Sub."""
    return value["Fn::Sub"] if isinstance(value, dict) and "Fn::Sub" in value else value


def dependencies(template: dict[str, Any], logical_id: str, seen: set[str] | None = None) -> set[str]:
    """Every resource CloudFormation creates before this one: DependsOn, Ref, GetAtt and Sub, anywhere in it."""
    seen = set() if seen is None else seen
    resource = template["Resources"][logical_id]
    depends_on = resource.get("DependsOn", [])
    direct = ({depends_on} if isinstance(depends_on, str) else set(depends_on)) | _references(template, resource)
    for name in direct - seen:
        seen.add(name)
        dependencies(template, name, seen)
    return seen


def _references(template: dict[str, Any], value: Any) -> set[str]:
    if isinstance(value, list):
        return set().union(set(), *(_references(template, item) for item in value))
    if isinstance(value, str):
        return {name.split(".")[0] for name in re.findall(r"\$\{([^}!]+)\}", value)} & set(template["Resources"])
    if not isinstance(value, dict):
        return set()
    found = set().union(set(), *(_references(template, item) for key, item in value.items() if key != "DependsOn"))
    if isinstance(value.get("Ref"), str):
        found.add(value["Ref"])
    if "Fn::GetAtt" in value:
        found.add(value["Fn::GetAtt"][0])
    return found & set(template["Resources"])
