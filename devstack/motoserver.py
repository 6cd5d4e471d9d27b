"""moto's server, with the limits AWS enforces and moto does not: run as `python -m devstack.motoserver`.

DynamoDB: each write (its condition, update and returned values) is one step, as on AWS: moto's threads
could interleave two conditional updates of one item. With AWS_FAULT_STALE_READ_SECONDS, an eventually
consistent GetItem or BatchGetItem answers each item as it was that long ago (AWS: such a read "might not
reflect the results of a recently completed write"); moto's reads are always current.

SQS: a standard queue holds at most SQS_INFLIGHT_LIMIT in-flight messages (received, not yet
deleted; AWS: about 120,000); past it, ReceiveMessage fails with OverLimit for every consumer
of the queue, as on AWS. Tests scale the limit down to show what a design does when it is hit.

IAM: each function's calls are evaluated against its role's policies (devstack.iam), which the
local stack installs with POST /_devstack/iam; a call signed with a role's access key that its
policies do not allow fails with AccessDenied, in AWS's shape. Other keys (the local stack's own,
a test's) act as the account's administrator. GET /_devstack/iam answers the grants used so far.

Calls: every signed AWS call it serves is counted by service, action and queue or table (what AWS
would bill: `make bench`'s cost section); GET /_devstack/calls answers the counts so far.

Owner: GET /_devstack/pid answers this process's id, so that the stack that started it knows it talks to its own
emulator, not to another program on the same port (LocalStack's default port is ours too).
"""

import contextlib
import copy
import io
import json
import logging
import os
import re
import sys
import threading
from dataclasses import asdict
from functools import partial
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.server import main
from moto.sqs.exceptions import SQSException
from moto.sqs.models import SQSBackend

from devstack.emulator import PID_PATH
from devstack.faults import FAULTS_PATH, StaleReads, faults
from devstack.iam import Grant, Request, check, decide
from devstack.iamcalls import requests

INFLIGHT_LIMIT = int(os.environ.get("SQS_INFLIGHT_LIMIT", "120000"))


class InflightLimitReached(SQSException):
    def __init__(self, queue_name: str) -> None:
        super().__init__(
            "OverLimit", f"queue {queue_name} has reached its limit of {INFLIGHT_LIMIT} in-flight messages"
        )


_receive_message = SQSBackend.receive_message


def receive_message(self: SQSBackend, queue_name: str, *args, **kwargs):
    queue = self.get_queue(queue_name)
    if sum(1 for message in queue._messages if not message.visible) >= INFLIGHT_LIMIT:
        raise InflightLimitReached(queue_name)
    messages = _receive_message(self, queue_name, *args, **kwargs)
    _request.received = len(messages)
    if getattr(_request, "role", None) or queue_name.endswith("-tap"):  # an event source's receive
        faults.duplicates(queue_name, messages)
    return messages


SQSBackend.receive_message = receive_message

# -- DynamoDB: each write is atomic, as on AWS --------------------------------------------------
# DynamoDB applies a write to an item in one step: its condition, its update and the values it returns.
# moto's server serves requests on threads and checks, reads and writes in steps, so two concurrent
# `SET tat = tat + :step` (bluehooks.adapters.ratelimits) or counter ADDs could both pass their
# condition on the same old value. One lock over the writes makes each one step again.

_writes = threading.RLock()  # re-entrant: a transaction's items are written by the same methods


def _atomic(write):
    def written(*args, **kwargs):
        with _writes:
            return write(*args, **kwargs)

    return written


for _write in ("put_item", "update_item", "delete_item"):
    setattr(DynamoDBBackend, _write, _atomic(getattr(DynamoDBBackend, _write)))


# -- DynamoDB: a transaction's rollback keeps the items it touches, not whole tables ------------------
# moto backs a transaction up by deep-copying each table it names, once per item: with the 10,000 webhooks of a
# fan-out test in the table, every create or PATCH after it took 0.7 s instead of 0.05 s. The items a transaction
# writes are all it can change, so those are kept before it runs and put back if it is cancelled.


