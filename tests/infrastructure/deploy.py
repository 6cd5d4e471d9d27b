"""`sam build` and `sam package` as `sam deploy` runs them, then the template CloudFormation processes.

A copy of the project is built with the SAM CLI (samconfig.toml's build settings, so its cache too) and
packaged to a bucket on the emulator; sam_transform.py then runs the template's transforms with AWS's own
code (.venv-sam), for each parameter set: what CloudFormation would create, before it creates anything.
"""

import json
import os
import shlex
import shutil
import subprocess
import tomllib
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
        boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        ).create_bucket(Bucket=bucket)
        self.packages = 0

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


def processed(packaged: Path, parameter_sets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The template CloudFormation would create, once per parameter set (one SAM process for all)."""
    done = subprocess.run(
        [str(SAM_PYTHON), str(TRANSFORM), str(packaged)],
        input=json.dumps(parameter_sets),
        env={**os.environ, "AWS_DEFAULT_REGION": REGION},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {logical_id: spec for logical_id, spec in template["Resources"].items() if spec["Type"] == kind}


def live_versions(template: dict[str, Any]) -> dict[str, str]:
    """Function → the logical id of the Version its `live` alias points to (a new id: a new Version)."""
    return {
        alias["Properties"]["FunctionName"]["Ref"]: alias["Properties"]["FunctionVersion"]["Fn::GetAtt"][0]
        for alias in resources(template, "AWS::Lambda::Alias").values()
        if alias["Properties"]["Name"] == "live"
    }
