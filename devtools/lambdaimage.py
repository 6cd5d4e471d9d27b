"""A stand-in for Lambda's python3.11 base image, built here when no registry is reachable.

`sam local invoke` builds its container `FROM public.ecr.aws/lambda/python:3.11-x86_64` (then adds
its own aws-lambda-rie and the layers). Where that image cannot be pulled, this one takes its name:
a minimal Debian bookworm (its python3.11) from debootstrap, awslambdaric (the runtime interface
client, pinned in lambda-runtime-requirements.txt) in /var/runtime, a /var/runtime/bootstrap with
Lambda's module path, /lambda-entrypoint.sh and the SAM CLI's own aws-lambda-rie, and Lambda's
environment and working directory.

It proves the wiring (the template, env.json, the layer under /opt, the handlers' imports, the
emulator reached from a container), not that the wheels run on Amazon Linux's glibc: that is
tests/unit/test_layer_platform.py's part. A real image of that name, pulled, is used as it is; a
stand-in built from another recipe (its label holds the digest of this module's) is built again.

The debootstrap rootfs is kept as a tarball in the cache folder, and the image in Docker's own
storage; either is reused by the next run.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from devtools.dockerhost import apt_install, run

REPOSITORY = "public.ecr.aws/lambda/python"
TAGS = ("3.11", "3.11-x86_64")  # SAM asks for the second; with only the first it goes to the registry
STAND_IN_LABEL = "blue-webhooks.stand-in"  # its value: the recipe's digest
SAM_IMAGES = "samcli/lambda-python"
SUITE = "bookworm"  # Debian 12: python3.11, as the runtime
ROOTFS_PACKAGES = ("python3.11",)
RUNTIME_REQUIREMENTS = Path(__file__).with_name("lambda-runtime-requirements.txt")
# Lambda's python3.11 image: its module path (task, layer, runtime) and environment.
PYTHONPATH = "/var/task:/opt/python/lib/python3.11/site-packages:/opt/python:/var/runtime"
ENVIRONMENT = {
    "LANG": "en_US.UTF-8",
    "TZ": ":/etc/localtime",
    "PATH": "/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin",
    "LD_LIBRARY_PATH": "/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib",
    "LAMBDA_TASK_ROOT": "/var/task",
    "LAMBDA_RUNTIME_DIR": "/var/runtime",
}
BOOTSTRAP = f"""#!/bin/sh
# The runtime: awslambdaric runs $_HANDLER (set by aws-lambda-rie) against the Runtime API.
export AWS_EXECUTION_ENV=AWS_Lambda_python3.11
export PYTHONPATH="{PYTHONPATH}"
exec /var/lang/bin/python3.11 -m awslambdaric "$_HANDLER"
"""
ENTRYPOINT = """#!/bin/sh
# As in Lambda's images: the handler is the one argument; outside Lambda, under the emulator.
if [ $# -ne 1 ]; then
  echo "entrypoint requires the handler name to be the first argument" 1>&2
  exit 142
fi
export _HANDLER="$1"
if [ -z "${AWS_LAMBDA_RUNTIME_API}" ]; then
  exec /usr/local/bin/aws-lambda-rie /var/runtime/bootstrap
else
  exec /var/runtime/bootstrap
fi
"""


def image_name(tag: str = TAGS[-1]) -> str:
    return f"{REPOSITORY}:{tag}"


def recipe() -> str:
    """What the stand-in is made of, digested: a stand-in built from another recipe is built again."""
    parts = [SUITE, *ROOTFS_PACKAGES, json.dumps(ENVIRONMENT), BOOTSTRAP, ENTRYPOINT, RUNTIME_REQUIREMENTS.read_text()]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def usable(tag: str) -> bool:
    """The image is there, and is either a real one (pulled: no label of ours) or a stand-in of this recipe."""
    try:
        labels = json.loads(run("docker", "image", "inspect", "--format", "{{json .Config.Labels}}", image_name(tag)))
    except subprocess.CalledProcessError:
        return False
    return (labels or {}).get(STAND_IN_LABEL, recipe()) == recipe()


def ensure(cache: Path, rie: Path) -> str:
    """Both tags usable: as found, or one tagged from the other, or built (from the cached rootfs if kept)."""
    found = [tag for tag in TAGS if usable(tag)]
    if len(found) == len(TAGS):
        return "cached in Docker"
    if found:
        for tag in set(TAGS) - set(found):
            run("docker", "tag", image_name(found[0]), image_name(tag))
        return f"tagged from {image_name(found[0])}"
    with tempfile.TemporaryDirectory(prefix="lambda-rootfs-", dir=cache) as folder:
        root = Path(folder) / "rootfs"
        note = rootfs(root, cache / f"{SUITE}-{'-'.join(ROOTFS_PACKAGES)}.tar")
        add_runtime(root, rie)
        remove_stale()
        docker_import(root)
    return f"built ({note})"


def remove_stale() -> None:
    """Stand-ins of another recipe, and SAM's images built on them first (SAM reuses its image, with its
    emulator and the layers, as long as it exists, whatever base it was built from)."""
    for selector in (SAM_IMAGES, f"--filter=label={STAND_IN_LABEL}"):
        if stale := set(run("docker", "images", "-q", selector).split()):
            run("docker", "rmi", "-f", *sorted(stale))


def rootfs(root: Path, tarball: Path) -> str:
    """Debian's minimal rootfs with python3.11 in `root`, unpacked from `tarball`, or debootstrapped and kept there."""
    root.mkdir()
    if tarball.exists():
        run("tar", "-xpf", str(tarball), "-C", str(root), "--numeric-owner", timeout=300)
        return f"rootfs from {tarball}"
    if not shutil.which("debootstrap"):
        apt_install("debootstrap")
    include = ",".join(ROOTFS_PACKAGES)
    run("debootstrap", "--variant=minbase", f"--include={include}", SUITE, str(root), mirror(), timeout=1200)
    partial = tarball.with_suffix(".partial")
    run("tar", "-cpf", str(partial), "-C", str(root), "--numeric-owner", ".", timeout=300)
    partial.replace(tarball)
    return f"debootstrap {SUITE}, kept in {tarball}"