class _TablesNotCopied:
    """moto.dynamodb.models' `copy` module, except that a Table is not deep-copied (the transaction's backup)."""

    def __getattr__(self, name: str):
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value, memo=None):
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


dynamodb_models.copy = _TablesNotCopied()


def _items_before(backend: DynamoDBBackend, transact_items: list[dict]) -> list[tuple[str, dict, dict | None]]:
    """(table, key, the item's attributes or None) for each well-formed item; a malformed one writes nothing."""
    before = []
    for transact_item in transact_items:
        with contextlib.suppress(Exception):
            _, operation = next(iter(transact_item.items()))
            table = backend.get_table(operation["TableName"])
            key = operation.get("Key") or {
                name: operation["Item"][name] for name in (table.hash_key_attr, table.range_key_attr) if name
            }
            current = backend.get_item(operation["TableName"], key)
            before.append((operation["TableName"], key, current and copy.deepcopy(current.to_json()["Attributes"])))
    return before


def _transaction(transact_write_items):
    def written(backend: DynamoDBBackend, transact_items: list[dict]) -> None:
        with _writes:
            before = _items_before(backend, transact_items)
            _request.pending = []  # its writes, for stale reads: kept if it commits
            try:
                transact_write_items(backend, transact_items)
                for write in _request.pending:
                    stale.written(*write)
            except Exception:
                _request.pending = []  # neither its writes nor their undoing were ever committed: not recorded
                for table_name, key, attributes in reversed(before):
                    if attributes is None:
                        backend.delete_item(table_name, key)
                    else:
                        backend.put_item(table_name, attributes)
                raise
            finally:
                _request.pending = None

    return written


DynamoDBBackend.transact_write_items = _transaction(DynamoDBBackend.transact_write_items)

# -- DynamoDB: an eventually consistent read may be stale, as on AWS -----------------------------------
# AWS answers an eventually consistent read from any replica, which "might not reflect the results of a
# recently completed write" (DynamoDB read consistency). With AWS_FAULT_STALE_READ_SECONDS = s, each
# eventually consistent GetItem and BatchGetItem answers an item as it stood s seconds ago: the version
# before the first write since then. A transaction's writes count once it commits (reads are
# read-committed); queries, scans and reads with a projection are not made stale.


stale = StaleReads(faults.stale_read_seconds, faults.count)
_get_item = DynamoDBBackend.get_item


def _read(backend: DynamoDBBackend, table_name: str, keys: dict, projection_expressions=None):
    item = _get_item(backend, table_name, keys, projection_expressions)
    if table_name in getattr(_request, "eventual", ()) and not projection_expressions:
        return stale.read(table_name, keys, item)
    return item


def _remembered(write, key_of):
    """A write that keeps the item's previous version for stale reads, once it (or its transaction) commits."""

    def written(backend: DynamoDBBackend, table_name: str, *args, **kwargs):
        with _writes:  # the version before, the write, and its record, in one step
            try:
                key = key_of(backend, table_name, *args)
                before = copy.deepcopy(_get_item(backend, table_name, key))  # moto updates an item in place
            except Exception:  # a malformed write: moto answers it with AWS's error, and it writes nothing
                return write(backend, table_name, *args, **kwargs)
            result = write(backend, table_name, *args, **kwargs)
            pending = getattr(_request, "pending", None)
            if pending is None:
                stale.written(table_name, key, before)
            else:
                pending.append((table_name, key, before))
        return result

    return written


def _key_of_item(backend: DynamoDBBackend, table_name: str, item_attrs: dict, *_) -> dict:
    table = backend.get_table(table_name)
    return {name: item_attrs[name] for name in (table.hash_key_attr, table.range_key_attr) if name}


