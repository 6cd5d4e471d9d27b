"""The layer's wheels against Lambda's python3.11 platform (Amazon Linux 2: glibc 2.26, x86_64).

The stand-in image of `make sam-local-check` is Debian (glibc 2.36): a wheel built for a newer glibc
than Lambda's would load there and fail on Lambda. This checks the tags instead.
"""

import re
from pathlib import Path

import pytest

from devtools import layerplatform, samcheck

ROOT = Path(__file__).resolve().parents[2]


def _site(tmp_path: Path, **wheels: list[str]) -> Path:
    """A folder of .dist-info entries, each with a WHEEL file listing the given tags."""
    for name, tags in wheels.items():
        dist_info = tmp_path / f"{name}-1.0.dist-info"
        dist_info.mkdir()
        lines = ["Wheel-Version: 1.0", "Generator: test", "Root-Is-Purelib: false", *(f"Tag: {tag}" for tag in tags)]
        (dist_info / "WHEEL").write_text("\n".join(lines) + "\n")
    return tmp_path


def test_wheels_lambda_cannot_load_are_named_with_their_tags(tmp_path):
    site = _site(
        tmp_path,
        pure=["py3-none-any"],
        both=["py2-none-any", "py3-none-any"],
        manylinux2014=["cp311-cp311-manylinux2014_x86_64", "cp311-cp311-manylinux_2_17_x86_64"],
        legacy_and_new=["cp311-cp311-manylinux1_x86_64", "cp311-cp311-manylinux_2_28_x86_64"],  # any one tag will do
        at_the_limit=["cp311-cp311-manylinux_2_26_x86_64"],
        stable_abi=["cp38-abi3-manylinux2014_x86_64"],
        glibc_2_28=["cp311-cp311-manylinux_2_28_x86_64"],
        arm=["cp311-cp311-manylinux2014_aarch64"],
        musl=["cp311-cp311-musllinux_1_2_x86_64"],
        plain_linux=["cp311-cp311-linux_x86_64"],
        other_python=["cp312-cp312-manylinux2014_x86_64"],
    )
    assert layerplatform.incompatible(site) == {
        "glibc_2_28-1.0.dist-info": ["cp311-cp311-manylinux_2_28_x86_64"],
        "arm-1.0.dist-info": ["cp311-cp311-manylinux2014_aarch64"],
        "musl-1.0.dist-info": ["cp311-cp311-musllinux_1_2_x86_64"],
        "plain_linux-1.0.dist-info": ["cp311-cp311-linux_x86_64"],
        "other_python-1.0.dist-info": ["cp312-cp312-manylinux2014_x86_64"],
    }


def test_the_layer_makefile_asks_pip_for_a_platform_lambda_runs():
    makefile = (ROOT / "layers/bluehooks/Makefile").read_text()
    platform = re.search(r"^LAYER_PLATFORM \?= (\S+)$", makefile, re.MULTILINE)[1]
    assert platform in layerplatform.platforms()


@pytest.mark.timeout(900)
def test_the_built_layer_holds_only_wheels_lambda_can_load():
    try:
        samcheck.build()  # make test has built it (make template); built here when stale
    except samcheck.CheckFailed as exc:
        pytest.fail(f"sam build: {exc}")
    except FileNotFoundError:
        pytest.fail("no SAM CLI (.venv-sam): run `make build` first (make test does)")
    site = ROOT / ".aws-sam/build/DomainLayer/python"
    binary = [
        path.name
        for path in layerplatform.distributions(site)
        if not any(tag.platform == "any" for tag in layerplatform.wheel_tags(path))
    ]
    assert any(name.startswith("pydantic_core") for name in binary)  # a compiled wheel is among those checked
    assert layerplatform.incompatible(site) == {}
