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


# -- the layer's layering (issue 17): rules are pure, services speak to ports, adapters and roots know AWS ---------

LAYER = "layers/bluehooks/bluehooks"
AWS_SDK = ("boto3", "botocore")
FOLDERS = {"adapters", "models", "roots", "rules", "services"}
# The small shared kernel: errors, clocks, deadlines, logging, the caller's token, the URL rules and the
# pinned HTTP session they guard.
KERNEL = {"auth", "deadline", "errors", "observability", "outbound", "ports", "targets", "timestamps"}


def importing(folder: str, *packages: str) -> list[str]:
    return sorted({path for package in packages for path in importers((folder,), package)})


def test_the_layer_is_its_folders_and_a_small_kernel():
    top = {path.stem for path in (ROOT / LAYER).glob("*.py")} - {"__init__"}
    folders = {path.name for path in (ROOT / LAYER).iterdir() if path.is_dir() and path.name != "__pycache__"}
    assert (top, folders) == (KERNEL, FOLDERS)


def test_rules_models_and_the_kernel_import_no_aws_sdk_no_adapter_no_service_and_no_root():
    forbidden = (*AWS_SDK, "bluehooks.adapters", "bluehooks.services", "bluehooks.roots")
    assert importing(f"{LAYER}/rules", *forbidden) == []
    assert importing(f"{LAYER}/models", *forbidden) == []
    for module in KERNEL:
        assert [name for name in imported(ROOT / LAYER / f"{module}.py") if name.startswith(forbidden)] == [], module


def test_services_speak_to_ports_never_to_the_aws_sdk_adapters_or_roots():
    assert importing(f"{LAYER}/services", *AWS_SDK, "bluehooks.adapters", "bluehooks.roots") == []


def test_only_adapters_and_roots_know_the_aws_sdk():
    knowing = {Path(path).relative_to(LAYER) for path in importing(LAYER, *AWS_SDK)}
    assert {str(path) for path in knowing if path.parts[0] not in ("adapters", "roots")} == set()


def test_handlers_build_from_their_root_and_know_no_aws_sdk():
    assert importing("functions", *AWS_SDK, "bluehooks.adapters") == []
    for function in ("api", "fanout", "delivery", "retry"):
        assert f"bluehooks.roots.{function}" in imported(ROOT / "functions" / function / "app.py")


def test_only_roots_build_from_adapters():
    users = {str(Path(path).relative_to(LAYER)) for path in importing(LAYER, "bluehooks.adapters")}
    assert {path for path in users if not path.startswith(("roots/", "adapters/"))} == set()
