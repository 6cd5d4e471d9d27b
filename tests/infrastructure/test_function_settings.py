"""Each function's environment in template.yaml is exactly what its settings read: none missing (a cold start
would fail, naming it), none extra (a function given what it does not use, as the fan-out once was given the
secrets' key)."""

import pytest

from bluehooks.roots.api import ApiSettings
from bluehooks.roots.delivery import DeliverySettings
from bluehooks.roots.fanout import FanoutSettings
from bluehooks.roots.retry import RetrySettings
from bluehooks.roots.settings import FunctionSettings, Misconfigured
from devstack.template import load_template

SETTINGS: dict[str, type[FunctionSettings]] = {
    "ApiFunction": ApiSettings,
    "FanoutFunction": FanoutSettings,
    "DeliveryFunction": DeliverySettings,
    "RetryFunction": RetrySettings,
}
# Read by the runtime, botocore and Powertools, not by our settings; DEPLOYED_PARAMETERS names the Version.
NOT_SETTINGS = {"AWS_ENDPOINT_URL", "DEPLOYED_PARAMETERS"}


def variables(template: dict, function: str) -> set[str]:
    shared = template["Globals"]["Function"]["Environment"]["Variables"]
    own = template["Resources"][function]["Properties"].get("Environment", {}).get("Variables", {})
    return {name for name in {**shared, **own} if name not in NOT_SETTINGS and not name.startswith("POWERTOOLS_")}


def test_every_function_has_settings():
    template = load_template()
    functions = {name for name, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}
    assert functions == set(SETTINGS)


@pytest.mark.parametrize("function", SETTINGS)
def test_a_functions_environment_is_exactly_its_settings(function):
    assert variables(load_template(), function) == SETTINGS[function].variables()


def test_a_missing_variable_is_one_clear_error_naming_it():
    environment = {name: "x" for name in FanoutSettings.variables() - {"FANOUT_DLQ_URL"}}
    with pytest.raises(Misconfigured, match=r"^FanoutSettings: FANOUT_DLQ_URL: missing$"):
        FanoutSettings.from_env(environment)
