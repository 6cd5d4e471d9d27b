"""The local stack's IAM policy evaluation (devstack.iam) and what it evaluates for a call (devstack.iamcalls)."""

import pytest

from devstack.iam import Grant, Request, UnsupportedPolicy, check, decide
from devstack.iamcalls import requests

QUEUE = "arn:aws:sqs:us-east-1:123456789012:q"
TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/t"


def allow(action, resource, **extra) -> Grant:
    return Grant("p", {"Effect": "Allow", "Action": action, "Resource": resource, **extra})


def allowed(grants: list[Grant], request: Request) -> bool:
    return decide(grants, request)[0]


def test_no_allow_is_a_deny_and_an_explicit_deny_wins_over_an_allow():
    request = Request("sqs:SendMessage", QUEUE)
    assert not allowed([], request)
    assert allowed([allow("sqs:SendMessage", QUEUE)], request)
    deny = Grant("d", {"Effect": "Deny", "Action": "sqs:*", "Resource": "*"})
    assert decide([allow("sqs:SendMessage", QUEUE), deny], request) == (False, [deny])


def test_actions_match_without_case_and_with_wildcards_resources_with_case():
    assert allowed([allow("SQS:sendmessage*", QUEUE)], Request("sqs:SendMessage", QUEUE))
    assert allowed([allow(["dynamodb:Get?tem"], TABLE)], Request("dynamodb:GetItem", TABLE))
    assert not allowed([allow("sqs:SendMessage", QUEUE.upper())], Request("sqs:SendMessage", QUEUE))
    assert not allowed([allow("dynamodb:Query", TABLE)], Request("dynamodb:Query", f"{TABLE}/index/i"))
    assert allowed([allow("dynamodb:Query", f"{TABLE}/index/*")], Request("dynamodb:Query", f"{TABLE}/index/i"))
    assert not allowed([allow("sqs:Send[M]essage", QUEUE)], Request("sqs:SendMessage", QUEUE))  # no brackets


def test_leading_keys_condition_and_forallvalues_on_no_values():
    grant = allow("dynamodb:Query", TABLE, Condition={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["S#*"]}})
    assert allowed([grant], Request("dynamodb:Query", TABLE, {"dynamodb:leadingkeys": ["S#a#b"]}))
    assert not allowed([grant], Request("dynamodb:Query", TABLE, {"dynamodb:leadingkeys": ["WEBHOOK#a"]}))
    assert allowed([grant], Request("dynamodb:Query", TABLE))  # as on AWS: no values, all of them match


def test_single_valued_conditions_need_the_key_unless_ifexists():
    context = {"kms:encryptioncontext:purpose": ["secret"]}
    equals = {"StringEquals": {"kms:EncryptionContext:purpose": "secret"}}
    assert allowed([allow("kms:Decrypt", "*", Condition=equals)], Request("kms:Decrypt", "k", context))
    assert not allowed([allow("kms:Decrypt", "*", Condition=equals)], Request("kms:Decrypt", "k"))
    if_exists = {"StringEqualsIfExists": {"kms:EncryptionContext:purpose": "secret"}}
    assert allowed([allow("kms:Decrypt", "*", Condition=if_exists)], Request("kms:Decrypt", "k"))
    not_like = {"StringNotLike": {"kms:EncryptionContext:purpose": ["a*", "s*"]}}
    assert not allowed([allow("kms:Decrypt", "*", Condition=not_like)], Request("kms:Decrypt", "k", context))


def test_what_it_cannot_evaluate_is_refused():
    with pytest.raises(UnsupportedPolicy):
        check({"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"NumericLessThan": {"a": 1}}})
    with pytest.raises(UnsupportedPolicy):
        check({"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"})


def test_batch_calls_are_their_base_action_and_transactions_one_action_per_item():
    batch = requests("sqs", "SendMessageBatch", {"QueueUrl": "http://h/123456789012/q"}, "us-east-1")
    assert batch == [Request("sqs:SendMessage", QUEUE)]
    assert requests("sqs", "DeleteMessageBatch", {"QueueUrl": "http://h/1/q"}, "us-east-1")[0].action == (
        "sqs:DeleteMessage"
    )
    items = [{"Put": {"TableName": "t", "Item": {}}}, {"Delete": {"TableName": "u", "Key": {}}}]
    asked = requests("dynamodb", "TransactWriteItems", {"TransactItems": items}, "us-east-1")
    assert [(r.action, r.resource) for r in asked] == [
        ("dynamodb:PutItem", TABLE),
        ("dynamodb:DeleteItem", f"{TABLE[:-1]}u"),
    ]


def test_an_index_query_names_the_index_and_putevents_each_entrys_bus():
    query = requests("dynamodb", "Query", {"TableName": "t", "IndexName": "ByCreated"}, "us-east-1")
    assert query[0].resource == f"{TABLE}/index/ByCreated"
    entries = [{"Source": "blue"}, {"EventBusName": "b", "Source": "blue"}]
    asked = requests("events", "PutEvents", {"Entries": entries}, "us-east-1")
    assert [r.resource.rsplit(":", 1)[-1] for r in asked] == ["event-bus/default", "event-bus/b"]
