"""Data survives the stack: what holds durable data, or unlocks it, is kept when the stack goes or a resource
is replaced. Every resource type of the template is classified, so a new one cannot forget it."""

from devstack.template import load_template

# Types that hold data a person needs later, or the key that unlocks it.
DURABLE = {
    "AWS::DynamoDB::Table": "webhooks, sealed secrets, the delivery log, rate-limit counters",
    "AWS::KMS::Key": "unlocks the sealed signing secrets in the webhooks table",
    "AWS::S3::Bucket": "objects",
}
# Types whose loss a new stack makes good: configuration, wiring, and data that expires anyway.
TRANSIENT = {
    "AWS::Serverless::Function",
    "AWS::Serverless::LayerVersion",
    "AWS::Serverless::Api",
    "AWS::SQS::Queue",  # messages live 14 days at most; drain or redrive before deleting a stack
    "AWS::SQS::QueuePolicy",
    "AWS::Events::EventBus",
    "AWS::Events::EventBusPolicy",
    "AWS::Logs::LogGroup",  # kept LogRetentionDays at most
    "AWS::IAM::Role",
    "AWS::ApiGateway::Account",
    "AWS::CloudFormation::WaitConditionHandle",
    "AWS::SNS::Topic",
    "AWS::SNS::Subscription",
    "AWS::CloudWatch::Alarm",
    "AWS::CloudWatch::Dashboard",
    # Static egress (EgressMode=StaticIps): a network. Its Elastic IPs are addresses receivers allow, not data.
    "AWS::EC2::VPC",
    "AWS::EC2::Subnet",
    "AWS::EC2::RouteTable",
    "AWS::EC2::Route",
    "AWS::EC2::SubnetRouteTableAssociation",
    "AWS::EC2::InternetGateway",
    "AWS::EC2::VPCGatewayAttachment",
    "AWS::EC2::NatGateway",
    "AWS::EC2::EIP",
    "AWS::EC2::SecurityGroup",
    "AWS::EC2::VPCEndpoint",
}


def test_every_resource_type_is_classified_as_durable_or_not():
    types = {resource["Type"] for resource in load_template()["Resources"].values()}
    assert types - DURABLE.keys() - TRANSIENT == set(), "classify the new type: does it hold or unlock data?"


def test_every_durable_resource_is_retained_on_deletion_and_on_replacement():
    policies = {
        logical_id: (resource.get("DeletionPolicy"), resource.get("UpdateReplacePolicy"))
        for logical_id, resource in load_template()["Resources"].items()
        if resource["Type"] in DURABLE
    }
    assert policies and {name: kept for name, kept in policies.items() if kept != ("Retain", "Retain")} == {}


# What deployed stacks have, as CloudFormation would be asked to change it. A table's key schema changes only by
# replacing the table (a new, empty one: the retained old one is no longer read), and an index's key schema or
# projection not at all (DynamoDB can only add or drop an index, one per update, and CloudFormation fails the
# update otherwise). So a changed index is a new name, added in one release and the old one dropped in a later one.
DEPLOYED_KEYS = {
    "WebhooksTable": ([("pk", "HASH"), ("sk", "RANGE")], {}),
    "DeliveriesTable": (
        [("pk", "HASH"), ("sk", "RANGE")],
        {"ByCreated": ([("pk", "HASH"), ("createdAt", "RANGE")], ("ALL", []))},
    ),
    "LimitsTable": ([("pk", "HASH")], {}),
}  # IdempotencyTable left the template: its Retain policy keeps it, unread (docs/operations.md: delete it).


def _keys(schema: list[dict]) -> list[tuple[str, str]]:
    return [(key["AttributeName"], key["KeyType"]) for key in schema]


def test_a_deployed_table_keeps_its_keys_and_its_indexes_as_built():
    tables = {
        name: resource["Properties"]
        for name, resource in load_template()["Resources"].items()
        if resource["Type"] == "AWS::DynamoDB::Table"
    }
    built = {
        name: (
            _keys(table["KeySchema"]),
            {
                index["IndexName"]: (
                    _keys(index["KeySchema"]),
                    (index["Projection"]["ProjectionType"], index["Projection"].get("NonKeyAttributes", [])),
                )
                for index in table.get("GlobalSecondaryIndexes", [])
            },
        )
        for name, table in tables.items()
    }
    changed = {name: built.get(name) for name in DEPLOYED_KEYS if built.get(name) != DEPLOYED_KEYS[name]}
    assert changed == {}, "a table or index changed in place: add one under a new name, drop the old one later"