if stale.seconds:
    DynamoDBBackend.get_item = _read
    DynamoDBBackend.put_item = _remembered(DynamoDBBackend.put_item, _key_of_item)
    for _write in ("update_item", "delete_item"):
        setattr(DynamoDBBackend, _write, _remembered(getattr(DynamoDBBackend, _write), lambda b, t, key, *_: key))

# -- calls: what AWS would bill -------------------------------------------------------------

CALLS_PATH = "/_devstack/calls"
_SIGNED_SERVICE = re.compile(r"Credential=[^/]*/[^/]*/[^/]*/([^/]+)/")
_request = threading.local()  # the request being served, for what only the backend knows


class CallCounter:
    """Every AWS call served, by service, action, queue or table, and detail: "messages" or "empty"
    for a receive, "consistent" for a strongly consistent read. `items` counts what a call carried
    (batch entries, transaction items, events) or, for a receive, the messages it returned; the
    bytes in and out size the 64 KB chunks SQS bills and DynamoDB's request units."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rows: dict[tuple[str, ...], dict[str, int]] = {}

    def add(self, key: tuple[str, str, str, str], items: int, bytes_in: int, bytes_out: int) -> None:
        with self.lock:
            row = self.rows.setdefault(key, {"count": 0, "items": 0, "bytes_in": 0, "bytes_out": 0})
            row["count"] += 1
            row["items"] += items
            row["bytes_in"] += bytes_in
            row["bytes_out"] += bytes_out

    def snapshot(self) -> list[dict]:
        with self.lock:
            return [
                {"service": s, "action": a, "resource": r, "detail": d, **row}
                for (s, a, r, d), row in sorted(self.rows.items())
            ]


calls = CallCounter()


def described(environ: dict, body: bytes) -> tuple[str, str, dict]:
    """(service, action, parameters): JSON protocols name the action in X-Amz-Target, query ones in `Action`."""
    service = _SIGNED_SERVICE.search(environ.get("HTTP_AUTHORIZATION", ""))
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if service and service.group(1) == "s3":
        return "s3", *s3_call(environ)
    if target:
        try:
            parameters = json.loads(body or b"{}")
        except ValueError:
            parameters = {}
        if not isinstance(parameters, dict):  # moto answers it; the count must not fail on it
            parameters = {}
        action = target.rsplit(".", 1)[-1]
    else:
        parameters = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        parameters.update((k, v[0]) for k, v in parse_qs(body.decode("utf-8", "replace")).items())
        action = parameters.get("Action", "")
    return (service.group(1) if service else ""), action, parameters


def s3_call(environ: dict) -> tuple[str, dict]:
    """S3's REST calls (path style, as boto3 addresses a loopback endpoint): the object actions by method;
    any call on a bucket itself, or with a sub-resource (?acl, ?tagging), is named as such, so IAM denies it."""
    bucket, _, key = environ.get("PATH_INFO", "").lstrip("/").partition("/")
    parameters = {"Bucket": bucket, "Key": key}
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    query.pop("x-id", None)  # botocore names the operation; IAM's action follows from the method
    if not key or query:
        return "BucketOrSubresourceCall", parameters
    verb = {"GET": "GetObject", "HEAD": "GetObject", "PUT": "PutObject", "DELETE": "DeleteObject"}
    return verb.get(environ.get("REQUEST_METHOD", ""), "ObjectCall"), parameters


def resource(parameters: dict) -> str:
    """The queue or table a call is about ("" for several, or none)."""
    return str(parameters.get("TableName") or parameters.get("QueueUrl", "")).rsplit("/", 1)[-1]


def entries(parameters: dict) -> int:
    """What a call carries: batch entries, transaction items, keys of a batch read; else 1."""
    for name in ("Entries", "TransactItems"):
        if isinstance(parameters.get(name), list):
            return len(parameters[name])
    if isinstance(parameters.get("RequestItems"), dict):
        return sum(len(v.get("Keys", v) if isinstance(v, dict) else v) for v in parameters["RequestItems"].values())
    return sum(1 for k in parameters if re.fullmatch(r"\w+Entry\.\d+\.Id", k)) or 1  # query protocol batches


def consistent(parameters: dict) -> bool:
    """A strongly consistent read: a GetItem's or Query's flag, or a batch read's for every table it reads."""
    tables = parameters.get("RequestItems")
    if isinstance(tables, dict) and tables:
        return all(isinstance(t, dict) and t.get("ConsistentRead") is True for t in tables.values())
    return parameters.get("ConsistentRead") is True


