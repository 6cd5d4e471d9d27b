"""Read template.yaml and create its resources on the emulator, resolving CloudFormation intrinsics.

Only what runs locally is created: tables, queues, buses, and for each function its event
sources (rules feed a tap queue that the local stack drains into the function; SQS sources
are polled). Everything else (IAM, the layer, API Gateway, log groups, alarms, the dashboard,
SNS, CodeDeploy) has no local counterpart. Conditions and the template's Rules are evaluated as
CloudFormation does: a resource whose condition is false is not created, and a failed rule
refuses the parameters.
"""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import yaml

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT_ID = "123456789012"
_SUB_VARIABLE = re.compile(r"\$\{([^}!]+)\}")
NO_VALUE = object()  # AWS::NoValue: the property (or list item) holding it is left out


class _CfnLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """YAML loader that turns CloudFormation short tags (!Ref, !GetAtt, ...) into long form.

    libyaml's safe loader where PyYAML has it (its wheels do): about 7 times faster on template.yaml, which
    every local stack and many tests read."""


def _construct_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"  # the two without "Fn::"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path = ROOT / "template.yaml") -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 - a safe loader's subclass


class UnsupportedTemplate(ValueError):
    """A template setting the local stack cannot reproduce faithfully: refused, never approximated."""


class RuleFailed(ValueError):
    """Parameters that one of the template's Rules refuses, as CloudFormation would refuse the stack."""


@dataclass
class EventSource:
    """A function's trigger as the local stack drives it."""

    kind: str  # "rule" (EventBridge rule → tap queue) or "sqs"
    function: str
    queue_url: str
    queue_arn: str
    batch_size: int = 10
    report_item_failures: bool = False
    # rule: Lambda's asynchronous invocation, from the function's EventInvokeConfig
    retries: int = 2
    on_failure_url: str | None = None
    # At most this many invocations at once: the SQS source's MaximumConcurrency and the
    # function's reserved concurrency, whichever is lower (None: neither is set).
    max_concurrency: int | None = None