def mirror(sources: Path = Path("/etc/apt/sources.list.d/debian.sources")) -> str:
    """The Debian mirror apt uses here (DEBIAN_MIRROR overrides): debootstrap fetches from it."""
    if override := os.environ.get("DEBIAN_MIRROR"):
        return override
    text = sources.read_text() if sources.exists() else Path("/etc/apt/sources.list").read_text()
    found = re.search(r"^URIs:\s*(\S+)", text, re.MULTILINE) or re.search(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+)", text, re.M)
    if not found:
        raise RuntimeError("no Debian mirror in apt's sources: set DEBIAN_MIRROR")
    return found[1]


def add_runtime(root: Path, rie: Path) -> None:
    """Lambda's layout on top of the rootfs: /var/lang, /var/runtime (awslambdaric), /var/task, the entrypoint."""
    lang = root / "var/lang/bin"
    lang.mkdir(parents=True)
    for name in ("python3.11", "python3", "python"):
        (lang / name).symlink_to("/usr/bin/python3.11")
    runtime = root / "var/runtime"
    # Wheels for the image's Python (3.11, glibc 2.36), whatever Python runs this.
    run(
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
        "--only-binary=:all:",
        "--platform", "manylinux2014_x86_64", "--python-version", "3.11", "--implementation", "cp",
        "--target", str(runtime), "-r", str(RUNTIME_REQUIREMENTS), timeout=600,
    )  # fmt: skip
    _executable(runtime / "bootstrap", BOOTSTRAP)
    _executable(root / "lambda-entrypoint.sh", ENTRYPOINT)
    shutil.copyfile(rie, root / "usr/local/bin/aws-lambda-rie")
    (root / "usr/local/bin/aws-lambda-rie").chmod(0o755)
    (root / "var/task").mkdir(parents=True, exist_ok=True)
    (root / "opt").mkdir(exist_ok=True)


def _executable(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o755)


def docker_import(root: Path) -> None:
    changes = [f"ENV {name}={value}" for name, value in ENVIRONMENT.items()]
    changes += ["WORKDIR /var/task", 'ENTRYPOINT ["/lambda-entrypoint.sh"]', f"LABEL {STAND_IN_LABEL}={recipe()}"]
    flags = [part for change in changes for part in ("--change", change)]
    tar = subprocess.Popen(["tar", "-cf", "-", "-C", str(root), "--numeric-owner", "."], stdout=subprocess.PIPE)
    try:
        run("docker", "import", *flags, "-", image_name(TAGS[0]), stdin=tar.stdout, timeout=900)
    finally:
        tar.stdout.close()
        tar.wait()
    run("docker", "tag", image_name(TAGS[0]), image_name(TAGS[1]))
