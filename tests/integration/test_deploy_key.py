"""`make deploy`'s JWT key (devtools.deploy) on the emulator's SSM: a short key already there stops the deploy
before SAM runs, and the message says so without the key; a long one is kept. tests/e2e/test_deploy.py runs the
whole deploy on the local stack."""

import shlex
import sys

import boto3
import pytest

from devstack.emulator import Emulator
from devtools import deploy
from devtools.receiver import free_port

PARAMETER = "blue-webhooks-staging-jwt-secret"  # samconfig.toml's staging stage
SAM_CALLED = shlex.join([sys.executable, "-c", "raise SystemExit('sam ran')"])


@pytest.fixture(scope="module")
def emulator():
    emulator = Emulator(free_port())
    yield emulator
    emulator.stop()


@pytest.fixture
def ssm(emulator):
    client = boto3.client(
        "ssm", endpoint_url=emulator.url, region_name="us-east-1", aws_access_key_id="l", aws_secret_access_key="l"
    )
    yield client
    client.delete_parameter(Name=PARAMETER)


def make_deploy(emulator) -> int:
    return deploy.main(["--stage", "staging", "--endpoint-url", emulator.url, "--sam", SAM_CALLED])


def test_a_short_key_stops_the_deploy_and_is_never_printed(emulator, ssm, capsys):
    ssm.put_parameter(Name=PARAMETER, Value="changeme-changeme", Type="SecureString")
    assert make_deploy(emulator) == 2
    out, err = capsys.readouterr()
    assert f"the JWT key in SSM parameter {PARAMETER} is 17 bytes, under HS256's 32: nothing was deployed" in err
    assert "$ " not in out and "changeme" not in out + err  # SAM never ran; the key never shown


def test_a_long_key_is_kept(emulator, ssm, capsys):
    key = "k" * 32
    ssm.put_parameter(Name=PARAMETER, Value=key, Type="SecureString")
    assert make_deploy(emulator) == 1  # on to SAM (the stand-in fails at once)
    out, err = capsys.readouterr()
    assert f"SSM parameter {PARAMETER} exists, kept" in out and "sam build failed" in err and key not in out + err
    assert ssm.get_parameter(Name=PARAMETER, WithDecryption=True)["Parameter"]["Value"] == key
