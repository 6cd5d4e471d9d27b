"""What IAM evaluates for one AWS call (in the emulator's process: it reads moto's backends).

One call may be several requests: a transaction is one action per item (TransactWriteItems needs
dynamodb:PutItem, UpdateItem, DeleteItem or ConditionCheckItem for each item), PutEvents one per
entry's bus. Batch calls are their base action (SendMessageBatch is sqs:SendMessage,
DeleteMessageBatch sqs:DeleteMessage). Resources are ARNs: a table or its index, a queue, a key
(an alias resolved to its key; Decrypt's key is the one in the ciphertext), a bus, a parameter.
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-api-permissions-reference.html
"""

import base64
import re
from collections.abc import Callable
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends
from moto.kms.models import kms_backends
from moto.kms.utils import _deserialize_ciphertext_blob

from devstack.iam import Request

_SQS_BASE_ACTIONS = {
    "SendMessageBatch": "SendMessage",
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
}
_TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}
_KEY_EQUALS = re.compile(r"(#?[\w.-]+)\s*=\s*(:[\w.-]+)")


def arn(service: str, region: str, resource: str) -> str:
    return f"arn:aws:{service}:{region}:{DEFAULT_ACCOUNT_ID}:{resource}"


def requests(service: str, action: str, parameters: dict[str, Any], region: str) -> list[Request]:
    """The requests IAM evaluates for the call; unknown services and actions name the resource "*"."""
    of = _SERVICES.get(service)
    return of(action, parameters, region) if of else [Request(f"{service}:{action}", "*")]


# -- DynamoDB -------------------------------------------------------------------------------


def _dynamodb(action: str, parameters: dict[str, Any], region: str) -> list[Request]:
    if action == "TransactWriteItems":
        return [
            _table_request(_TRANSACT_ACTIONS[kind], spec, region)
            for item in parameters.get("TransactItems", [])
            for kind, spec in item.items()
        ]
    if action == "TransactGetItems":
        return [_table_request("GetItem", item["Get"], region) for item in parameters.get("TransactItems", [])]
    if action in ("BatchGetItem", "BatchWriteItem"):
        return [
            Request(f"dynamodb:{action}", arn("dynamodb", region, f"table/{name}"))
            for name in parameters.get("RequestItems", {})
        ]
    return [_table_request(action, parameters, region)]


def _table_request(action: str, spec: dict[str, Any], region: str) -> Request:
    table = str(spec.get("TableName", ""))
    resource = arn("dynamodb", region, f"table/{table}") if table else "*"
    if index := spec.get("IndexName"):
        resource += f"/index/{index}"
    leading = _leading_key(table, spec, region)
    return Request(f"dynamodb:{action}", resource, {"dynamodb:leadingkeys": leading} if leading else {})


def _leading_key(table_name: str, spec: dict[str, Any], region: str) -> list[str]:
    """dynamodb:LeadingKeys: the partition key value the call names (Key, Item, or the key condition)."""
    try:
        hash_key = dynamodb_backends[DEFAULT_ACCOUNT_ID][region].get_table(table_name).hash_key_attr
    except Exception:  # no such table: the call fails on its own, after IAM
        return []
    item = spec.get("Key") or spec.get("Item")
    if isinstance(item, dict) and isinstance(item.get(hash_key), dict):
        return [str(next(iter(item[hash_key].values())))]
    names = spec.get("ExpressionAttributeNames") or {}
    values = spec.get("ExpressionAttributeValues") or {}
    for name, placeholder in _KEY_EQUALS.findall(str(spec.get("KeyConditionExpression", ""))):
        if names.get(name, name) == hash_key and isinstance(values.get(placeholder), dict):
            return [str(next(iter(values[placeholder].values())))]
    return []


# -- SQS, KMS, EventBridge, SSM -----------------------------------------------------------------


def _sqs(action: str, parameters: dict[str, Any], region: str) -> list[Request]:
    queue = str(parameters.get("QueueUrl") or parameters.get("QueueName") or "").rsplit("/", 1)[-1]
    resource = arn("sqs", region, queue) if queue else "*"
    return [Request(f"sqs:{_SQS_BASE_ACTIONS.get(action, action)}", resource)]


def _kms(action: str, parameters: dict[str, Any], region: str) -> list[Request]:
    backend = kms_backends[DEFAULT_ACCOUNT_ID][region]
    key_id = parameters.get("KeyId")
    try:
        if not key_id and action == "Decrypt":
            key_id = _deserialize_ciphertext_blob(base64.b64decode(parameters.get("CiphertextBlob", ""))).key_id
        resource = arn("kms", region, f"key/{backend.any_id_to_key_id(str(key_id))}") if key_id else "*"
    except Exception:  # an unknown alias or a bad blob: KMS answers NotFound or InvalidCiphertext after IAM
        resource = "*"
    context = parameters.get("EncryptionContext") or {}
    keys = {f"kms:encryptioncontext:{name}".lower(): [str(value)] for name, value in context.items()}
    keys["kms:encryptioncontextkeys"] = list(context)
    return [Request(f"kms:{action}", resource, keys)]


def _events(action: str, parameters: dict[str, Any], region: str) -> list[Request]:
    if action != "PutEvents":
        name = parameters.get("EventBusName") or parameters.get("Name") or "default"
        return [Request(f"events:{action}", _bus(str(name), region))]
    return [
        Request(
            "events:PutEvents",
            _bus(str(entry.get("EventBusName") or "default"), region),
            {"events:source": [str(entry.get("Source", ""))]},
        )
        for entry in parameters.get("Entries", [])
    ]


def _bus(name: str, region: str) -> str:
    return name if name.startswith("arn:") else arn("events", region, f"event-bus/{name}")


def _ssm(action: str, parameters: dict[str, Any], region: str) -> list[Request]:
    names = parameters.get("Names") or [parameters.get("Name") or parameters.get("Path")]
    return [
        Request(f"ssm:{action}", arn("ssm", region, f"parameter/{str(name).lstrip('/')}") if name else "*")
        for name in names
    ]


def _s3(action: str, parameters: dict[str, Any], region: str) -> list[Request]:
    """Object ARNs have no region or account: arn:aws:s3:::bucket/key."""
    path = "/".join(part for part in (parameters.get("Bucket"), parameters.get("Key")) if part)
    return [Request(f"s3:{action}", f"arn:aws:s3:::{path}" if path else "*")]


_SERVICES: dict[str, Callable[[str, dict[str, Any], str], list[Request]]] = {
    "dynamodb": _dynamodb,
    "sqs": _sqs,
    "kms": _kms,
    "events": _events,
    "ssm": _ssm,
    "s3": _s3,
}