@dataclass
class LocalStack:
    template: dict[str, Any]
    parameters: dict[str, str]
    region: str
    name: str = "blue-webhooks-local"
    physical: dict[str, dict[str, Any]] = field(default_factory=dict)  # logical id -> Ref and attributes
    sources: list[EventSource] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.sqs = boto3.client("sqs", region_name=self.region)
        self.dynamodb = boto3.client("dynamodb", region_name=self.region)
        self.events = boto3.client("events", region_name=self.region)
        self.kms = boto3.client("kms", region_name=self.region)
        self.s3 = boto3.client("s3", region_name=self.region)

    # -- intrinsics -------------------------------------------------------------------------

    def parameter(self, name: str) -> Any:
        spec = self.template["Parameters"][name]
        value = self.parameters.get(name, str(spec.get("Default", "")))
        return [part.strip() for part in value.split(",")] if spec["Type"] == "CommaDelimitedList" else value

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        pseudo = {
            "AWS::Region": self.region,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::StackName": self.name,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.template.get("Parameters", {}):
            return self.parameter(name)
        return self.create(name)["Ref"]

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [item for item in (self.resolve(item) for item in value) if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) != 1:
            resolved = {key: self.resolve(item) for key, item in value.items()}
            return {key: item for key, item in resolved.items() if item is not NO_VALUE}
        ((key, arg),) = value.items()
        if key == "Ref":
            return self.ref(arg)
        if key == "Fn::If":
            name, when_true, when_false = arg
            return self.resolve(when_true if self.condition(name) else when_false)
        if key == "Fn::Split":
            return str(self.resolve(arg[1])).split(self.resolve(arg[0]))
        if key == "Fn::GetAtt":
            logical_id, attribute = arg
            return self.create(logical_id)[attribute]
        if key == "Fn::Join":
            return self.resolve(arg[0]).join(str(part) for part in self.resolve(arg[1]))
        if key == "Fn::FindInMap":
            mapping, top, second = (str(self.resolve(part)) for part in arg)
            return self.template["Mappings"][mapping][top][second]
        if key == "Fn::ToJsonString":  # AWS::LanguageExtensions': compact JSON of the resolved value
            return json.dumps(self.resolve(arg), separators=(",", ":"))
        if key == "Fn::Length":
            return len(self.resolve(arg))
        if key == "Fn::Select":
            return self.resolve(arg[1])[int(self.resolve(arg[0]))]
        if key == "Fn::Sub":
            text, variables = arg if isinstance(arg, list) else (arg, {})
            values = {name: self.resolve(item) for name, item in variables.items()}
            return _SUB_VARIABLE.sub(lambda m: str(self._sub_variable(m.group(1), values)), text)
        return {key: self.resolve(arg)}

    def _sub_variable(self, name: str, values: dict[str, Any]) -> Any:
        if name in values:
            return values[name]
        if "." in name and not name.startswith("AWS::"):
            logical_id, attribute = name.split(".", 1)
            return self.create(logical_id)[attribute]
        return self.ref(name)

    # -- conditions and rules ----------------------------------------------------------------

    def condition(self, name: str) -> bool:
        return self.evaluate(self.template["Conditions"][name])

    def evaluate(self, expression: Any) -> bool:
        """A condition function (Fn::Equals, Fn::Not, Fn::And, Fn::Or, Condition) → True or False."""
        ((key, arg),) = expression.items()
        if key == "Condition":
            return self.condition(arg)
        if key == "Fn::Equals":
            left, right = (self.resolve(side) for side in arg)
            return str(left) == str(right)  # CloudFormation compares strings: a Number's "0" equals 0
        operands = [self.evaluate(operand) for operand in arg]
        return _CONDITION_FUNCTIONS[key](operands)

    def check_rules(self) -> None:
        """Refuse the parameters as CloudFormation does when an assertion of an applicable rule fails."""
        for name, rule in self.template.get("Rules", {}).items():
            if "RuleCondition" in rule and not self.evaluate(rule["RuleCondition"]):
                continue
            for assertion in rule["Assertions"]:
                if not self.evaluate(assertion["Assert"]):
                    raise RuleFailed(f"{name}: {assertion.get('AssertDescription', 'assertion failed')}")

    def exists(self, logical_id: str) -> bool:
        """False for a resource whose Condition is false: CloudFormation leaves it out."""
        condition = self.template["Resources"][logical_id].get("Condition")
        return condition is None or self.condition(condition)

    def output(self, name: str) -> Any:
        return self.resolve(self.template["Outputs"][name]["Value"])

    # -- resources --------------------------------------------------------------------------

    def provision(self) -> "LocalStack":
        self.check_rules()
        for logical_id in self.template["Resources"]:
            if self.exists(logical_id):
                self.create(logical_id)
        return self

    def create(self, logical_id: str) -> dict[str, Any]:
        """Create one resource (once), returning its Ref and attributes."""
        if logical_id not in self.physical:
            if not self.exists(logical_id):
                raise UnsupportedTemplate(f"{logical_id} is referenced, but its condition leaves it out")
            resource = self.template["Resources"][logical_id]
            creator = getattr(self, "_create_" + resource["Type"].replace("::", "_"), None)
            self.physical[logical_id] = (
                creator(logical_id, resource.get("Properties", {})) if creator else {"Ref": logical_id}
            )
        return self.physical[logical_id]

    def physical_name(self, logical_id: str) -> str:
        return f"{self.name}-{logical_id}"

    def arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{ACCOUNT_ID}:{resource}"

    def _create_AWS_DynamoDB_Table(self, logical_id: str, props: dict[str, Any]) -> dict[str, Any]:
        name = self.physical_name(logical_id)
        spec = {
            key: self.resolve(props[key])
            for key in (
                "AttributeDefinitions",
                "KeySchema",
                "GlobalSecondaryIndexes",
                "LocalSecondaryIndexes",
                "BillingMode",
            )
            if key in props
        }
        self.dynamodb.create_table(TableName=name, **spec)
        if ttl := props.get("TimeToLiveSpecification"):
            self.dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=self.resolve(ttl))
        return {"Ref": name, "Arn": self.arn("dynamodb", f"table/{name}")}

    def _create_AWS_SQS_Queue(self, logical_id: str, props: dict[str, Any]) -> dict[str, Any]:
        return self.queue(self.physical_name(logical_id), self.resolve(props))

    def queue(self, name: str, props: dict[str, Any]) -> dict[str, Any]:
        attributes = {
            key: json.dumps(props[key]) if isinstance(props[key], dict) else str(props[key])
            for key in (
                "VisibilityTimeout",
                "MessageRetentionPeriod",
                "MaximumMessageSize",
                "RedrivePolicy",
                "DelaySeconds",
            )
            if key in props
        }
        url = self.sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        return {"Ref": url, "Arn": self.arn("sqs", name), "QueueName": name}

    def _create_AWS_S3_Bucket(self, logical_id: str, props: dict[str, Any]) -> dict[str, Any]:
        name = self.physical_name(logical_id).lower()  # bucket names are lower case
        self.s3.create_bucket(Bucket=name)
        if encryption := props.get("BucketEncryption"):
            # The API calls CloudFormation's ServerSideEncryptionByDefault ApplyServerSideEncryptionByDefault.
            rules = [
                {"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"]}
                for rule in self.resolve(encryption)["ServerSideEncryptionConfiguration"]
            ]
            self.s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules})
        if block := props.get("PublicAccessBlockConfiguration"):
            self.s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=self.resolve(block))
        if lifecycle := props.get("LifecycleConfiguration"):
            rules = [_lifecycle_rule(rule) for rule in self.resolve(lifecycle)["Rules"]]
            self.s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": rules})
        return {"Ref": name, "Arn": f"arn:aws:s3:::{name}"}

    def _create_AWS_KMS_Key(self, logical_id: str, props: dict[str, Any]) -> dict[str, Any]:
        key = self.kms.create_key(Description=self.resolve(props.get("Description", logical_id)))["KeyMetadata"]
        return {"Ref": key["KeyId"], "Arn": key["Arn"], "KeyId": key["KeyId"]}

    def _create_AWS_Events_EventBus(self, logical_id: str, props: dict[str, Any]) -> dict[str, Any]:
        name = self.resolve(props["Name"])
        if name != "default":
            self.events.create_event_bus(Name=name)
        return {"Ref": name, "Name": name, "Arn": self.arn("events", f"event-bus/{name}")}

    def _create_AWS_Serverless_Function(self, logical_id: str, props: dict[str, Any]) -> dict[str, Any]:
        for event_name, event in props.get("Events", {}).items():
            spec = event.get("Properties", {})
            if event["Type"] == "EventBridgeRule":
                self._rule_tap(logical_id, event_name, spec)
            elif event["Type"] == "SQS":
                queue_arn = self.resolve(spec["Queue"])
                queue = self._queue(queue_arn)
                self.sources.append(
                    EventSource(
                        kind="sqs",
                        function=logical_id,
                        queue_url=queue["Ref"],
                        queue_arn=queue_arn,
                        batch_size=int(self.resolve(spec.get("BatchSize", 10))),
                        report_item_failures="ReportBatchItemFailures" in spec.get("FunctionResponseTypes", []),
                        max_concurrency=self._max_concurrency(logical_id, spec),
                    )
                )
        return {"Ref": logical_id, "Arn": self.arn("lambda", f"function:{logical_id}")}

    def _max_concurrency(self, function: str, spec: dict[str, Any]) -> int | None:
        """Lambda never runs more invocations than the source's MaximumConcurrency or the function's reservation."""
        caps = [
            self.resolve(spec.get("ScalingConfig", {})).get("MaximumConcurrency"),
            self.resolve(self.function_property(function, "ReservedConcurrentExecutions")),
        ]
        return min((int(cap) for cap in caps if cap not in (None, NO_VALUE)), default=None)

    def _queue(self, arn: str) -> dict[str, Any]:
        return next(p for p in self.physical.values() if p.get("Arn") == arn)

    def _rule_tap(self, function: str, event_name: str, spec: dict[str, Any]) -> None:
        """The rule of the template, targeting a tap queue that stands in for Lambda's queue of
        asynchronous invocations: the local stack invokes the function for each tap message with
        Lambda's retries and OnFailure destination (devstack.asynchronous).

        The rule's RetryPolicy and DeadLetterConfig cover only handing the event to Lambda, which
        cannot fail locally; they are set on the target as the template says, and do nothing here.
        """
        bus = self.resolve(spec.get("EventBusName", "default"))
        rule_name = self.resolve(spec.get("RuleName", self.physical_name(f"{function}{event_name}")))
        retries, on_failure_url = self._async_invoke_config(function)
        timeout = int(self.resolve(self.function_property(function, "Timeout", 3)))
        # Never visible again while its invocations (and the short local waits between them) run.
        tap = self.queue(f"{rule_name}-tap", {"VisibilityTimeout": (retries + 1) * timeout + 60})
        target = {"Id": "tap", "Arn": tap["Arn"]}
        target.update((key, self.resolve(spec[key])) for key in ("RetryPolicy", "DeadLetterConfig") if key in spec)
        self.events.put_rule(Name=rule_name, EventBusName=bus, EventPattern=json.dumps(self.resolve(spec["Pattern"])))
        self.events.put_targets(Rule=rule_name, EventBusName=bus, Targets=[target])
        self.physical[f"{function}{event_name}"] = {"Ref": rule_name, "Arn": self.arn("events", f"rule/{rule_name}")}
        concurrency = self._max_concurrency(function, {})
        self.sources.append(
            EventSource(
                "rule",
                function,
                tap["Ref"],
                tap["Arn"],
                batch_size=1,
                retries=retries,
                on_failure_url=on_failure_url,
                max_concurrency=concurrency,
            )
        )

    def _async_invoke_config(self, function: str) -> tuple[int, str | None]:
        """Lambda's retries of a failed asynchronous invocation (default 2), and the OnFailure queue (SQS only)."""
        config = self.function_property(function, "EventInvokeConfig", {})
        on_failure = config.get("DestinationConfig", {}).get("OnFailure")
        if on_failure and (on_failure.get("Type") != "SQS" or "Destination" not in on_failure):
            raise UnsupportedTemplate(f"{function}: the local stack supports only an SQS OnFailure Destination")
        url = self._queue(self.resolve(on_failure["Destination"]))["Ref"] if on_failure else None
        return int(config.get("MaximumRetryAttempts", 2)), url

    # -- functions --------------------------------------------------------------------------

    def functions(self) -> dict[str, dict[str, Any]]:
        return {
            logical_id: resource["Properties"]
            for logical_id, resource in self.template["Resources"].items()
            if resource["Type"] == "AWS::Serverless::Function"
        }

    def function_environment(self, logical_id: str) -> dict[str, str]:
        shared = self.template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
        own = self.functions()[logical_id].get("Environment", {}).get("Variables", {})
        return {key: str(self.resolve(value)) for key, value in {**shared, **own}.items()}

    def function_property(self, logical_id: str, name: str, default: Any = None) -> Any:
        """A function's property, else the template's Globals, as SAM resolves it."""
        shared = self.template.get("Globals", {}).get("Function", {})
        return self.functions()[logical_id].get(name, shared.get(name, default))

    def layer_paths(self, logical_id: str) -> list[Path]:
        layers = self.function_property(logical_id, "Layers", [])
        return [ROOT / self.template["Resources"][layer["Ref"]]["Properties"]["ContentUri"] for layer in layers]

    def handler_path(self, logical_id: str) -> tuple[Path, str]:
        props = self.functions()[logical_id]
        module, function = props["Handler"].rsplit(".", 1)
        return ROOT / props["CodeUri"] / f"{module.replace('.', '/')}.py", function

    def api_function(self) -> str:
        return next(
            logical_id
            for logical_id, props in self.functions().items()
            if any(event["Type"] == "Api" for event in props.get("Events", {}).values())
        )


_CONDITION_FUNCTIONS = {
    "Fn::Not": lambda operands: not operands[0],
    "Fn::And": all,
    "Fn::Or": any,
}


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A CloudFormation lifecycle rule in the S3 API's shape (the emulator keeps it; it expires nothing)."""
    return {
        "ID": rule.get("Id", "rule"),
        "Status": rule["Status"],
        "Filter": {"Prefix": rule.get("Prefix", "")},
        "Expiration": {"Days": int(rule["ExpirationInDays"])},
    }