def eventual_tables(service: str, action: str, parameters: dict) -> set[str]:
    """The tables an item read (GetItem, BatchGetItem) reads eventually consistently: what may be stale."""
    if service != "dynamodb" or action not in ("GetItem", "BatchGetItem"):
        return set()
    tables = parameters.get("RequestItems") if action == "BatchGetItem" else {parameters.get("TableName"): parameters}
    if not isinstance(tables, dict):
        return set()
    return {name for name, read in tables.items() if isinstance(read, dict) and read.get("ConsistentRead") is not True}


def counted(app, environ: dict, start_response) -> list[bytes]:
    """Serves one request with `app`, counting it if it is a signed AWS call that IAM allows; answers
    CALLS_PATH, PID_PATH and IAM_PATH itself."""
    if environ.get("PATH_INFO") == PID_PATH:
        return _json(start_response, os.getpid())
    if environ.get("PATH_INFO") == CALLS_PATH:
        return _json(start_response, calls.snapshot())
    if environ.get("PATH_INFO") == FAULTS_PATH:
        return faults.answer(start_response)
    body = _body(environ)
    if environ.get("PATH_INFO") == IAM_PATH:
        if environ["REQUEST_METHOD"] == "POST":
            iam.install(json.loads(body))
        return _json(start_response, iam.answer())
    environ["wsgi.input"] = io.BytesIO(body)  # moto reads it again
    service, action, parameters = described(environ, body)
    if denial := iam.denial(environ, service, action, parameters):
        return denial(start_response)
    _request.role = iam.role(environ)
    if _request.role:  # AWS's faults, where the knobs ask for them (devstack.faults), on the functions' calls
        faults.brownout(service)
        if throttled := faults.throttle(service, start_response):
            return throttled
    _request.received = None  # set by receive_message, in this thread
    _request.eventual = eventual_tables(service, action, parameters)
    response = app(environ, start_response)
    try:
        answer = list(response)
    finally:
        getattr(response, "close", lambda: None)()
    if service:
        try:  # counting never changes an answer, whatever a hostile request's parameters are
            _count(service, action, parameters, len(body), sum(map(len, answer)))
        except Exception:
            logging.getLogger("devstack.calls").exception("call not counted: %s %s", service, action)
    return answer


def _json(start_response, answer: object) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(answer).encode()]


def _body(environ: dict) -> bytes:
    """The request's body, also when it is chunked (no Content-Length; the server ends the stream)."""
    if length := environ.get("CONTENT_LENGTH"):
        return environ["wsgi.input"].read(int(length))
    return environ["wsgi.input"].read() if environ.get("wsgi.input_terminated") else b""


def _count(service: str, action: str, parameters: dict, bytes_in: int, bytes_out: int) -> None:
    received = _request.received
    if received is not None:
        detail, items = ("messages" if received else "empty"), received
    else:
        detail, items = ("consistent" if consistent(parameters) else ""), entries(parameters)
    calls.add((service, action, resource(parameters), detail), items, bytes_in, bytes_out)


# -- IAM: each function acts as its role ------------------------------------------------------

IAM_PATH = "/_devstack/iam"
MAX_USES_RECORDED = 100_000
_CREDENTIAL = re.compile(r"Credential=([^/]*)/[^/]*/([^/]*)/")


