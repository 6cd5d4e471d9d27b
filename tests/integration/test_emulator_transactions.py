"""The emulator's transactions (devstack/motoserver.py keeps the items one touches, not copies of its tables):
a cancelled transaction leaves every item as it was, a committed one writes them all, as on AWS."""

import uuid

import boto3
import pytest
from botocore.exceptions import ClientError


@pytest.fixture
def table(stack):
    return stack.ref("LimitsTable")


def key(name: str) -> dict:
    return {"pk": {"S": name}}


def test_a_cancelled_transaction_puts_back_what_its_earlier_items_wrote(table):
    dynamodb, run = boto3.client("dynamodb"), uuid.uuid4().hex
    kept, deleted, created = f"TX#{run}#kept", f"TX#{run}#deleted", f"TX#{run}#created"
    dynamodb.put_item(TableName=table, Item={**key(kept), "n": {"N": "1"}})
    dynamodb.put_item(TableName=table, Item={**key(deleted), "n": {"N": "1"}})
    with pytest.raises(ClientError, match="TransactionCanceledException"):
        dynamodb.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": table,
                        "Key": key(kept),
                        "UpdateExpression": "SET n = :two",
                        "ExpressionAttributeValues": {":two": {"N": "2"}},
                    }
                },
                {"Delete": {"TableName": table, "Key": key(deleted)}},
                {"Put": {"TableName": table, "Item": {**key(created), "n": {"N": "1"}}}},
                {
                    "ConditionCheck": {
                        "TableName": table,
                        "Key": key(f"TX#{run}#absent"),
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        )
    read = {name: dynamodb.get_item(TableName=table, Key=key(name)).get("Item") for name in (kept, deleted, created)}
    assert read == {kept: {**key(kept), "n": {"N": "1"}}, deleted: {**key(deleted), "n": {"N": "1"}}, created: None}


def test_a_committed_transaction_writes_every_item(table):
    dynamodb, run = boto3.client("dynamodb"), uuid.uuid4().hex
    names = [f"TX#{run}#{number}" for number in range(3)]
    dynamodb.transact_write_items(
        TransactItems=[{"Put": {"TableName": table, "Item": {**key(name), "n": {"N": "7"}}}} for name in names]
    )
    assert all(dynamodb.get_item(TableName=table, Key=key(name))["Item"]["n"] == {"N": "7"} for name in names)
