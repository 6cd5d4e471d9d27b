"""`python -m bench`'s command line, the page it writes, and X-Ray's sampling as its cost section counts it."""

import pytest

from bench.__main__ import SECTIONS, arguments
from bench.cost import _read_units, sampled_traces
from bench.page import Sections


def test_no_section_means_every_section_and_an_unknown_one_is_an_error(capsys):
    assert arguments([]).sections == list(SECTIONS)
    assert arguments(["cost", "--page"]).sections == ["cost"]
    with pytest.raises(SystemExit) as refused:
        arguments(["cost", "nosuchsection"])
    assert refused.value.code != 0 and "no section nosuchsection" in capsys.readouterr().err


def test_help_lists_the_sections(capsys):
    with pytest.raises(SystemExit) as helped:
        arguments(["--help"])
    printed = capsys.readouterr().out
    assert helped.value.code == 0 and all(name in printed for name in SECTIONS)


def test_a_section_run_replaces_only_its_own_block_and_keeps_the_prose(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "intro\n<!-- bench:cost -->\nold\n<!-- /bench:cost -->\n"
        "prose\n<!-- bench:engine -->\nkept\n<!-- /bench:engine -->\n"
    )
    sections = Sections()
    with sections.section("cost"):
        print("total 3.50")
        print('{"_aws": {"CloudWatchMetrics": []}}')  # a function's metric line: not the bench's
    sections.write(page)
    text = page.read_text()
    assert "total 3.50" in text and "old" not in text and "_aws" not in text
    assert text.startswith("intro\n") and "prose\n<!-- bench:engine -->\nkept\n" in text


def test_a_section_without_its_markers_is_an_error(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("no markers\n")
    sections = Sections()
    with sections.section("cost"):
        print("x")
    with pytest.raises(SystemExit, match="bench:cost"):
        sections.write(page)


def test_lambda_samples_the_first_invocation_of_each_second_then_five_percent():
    assert sampled_traces([]) == 0
    assert sampled_traces([0.1, 1.2, 2.3]) == 3  # one a second or fewer: every one
    assert sampled_traces([5.0 + n / 100 for n in range(21)]) == pytest.approx(1 + 0.05 * 20)


def test_a_batch_read_is_billed_per_item_and_a_query_per_call():
    def row(action: str, detail: str, count: int, items: int, bytes_out: int) -> dict:
        return {"action": action, "detail": detail, "count": count, "items": items, "bytes_out": bytes_out}

    assert _read_units(row("BatchGetItem", "consistent", 1, 2, 700)) == 2  # two items: a unit each
    assert _read_units(row("BatchGetItem", "", 1, 2, 700)) == 1
    assert _read_units(row("Query", "", 2, 2, 160)) == 1  # half a unit a call
    assert _read_units(row("GetItem", "consistent", 1, 1, 5000)) == 2  # 4 KB a unit
