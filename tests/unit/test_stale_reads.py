"""The emulator's stale reads (devstack.faults.StaleReads) on a clock of the test's own: what a read a moment
behind answers, and that the memory of old versions stays bounded. tests/e2e/test_aws_faults.py has them
served over HTTP to the real functions."""

from devstack.faults import StaleReads

KEY = {"pk": "c#1", "sk": "wh_1"}


def stale_reads(seconds: float = 1.0):
    now, counted = [0.0], []
    return StaleReads(seconds, counted.append, clock=lambda: now[0]), now, counted


def test_a_read_within_the_window_answers_the_version_before_the_first_write_and_counts_it():
    reads, now, counted = stale_reads()
    reads.written("Webhooks", KEY, "v1")
    now[0] = 0.5
    reads.written("Webhooks", KEY, "v2")
    now[0] = 0.9
    assert reads.read("Webhooks", KEY, "v3") == "v1"
    now[0] = 1.2  # the first write is a second old: the second one's version before shows
    assert reads.read("Webhooks", KEY, "v3") == "v2"
    now[0] = 1.6
    assert reads.read("Webhooks", KEY, "v3") == "v3"
    assert reads.read("Deliveries", KEY, "other") == "other"  # another table's item of the same key
    assert counted == ["dynamodb stale read"] * 2


def test_past_10000_items_those_not_written_lately_are_forgotten():
    reads, now, _ = stale_reads()
    reads.written("Webhooks", {"pk": "old"}, "old before")
    now[0] = 5.0
    for n in range(10_000):
        reads.written("Webhooks", {"pk": n}, f"before {n}")
    assert len(reads.writes) == 10_000  # the old item forgotten, the recent ones kept
    assert reads.read("Webhooks", {"pk": 0}, "now") == "before 0"
    assert reads.read("Webhooks", {"pk": "old"}, "now") == "now"
