"""`make sam-local-check`'s judgement of a result: `sam local invoke` exits 0 when the function fails."""

import json
import random

from devstack.template import load_template
from devtools import samcheck, samples

COMMITTED = samples.committed()
SQS_RESULT_OK = {"batchItemFailures": []}


def test_a_failed_function_is_a_failure_whatever_its_sample():
    crashed = {"errorType": "KeyError", "errorMessage": "'WEBHOOKS_TABLE'", "stackTrace": []}
    for name in samcheck.DEFAULT_SAMPLES:
        (problem,) = samcheck.problems(name, COMMITTED[name], crashed)
        assert problem.startswith("the function failed: KeyError")


def test_an_api_answer_must_be_2xx_and_the_list_a_list():
    listing = "api-list-webhooks.json"
    ok = {"statusCode": 200, "body": json.dumps({"items": [], "nextCursor": None})}
    assert samcheck.problems(listing, COMMITTED[listing], ok) == []
    assert samcheck.problems(listing, COMMITTED[listing], {"statusCode": 401, "body": "{}"}) == ["status 401: {}"]
    assert samcheck.problems(listing, COMMITTED[listing], {**ok, "body": "{}"}) == ["no list of webhooks"]
    assert samcheck.problems("api-health.json", COMMITTED["api-health.json"], {"statusCode": 500}) != []


def test_a_fan_out_must_be_this_events_and_queue_a_delivery():
    name = "fanout-todo-created.json"
    sample = COMMITTED[name]
    result = {"event": "TODO_CREATED", "eventId": sample["detail"]["id"], "subscribed": 1, "queued": 1}
    assert samcheck.problems(name, sample, result) == []
    assert samcheck.problems(name, sample, {**result, "queued": 0}) != []
    assert samcheck.problems(name, sample, {**result, "eventId": "evt-other"}) != []


def test_an_sqs_batch_must_not_fail_its_good_record():
    for name in ("delivery-sqs-batch.json", "retry-sqs-batch.json"):
        sample = COMMITTED[name]
        good, poison = (record["messageId"] for record in sample["Records"])
        assert samcheck.problems(name, sample, SQS_RESULT_OK) == []
        assert samcheck.problems(name, sample, {"batchItemFailures": [{"itemIdentifier": poison}]}) == []
        assert samcheck.problems(name, sample, {"batchItemFailures": [{"itemIdentifier": good}]}) != []
        assert samcheck.problems(name, sample, None) != []


def test_the_result_is_the_last_line_even_when_a_body_holds_a_unicode_line_separator():
    result = {"statusCode": 200, "body": "a\u2028b\u2029c"}
    printed = "some log line\n" + json.dumps(result, ensure_ascii=False) + "\n"
    assert samcheck.payload_of(printed) == result


def test_every_sample_names_a_function_of_the_template():
    functions = {
        name for name, resource in load_template()["Resources"].items() if resource["Type"].endswith("Function")
    }
    assert {samcheck.function_of(name) for name in COMMITTED} == set(samcheck.FUNCTIONS.values())
    assert set(samcheck.FUNCTIONS.values()) <= functions


def test_ports_it_chooses_stay_below_the_ephemeral_range():
    rng = random.Random(22)
    ports = {samcheck.free_port(rng) for _ in range(300)}
    assert all(20000 <= port < 32768 for port in ports) and len(ports) > 250


def test_default_samples_cover_each_function_once():
    assert sorted(map(samcheck.function_of, samcheck.DEFAULT_SAMPLES)) == sorted(samcheck.FUNCTIONS.values())


def test_all_samples_run_the_api_last_and_its_delete_after_every_other():
    order = samcheck.ordered(COMMITTED)
    assert sorted(order) == sorted(COMMITTED) and order[-1] == "api-delete-webhook.json"
    first_api = min(index for index, name in enumerate(order) if name.startswith("api-"))
    assert all(name.startswith("api-") for name in order[first_api:])
