"""What `sam deploy` puts live: a Version of every function, new exactly when the function would change.

SAM names each function's Version after a hash of what it knows before CloudFormation resolves anything;
a new name is a new Version, which the `live` alias (every trigger's target) then points to. Each
samconfig environment is processed with its own parameters.
"""

import math
import re
from collections.abc import Iterator
from typing import Any

import pytest

from devstack.template import LocalStack, RuleFailed, load_template
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
# What a Version holds: the function's code and configuration (SAM's names). Concurrency, tags, the role's
# policies, event sources and deployment settings are the function's or the alias's, not a Version's.
VERSIONED = {
    "CodeUri",
    "Handler",
    "Runtime",
    "Description",
    "MemorySize",
    "Timeout",
    "Environment",
    "Layers",
    "Tracing",
    "LoggingConfig",
    "Architectures",
    "EphemeralStorage",
    "VpcConfig",
    "KmsKeyArn",
    "DeadLetterQueue",
    "FileSystemConfigs",
    "SnapStart",
    "RuntimeManagementConfig",
}


def parameter_sets(overrides: list[dict[str, str]], environment: str) -> list[dict[str, Any]]:
    return [with_pseudo_parameters({**ENVIRONMENTS[environment], **extra}, STACKS[environment]) for extra in overrides]


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_a_deploy_that_changes_nothing_publishes_no_version(packaged, environment):
    first, again = (processed(path, parameter_sets([{}], environment))[0] for path in (packaged.first, packaged.again))
    assert live_versions(first) and live_versions(again) == live_versions(first)


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_a_deploy_that_changes_only_the_layer_publishes_a_version_of_every_function(packaged, environment):
    before, after = (
        processed(path, parameter_sets([{}], environment))[0] for path in (packaged.first, packaged.layer_changed)
    )
    functions = resources(before, "AWS::Lambda::Function")
    code = {
        name: (before["Resources"][name]["Properties"]["Code"], after["Resources"][name]["Properties"]["Code"])
        for name in functions
    }
    assert all(old == new for old, new in code.values()), "the change was not to the layer alone"
    print(f"\n{environment}: the Version each `live` alias points to, before and after a layer-only change")
    for function, version in sorted(live_versions(before).items()):
        print(f"  {function}: {version} -> {live_versions(after)[function]}")
    unchanged = {name for name, version in live_versions(before).items() if live_versions(after)[name] == version}
    assert set(live_versions(before)) == set(functions) and unchanged == set()


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_a_new_value_of_any_parameter_a_function_uses_publishes_a_new_version_of_it(packaged, environment):
    source = load_template(packaged.first)
    used = {function: parameters_used(source, function) for function in resources(source, "AWS::Serverless::Function")}
    changes = dict(deployable_changes(source, environment))  # a value a Rule refuses is never deployed
    base, *changed = processed(
        packaged.first, parameter_sets([{}, *({name: value} for name, value in changes.items())], environment)
    )
    stale = {
        name: sorted(
            function
            for function, parameters in used.items()
            if name in parameters and live_versions(template)[function] == live_versions(base)[function]
        )
        for name, template in zip(changes, changed, strict=True)
    }
    assert {name: functions for name, functions in stale.items() if functions} == {}
    assert used["DeliveryFunction"] >= {
        "DeliveryTimeoutSeconds",
        "RetrySchedule",
        "EventBusName",
        "ExistingEventBusName",
    }


def parameters_used(template: dict[str, Any], function: str) -> set[str]:
    """The parameters a function's configuration (its own properties and Globals') depends on: directly,
    through a condition, or through the name of a resource it references (a new name, a new resource)."""
    parts = (template.get("Globals", {}).get("Function", {}), template["Resources"][function]["Properties"])
    configuration = [{key: value for key, value in part.items() if key in VERSIONED} for part in parts]
    return _parameters(template, configuration, set())


def _parameters(template: dict[str, Any], value: Any, seen: set[str]) -> set[str]:
    if isinstance(value, list):
        return set().union(set(), *(_parameters(template, item, seen) for item in value))
    if not isinstance(value, dict):
        return set()
    found = set().union(set(), *(_parameters(template, item, seen) for item in value.values()))
    names: list[str] = []
    if "Ref" in value:
        names = [value["Ref"]]
    elif "Fn::GetAtt" in value:
        names = [value["Fn::GetAtt"][0]]
    elif "Fn::Sub" in value:
        text = value["Fn::Sub"][0] if isinstance(value["Fn::Sub"], list) else value["Fn::Sub"]
        names = [name.split(".")[0] for name in re.findall(r"\$\{([^}!]+)\}", text)]
    elif "Fn::If" in value:
        found |= _parameters(template, template["Conditions"][value["Fn::If"][0]], seen)
    elif "Condition" in value and isinstance(value["Condition"], str):
        found |= _parameters(template, template["Conditions"][value["Condition"]], seen)
    for name in names:
        if name in template.get("Parameters", {}):
            found.add(name)
        elif name in template["Resources"] and name not in seen:
            seen.add(name)
            resource = template["Resources"][name]
            naming = {key: item for key, item in resource.get("Properties", {}).items() if key.endswith("Name")}
            found |= _parameters(template, naming, seen)
            if "Condition" in resource:
                found |= _parameters(template, template["Conditions"][resource["Condition"]], seen)
    return found


def deployable_changes(template: dict[str, Any], environment: str) -> Iterator[tuple[str, str]]:
    """(parameter, another value) for every parameter that has one CloudFormation would accept here."""
    current = {name: str(spec.get("Default", "")) for name, spec in template["Parameters"].items()}
    current.update(ENVIRONMENTS[environment])
    for name, spec in template["Parameters"].items():
        value = another_value(spec, current[name])
        if value is None:
            continue
        try:
            LocalStack(load_template(), {**current, name: value}, REGION).check_rules()
        except RuleFailed:
            continue
        yield name, value


def another_value(spec: dict[str, Any], value: str) -> str | None:
    if "AllowedValues" in spec:
        return next((str(allowed) for allowed in spec["AllowedValues"] if str(allowed) != value), None)
    if spec["Type"] == "Number":
        number = int(value)
        return str(number + 1 if number + 1 <= spec.get("MaxValue", math.inf) else number - 1)
    if spec["Type"] == "CommaDelimitedList":
        return f"{value},1" if value else "1"
    changed = f"{value}x"
    return changed if re.fullmatch(spec.get("AllowedPattern", ".*"), changed) else None
