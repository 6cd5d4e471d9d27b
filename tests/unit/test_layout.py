"""The tree's layering, read from the code's own imports: the layer is an installed package, devstack/ is the
local runtime alone, and nothing outside tests/ imports the tests."""

import ast
import re
from importlib.metadata import distribution
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("bench", "devstack", "devtools", "functions", "layers", "ops")
# Lambda's path, emulated: the runtime loads a handler with /var/task and /opt/python on sys.path.
LAMBDA_PATH = {"devstack/lambdas.py"}


def sources(*folders: str) -> list[Path]:
    return sorted(path for folder in folders for path in (ROOT / folder).rglob("*.py"))


def imported(path: Path) -> set[str]:
    """Every module `path` imports, by its full dotted name."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def importers(folders: tuple[str, ...], package: str) -> list[str]:
    return [
        str(path.relative_to(ROOT))
        for path in sources(*folders)
        if any(name == package or name.startswith(package + ".") for name in imported(path))
    ]


def test_nothing_outside_the_tests_imports_them():
    assert importers(PRODUCT, "tests") == []


def test_the_local_runtime_is_entered_only_by_make_run_and_imports_no_developer_tool():
    entries = re.findall(r"python -m (devstack\S*)", (ROOT / "Makefile").read_text())
    assert entries == ["devstack"]  # `make run`; `make token`, `demo`, `listen`, … run devtools
    assert importers(("devstack",), "devtools") == []


def uses_sys_path(path: Path) -> bool:
    return any(
        isinstance(node, ast.Attribute) and node.attr == "path" and getattr(node.value, "id", None) == "sys"
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
    )


def test_only_the_lambda_runtime_puts_the_layer_on_sys_path():
    assert [str(path.relative_to(ROOT)) for path in sources(*PRODUCT) if uses_sys_path(path)] == sorted(LAMBDA_PATH)


def pins(text: str) -> set[str]:
    return {line.split("#")[0].strip().lower() for line in text.splitlines() if re.match(r"^[A-Za-z]", line)}


def test_the_layer_is_installed_with_exactly_the_pins_sam_build_ships():
    installed = distribution("bluehooks")  # requirements-dev.txt: -e ./layers/bluehooks
    shipped = pins((ROOT / "layers/bluehooks/requirements.txt").read_text())
    assert shipped and pins("\n".join(installed.requires or [])) == shipped
