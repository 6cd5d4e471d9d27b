"""Will the built layer's wheels load on Lambda's python3.11? Their tags against Lambda's platform.

Lambda's python3.11 runtime runs on Amazon Linux 2 (glibc 2.26, x86_64 here): a wheel loads there
when one of its tags (its .dist-info/WHEEL `Tag:` lines) is one pip would install for CPython 3.11
on manylinux_2_26_x86_64 or older (manylinux2014 = glibc 2.17, which layers/bluehooks/Makefile asks
pip for). The stand-in image of `make sam-local-check` is Debian (glibc 2.36) and cannot tell.
"""

from collections.abc import Iterable, Iterator
from pathlib import Path

from packaging.tags import Tag, compatible_tags, cpython_tags, parse_tag

# Lambda's python3.11 runs on Amazon Linux 2 (docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html), glibc 2.26.
LAMBDA_GLIBC = (2, 26)
LAMBDA_ARCH = "x86_64"
LEGACY = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}  # PEP 600's aliases


def platforms(glibc: tuple[int, int] = LAMBDA_GLIBC, arch: str = LAMBDA_ARCH) -> list[str]:
    """Every manylinux platform a glibc this old still runs, newest first (as pip lists them)."""
    major, newest = glibc
    names = [f"manylinux_{major}_{minor}_{arch}" for minor in range(newest, 4, -1)]
    return names + [f"{alias}_{arch}" for alias, version in LEGACY.items() if version <= glibc]


def supported(glibc: tuple[int, int] = LAMBDA_GLIBC, arch: str = LAMBDA_ARCH) -> set[Tag]:
    names = platforms(glibc, arch)
    return set(cpython_tags((3, 11), platforms=names)) | set(compatible_tags((3, 11), "cp311", names))


def wheel_tags(dist_info: Path) -> set[Tag]:
    lines = (dist_info / "WHEEL").read_text().splitlines()
    return {tag for line in lines if line.startswith("Tag:") for tag in parse_tag(line.split(":", 1)[1].strip())}


def distributions(site: Path) -> Iterator[Path]:
    return (path for path in sorted(site.glob("*.dist-info")) if (path / "WHEEL").exists())


def incompatible(site: Path, accepted: Iterable[Tag] | None = None) -> dict[str, list[str]]:
    """Each distribution in `site` none of whose tags Lambda's python3.11 accepts → its tags."""
    accepted = supported() if accepted is None else set(accepted)
    return {
        dist_info.name: sorted(map(str, tags))
        for dist_info in distributions(site)
        if not (tags := wheel_tags(dist_info)) & accepted
    }
