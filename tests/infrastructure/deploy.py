"""`sam build` and `sam package` as `sam deploy` runs them, then the template CloudFormation processes.

A copy of the project is built with the SAM CLI (samconfig.toml's build settings, so its cache too) and
packaged to a bucket on the emulator; sam_transform.py then runs the template's transforms with AWS's own
code (.venv-sam), for each parameter set: what CloudFormation would create, before it creates anything.
"""

import atexit
import json
import os
import shlex
import shutil
import subprocess
import tempfile
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3

from devstack.template import ROOT

SAM_PYTHON = ROOT / ".venv-sam" / "bin" / "python"
SAM = ROOT / ".venv-sam" / "bin" / "sam"
TRANSFORM = Path(__file__).with_name("sam_transform.py")
REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
SOURCES = ("template.yaml", "samconfig.toml", "functions", "layers")


def samconfig_parameters(path: Path = ROOT / "samconfig.toml") -> dict[str, dict[str, str]]:
    """Each samconfig environment's parameter overrides, by environment (`default` is dev)."""
    config = tomllib.loads(path.read_text())
    return {
        environment: dict(
            pair.split("=", 1) for pair in shlex.split(sections["deploy"]["parameters"]["parameter_overrides"])
        )
        for environment, sections in config.items()
        if isinstance(sections, dict) and "deploy" in sections
    }


def stack_names(path: Path = ROOT / "samconfig.toml") -> dict[str, str]:
    config = tomllib.loads(path.read_text())
    return {
        environment: config[environment]["global"]["parameters"]["stack_name"]
        for environment in samconfig_parameters(path)
    }


def with_pseudo_parameters(parameters: dict[str, str], stack_name: str) -> dict[str, Any]:
    """What CloudFormation hands the transforms beside the overrides (SAM adds the defaults itself)."""
    return {
        **parameters,
        "AWS::StackName": stack_name,
        "AWS::Region": REGION,
        "AWS::AccountId": ACCOUNT_ID,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
    }


class Project:
    """A copy of the project's sources that `sam build` and `sam package` run in, as a user runs them."""

    def __init__(self, directory: Path, endpoint: str, bucket: str) -> None:
        self.directory, self.endpoint, self.bucket = directory, endpoint, bucket
        for name in SOURCES:
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, directory / name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(source, directory / name)
        self._seed_build_cache()
        boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        ).create_bucket(Bucket=bucket)
        self.packages = 0

    def _seed_build_cache(self) -> None:
        """The project's own `sam build` cache (make template's build), as a user's checkout has it after `make build`.

        SAM keys each cached artefact by its definition (build.toml, which holds absolute source paths: moved to
        the copy) and checks the sources' and manifests' hashes before it uses one: a stale entry is rebuilt."""
        cache = ROOT / ".aws-sam"
        if not (cache / "build.toml").is_file() or not (cache / "cache").is_dir():
            return
        target = self.directory / ".aws-sam"
        target.mkdir()
        for name in ("cache", "deps"):
            if (cache / name).is_dir():
                shutil.copytree(cache / name, target / name, symlinks=True)
        definitions = (cache / "build.toml").read_text()
        (target / "build.toml").write_text(definitions.replace(f'"{ROOT}/', f'"{self.directory}/'))

    def sam(self, *args: str) -> None:
        env = {
            **os.environ,
            "SAM_CLI_TELEMETRY": "0",
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
        }
        done = subprocess.run(
            [str(SAM), *args], cwd=self.directory, env=env, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, f"sam {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"

    def package(self) -> Path:
        """`sam build` (samconfig.toml's settings: cached, parallel), then `sam package` to the bucket."""
        self.packages += 1
        packaged = self.directory / f"packaged-{self.packages}.yaml"
        self.sam("build")
        self.sam("package", "--s3-bucket", self.bucket, "--output-template-file", str(packaged), "--region", REGION)
        return packaged


# (packaged template, its content, one parameter set as JSON) → its processed template, as JSON: a template and
# parameter set several tests process (e.g. each environment's own) is transformed once per session.
_PROCESSED: dict[tuple[str, str, str], str] = {}


def processed(packaged: Path, parameter_sets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The template CloudFormation would create, once per parameter set. The sets not processed before are split
    between the two SAM processes of the session, which run at once (the transforms are CPU-bound; CI has 2 cores)."""
    content = packaged.read_text()
    keys = [(str(packaged), content, json.dumps(parameters, sort_keys=True)) for parameters in parameter_sets]
    missing = list(dict.fromkeys(key for key in keys if key not in _PROCESSED))
    chunks = [chunk for chunk in (missing[index::2] for index in range(2)) if chunk]
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = pool.map(lambda worker, chunk: worker.transform(packaged, chunk), _TRANSFORMERS, chunks)
        for chunk, templates in zip(chunks, answers, strict=True):
            _PROCESSED.update(zip(chunk, templates, strict=True))
    return [json.loads(_PROCESSED[key]) for key in keys]  # each caller its own copy


class _Transformer:
    """One `sam_transform.py` process, started at its first request: SAM's code is imported once (about
    3 s), not once per request. It ends when pytest does (its stdin closes)."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[str] | None = None
        self.errors = tempfile.TemporaryFile(mode="w+")  # SAM's warnings: read only when the process fails

    def transform(self, packaged: Path, keys: list[tuple[str, str, str]]) -> list[str]:
        if self.process is None or self.process.poll() is not None:
            self.process = subprocess.Popen(
                [str(SAM_PYTHON), str(TRANSFORM)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self.errors,
                env={**os.environ, "AWS_DEFAULT_REGION": REGION},
                text=True,
            )
            atexit.register(self.process.kill)
        request = {"packaged": str(packaged), "parameter_sets": [json.loads(parameters) for *_, parameters in keys]}
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        if not answer:
            self.process.wait(timeout=60)
            self.errors.seek(0)
            raise AssertionError(f"sam_transform.py ended ({self.process.returncode}):\n{self.errors.read()[-4000:]}")
        return [json.dumps(template) for template in json.loads(answer)]


_TRANSFORMERS = (_Transformer(), _Transformer())


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {logical_id: spec for logical_id, spec in template["Resources"].items() if spec["Type"] == kind}


def live_versions(template: dict[str, Any]) -> dict[str, str]:
    """Function → the logical id of the Version its `live` alias points to (a new id: a new Version)."""
    return {
        alias["Properties"]["FunctionName"]["Ref"]: alias["Properties"]["FunctionVersion"]["Fn::GetAtt"][0]
        for alias in resources(template, "AWS::Lambda::Alias").values()
        if alias["Properties"]["Name"] == "live"
    }
