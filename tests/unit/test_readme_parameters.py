"""The parameter table (docs/configuration.md) documents exactly template.yaml's parameters, with their defaults."""

import re
from pathlib import Path

from devstack.template import ROOT, load_template

SECTION = "## Configuration parameters"
ROW = re.compile(r"^\| `(?P<name>\w+)` \| (?P<default>[^|]*) \|")


def readme_parameters(readme: Path = ROOT / "docs" / "configuration.md") -> dict[str, str]:
    """Parameter → default as the documentation's table shows it (`value`, or "empty")."""
    text = readme.read_text()
    assert SECTION in text, f"{readme.name} has no {SECTION!r} section"
    table = text.split(SECTION, 1)[1].split("\n#", 1)[0]
    rows = {}
    for line in table.splitlines():
        if match := ROW.match(line):
            default = match["default"].strip()
            rows[match["name"]] = "" if default == "empty" else default.strip("`")
    return rows


def template_parameters() -> dict[str, str]:
    return {name: str(spec.get("Default", "")) for name, spec in load_template()["Parameters"].items()}


def test_the_readme_table_names_every_parameter_and_no_other():
    documented, declared = set(readme_parameters()), set(template_parameters())
    assert declared - documented == set(), "parameters without a README row"
    assert documented - declared == set(), "README rows of parameters the template does not have"


def test_the_readme_shows_each_parameters_default():
    documented = readme_parameters()
    differing = {
        name: {"README": documented[name], "template": default}
        for name, default in template_parameters().items()
        if name in documented and documented[name] != default
    }
    assert differing == {}
