"""EgressMode: Direct leaves DeliveryFunction outside any VPC; StaticIps wires it through a NAT gateway
and Elastic IP per AZ, and the stack outputs those IPs. Checked on the template as SAM's transforms leave
it, with CloudFormation's conditions evaluated (only those: nothing here creates or calls anything)."""

from typing import Any

import pytest

from devstack.template import LocalStack, load_template
from tests.infrastructure.deploy import REGION, processed, resources, with_pseudo_parameters

MODES = {
    "direct": {"EgressMode": "Direct"},
    "one-az": {"EgressMode": "StaticIps", "EgressAzCount": "1"},
    "two-az": {"EgressMode": "StaticIps"},
    "three-az": {"EgressMode": "StaticIps", "EgressAzCount": "3"},
}
NO_VALUE = {"Ref": "AWS::NoValue"}


class Stack:
    """One mode's processed template; `chosen` settles Fn::If and AWS::NoValue, and nothing else."""

    def __init__(self, template: dict[str, Any], mode: dict[str, str]):
        defaults = {name: str(spec.get("Default", "")) for name, spec in template["Parameters"].items()}
        self.conditions = LocalStack(template, {**defaults, **mode}, REGION)
        self.resources = template["Resources"]
        # As written: the SAM CLI's stand-in for AWS::LanguageExtensions flattens an output's Fn::Join of
        # Refs into text, which CloudFormation's does not (it leaves Fn::Join to CloudFormation).
        self.outputs = load_template()["Outputs"]

    def chosen(self, value: Any) -> Any:
        if isinstance(value, list):
            return [item for item in map(self.chosen, value) if item != NO_VALUE]
        if isinstance(value, dict) and set(value) == {"Fn::If"}:
            name, when_true, when_false = value["Fn::If"]
            return self.chosen(when_true if self.conditions.condition(name) else when_false)
        if isinstance(value, dict):
            return {key: self.chosen(item) for key, item in value.items() if self.chosen(item) != NO_VALUE}
        return value

    def existing(self, kind: str) -> list[str]:
        return sorted(name for name in resources({"Resources": self.resources}, kind) if self.exists(name))

    def exists(self, name: str) -> bool:
        condition = self.resources[name].get("Condition")
        return condition is None or self.conditions.condition(condition)

    def properties(self, name: str) -> dict[str, Any]:
        return self.chosen(self.resources[name].get("Properties", {}))


@pytest.fixture(scope="module")
def stacks(packaged) -> dict[str, Stack]:
    parameter_sets = [with_pseudo_parameters(mode, "blue-webhooks-dev") for mode in MODES.values()]
    templates = processed(packaged.first, parameter_sets)
    return {name: Stack(template, mode) for (name, mode), template in zip(MODES.items(), templates, strict=True)}


def test_direct_egress_has_no_vpc_and_no_egress_ips(stacks):
    stack = stacks["direct"]
    assert "VpcConfig" not in stack.properties("DeliveryFunction")
    assert stack.existing("AWS::EC2::VPC") == stack.existing("AWS::EC2::EIP") == []
    assert not stack.conditions.condition(stack.outputs["EgressIps"]["Condition"])


@pytest.mark.parametrize(("mode", "zones"), [("one-az", 1), ("two-az", 2), ("three-az", 3)])
def test_static_egress_leaves_through_one_nat_gateway_and_elastic_ip_per_az(stacks, mode, zones):
    stack = stacks[mode]
    ips, nats = stack.existing("AWS::EC2::EIP"), stack.existing("AWS::EC2::NatGateway")
    assert len(ips) == len(nats) == zones
    vpc = stack.properties("DeliveryFunction")["VpcConfig"]
    assert vpc["SecurityGroupIds"] == [{"Ref": "EgressSecurityGroup"}]
    private = [subnet["Ref"] for subnet in vpc["SubnetIds"]]
    assert len(set(private)) == zones and all(stack.exists(subnet) for subnet in private)
    associations = [stack.properties(name) for name in stack.existing("AWS::EC2::SubnetRouteTableAssociation")]
    routes = [stack.properties(name) for name in stack.existing("AWS::EC2::Route")]
    used_ips = set()
    for subnet in private:  # a private subnet's only way out: the NAT gateway of its own AZ
        (table,) = [link["RouteTableId"]["Ref"] for link in associations if link["SubnetId"]["Ref"] == subnet]
        (route,) = [route for route in routes if route["RouteTableId"]["Ref"] == table]
        assert route["DestinationCidrBlock"] == "0.0.0.0/0" and "GatewayId" not in route
        nat = stack.properties(route["NatGatewayId"]["Ref"])
        used_ips.add(nat["AllocationId"]["Fn::GetAtt"][0])
        zone = stack.properties(nat["SubnetId"]["Ref"])["AvailabilityZone"]
        assert zone == stack.properties(subnet)["AvailabilityZone"]
    assert sorted(used_ips) == ips
    assert stack.conditions.condition(stack.outputs["EgressIps"]["Condition"])
    listed = stack.chosen(stack.outputs["EgressIps"]["Value"])["Fn::Join"][1]
    assert sorted(ip["Ref"] for ip in listed) == ips  # an Elastic IP's Ref is its address
    role = stack.properties("DeliveryFunctionRole")
    assert any("AWSLambdaVPCAccessExecutionRole" in str(arn) for arn in role["ManagedPolicyArns"])
