"""Who may frame the console: ConsoleFrameAncestors' origins, else nobody; nothing but origins gets in."""

import importlib
from pathlib import Path

import pytest

from bluehooks.roots.api import ApiSettings
from bluehooks.roots.settings import Misconfigured

API = Path(__file__).resolve().parents[2] / "functions" / "api"


@pytest.fixture
def console(monkeypatch):
    monkeypatch.syspath_prepend(str(API))
    return importlib.import_module("console")


def test_nobody_may_frame_by_default(console):
    assert console.framing("") == {"csp": "frame-ancestors 'none'", "X-Frame-Options": "DENY"}


def test_the_allowlisted_origins_may_frame(console):
    assert console.framing("https://app.blue.cc http://localhost:8080") == {
        "csp": "frame-ancestors https://app.blue.cc http://localhost:8080"
    }


@pytest.mark.parametrize(
    "ancestors", ["*", "https://a.b; script-src *", "https://a.b/path", "'self'", "https://a.b\nX-Evil: 1", "a.b"]
)
def test_anything_but_origins_is_refused_at_cold_start(ancestors):
    with pytest.raises(Misconfigured, match="CONSOLE_FRAME_ANCESTORS"):
        ApiSettings.from_env({**REQUIRED, "CONSOLE_FRAME_ANCESTORS": ancestors})


REQUIRED = {field.alias: "x" for field in ApiSettings.model_fields.values() if field.is_required()}