class Enforcer:
    """The roles' policies, by access key; and which grants allowed a call (least privilege, checked by running)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.principals: dict[str, dict] = {}
        self.installed: dict[str, dict] = {}  # as posted: what GET answers
        self.used: set[tuple[str, str, int, str]] = set()  # key, policy, statement, request (JSON)

    def install(self, principals: dict[str, dict]) -> None:
        """{access key: {"arn": the role session's ARN, "grants": [{"policy", "index", "statement"}], ...}}."""
        compiled = {}
        for key, principal in principals.items():
            compiled[key] = {**principal, "grants": [Grant(**grant) for grant in principal["grants"]]}
            for grant in compiled[key]["grants"]:
                check(grant.statement)
        with self.lock:
            self.installed.update(principals)
            self.principals.update(compiled)

    def answer(self) -> dict:
        """The roles as installed, and each grant that allowed a request, with the request (to replay)."""
        with self.lock:
            used = [
                {"key": key, "policy": policy, "index": index, "request": json.loads(request)}
                for key, policy, index, request in sorted(self.used)
            ]
            return {"roles": self.installed, "used": used}

    def role(self, environ: dict) -> str | None:
        """The access key of the role that signed the request; None for any other key."""
        credential = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
        return credential.group(1) if credential and credential.group(1) in self.principals else None

    def denial(self, environ: dict, service: str, action: str, parameters: dict):
        """None when the call may go on; else what answers it (AccessDenied in the protocol's shape)."""
        credential = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
        principal = self.principals.get(credential.group(1)) if credential else None
        if principal is None:
            return None
        try:
            asked = requests(service, action, parameters, credential.group(2))
        except Exception:  # a malformed call: IAM sees the action on no resource it can name
            asked = [Request(f"{service}:{action}", "*")]
        for request in asked:
            allowed, grants = decide(principal["grants"], request)
            if not allowed:
                return partial(_access_denied, environ, principal["arn"], request, explicit=bool(grants))
            with self.lock:
                if len(self.used) >= MAX_USES_RECORDED:  # e.g. one leading key per event: bounded in a long run
                    continue
                self.used.update(
                    (credential.group(1), grant.policy, grant.index, json.dumps(asdict(request), sort_keys=True))
                    for grant in grants
                )
        return None


iam = Enforcer()


def _access_denied(environ: dict, who: str, request: Request, start_response, explicit: bool) -> list[bytes]:
    """AccessDenied as AWS answers it: JSON protocols a 400 (SQS, JSON but query-compatible, a 403 whose
    x-amzn-query-error code botocore reports, "AccessDenied"); the query protocol SQS's XML ErrorResponse."""
    why = (
        "with an explicit deny in an identity-based policy"
        if explicit
        else (f"because no identity-based policy allows the {request.action} action")
    )
    message = f"User: {who} is not authorized to perform: {request.action} on resource: {request.resource} {why}"
    sqs = request.action.startswith("sqs:")
    if environ.get("HTTP_X_AMZ_TARGET"):
        headers = [("Content-Type", environ.get("CONTENT_TYPE") or "application/x-amz-json-1.0")]
        if sqs:
            headers.append(("x-amzn-query-error", "AccessDenied;Sender"))
        start_response("403 Forbidden" if sqs else "400 Bad Request", headers)
        return [json.dumps({"__type": "com.amazon.coral.service#AccessDeniedException", "message": message}).encode()]
    start_response("403 Forbidden", [("Content-Type", "text/xml")])
    body = (
        "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
        f"<Message>{escape(message)}</Message><Detail/></Error><RequestId>devstack</RequestId></ErrorResponse>"
    )
    return [body.encode()]


_dispatch = DomainDispatcherApplication.__call__
DomainDispatcherApplication.__call__ = lambda self, environ, start_response: counted(
    partial(_dispatch, self), environ, start_response
)

if __name__ == "__main__":
    main(sys.argv[1:])
