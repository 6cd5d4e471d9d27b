"""Start and stop the whole local system: emulator, resources, functions, event sources, API."""

import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

import boto3

from devstack import ports
from devstack.apigateway import make_server
from devstack.chaos import Chaos
from devstack.emulator import Emulator
from devstack.lambdas import FunctionPool
from devstack.roles import install, roles
from devstack.samenv import local_flags
from devstack.sources import Poller
from devstack.template import ROOT, EventSource, LocalStack, load_template
from devstack.token import DEFAULT_JWT_SECRET

log = logging.getLogger("devstack")
REGION = "us-east-1"

# Environment variable -> template parameter, with the local default where it differs.
PARAMETER_OVERRIDES = {
    "ALLOW_HTTP": ("AllowHttp", "true"),
    "ALLOW_PRIVATE_TARGETS": ("AllowPrivateTargets", "true"),
    "DELIVERY_TIMEOUT_SECONDS": ("DeliveryTimeoutSeconds", None),
    "RETRY_SCHEDULE": ("RetrySchedule", None),
    "MAX_WEBHOOKS_PER_COMPANY": ("MaxWebhooksPerCompany", None),
    "EVENT_BUS_NAME": ("EventBusName", None),
    "EXISTING_EVENT_BUS_NAME": ("ExistingEventBusName", None),
    "SECRET_ROTATION_OVERLAP_SECONDS": ("SecretRotationOverlapSeconds", None),
    "MAX_TOKEN_LIFETIME_SECONDS": ("MaxTokenLifetimeSeconds", None),
    "CONSOLE_FRAME_ANCESTORS": ("ConsoleFrameAncestors", None),
    "DISABLE_AFTER_FAILING_SECONDS": ("DisableAfterFailingSeconds", None),
    "DELIVERY_LOG_RETENTION_DAYS": ("DeliveryLogRetentionDays", None),
    "PROBE_INTERVAL_SECONDS": ("ProbeIntervalSeconds", None),
    "TEST_PINGS_PER_MINUTE": ("TestPingsPerMinute", None),
    "RETRIES_PER_MINUTE": ("RetriesPerMinute", None),
    "RECOVERS_PER_MINUTE": ("RecoversPerMinute", None),
    "MANUAL_DELIVERIES_PER_MINUTE": ("ManualDeliveriesPerMinute", None),
}
# One event source mapping or API can run this many invocations of its function at once.
# The API runs one invocation at a time: Powertools' resolver keeps the current request in a
# class attribute, which concurrent invocations in one process would share.
INSTANCES = {"sqs": 4, "rule": 2, "api": 1}


def instances(source: EventSource) -> int:
    """Local instances of a source's function: never more than the template lets Lambda run at once."""
    return min(INSTANCES[source.kind], source.max_concurrency or INSTANCES[source.kind])


def local_parameters(env: dict[str, str]) -> dict[str, str]:
    parameters = {}
    for variable, (parameter, local_default) in PARAMETER_OVERRIDES.items():
        value = env.get(variable, local_default)
        if value is not None:
            parameters[parameter] = value
    return parameters


@dataclass
class Settings:
    api_port: int = 3000
    aws_port: int = 4566
    jwt_secret: str = DEFAULT_JWT_SECRET
    parameters: dict[str, str] = field(default_factory=dict)
    # Lambda waits about 1 and 2 minutes before retrying a failed asynchronous invocation; locally
    # this many seconds, then twice that.
    async_retry_delay: float = 1.0
    chaos_rate: float = 0.0  # > 0: inject faults on our side (devstack.chaos), for chaos tests
    chaos_seed: int = 0
    # Another template than the clone's (tests start the stack on an edited copy, e.g. with a grant removed).
    template: Path = ROOT / "template.yaml"

    @classmethod
    def from_env(cls, env: dict[str, str]) -> "Settings":
        return cls(
            api_port=int(env.get("API_PORT", 3000)),
            aws_port=int(env.get("AWS_PORT", 4566)),
            jwt_secret=env.get("WEBHOOKS_JWT_SECRET", DEFAULT_JWT_SECRET),
            parameters=local_parameters(env),
            async_retry_delay=float(env.get("ASYNC_RETRY_DELAY_SECONDS", 1.0)),
            chaos_rate=float(env.get("CHAOS_RATE", 0)),
            chaos_seed=int(env.get("CHAOS_SEED", 0)),
            template=Path(env.get("LOCAL_TEMPLATE", ROOT / "template.yaml")),
        )

    @property
    def aws_url(self) -> str:
        return f"http://127.0.0.1:{self.aws_port}"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"


def point_boto3_at(aws_url: str) -> None:
    """Every AWS client of this process (the handlers' included) talks to the emulator only."""
    dummy = "testing"  # the emulator accepts any credentials; real ones are never used here
    os.environ.update(
        AWS_ENDPOINT_URL=aws_url,
        AWS_ACCESS_KEY_ID=dummy,
        AWS_SECRET_ACCESS_KEY=dummy,
        AWS_SESSION_TOKEN=dummy,
        AWS_DEFAULT_REGION=REGION,
        AWS_REGION=REGION,
    )
    boto3.setup_default_session()


def provision(settings: Settings) -> LocalStack:
    """Create template.yaml's resources on the emulator and export the functions' environment."""
    stack = LocalStack(load_template(settings.template), settings.parameters, REGION)
    if host_bus := stack.parameter("ExistingEventBusName"):
        create_host_bus(host_bus)
    stack.provision()
    name = stack.ref("JwtSecretParameterName")
    boto3.client("ssm").put_parameter(Name=name, Value=settings.jwt_secret, Type="SecureString", Overwrite=True)
    # These win over the template's values (which are for AWS): the emulator, and the local flags.
    local = local_flags(os.environ)
    if "AWS_ENDPOINT_URL" in os.environ:
        local["AWS_ENDPOINT_URL"] = os.environ["AWS_ENDPOINT_URL"]
    for function in stack.functions():
        os.environ.update(stack.function_environment(function))
    os.environ.update(local)
    return stack


def create_host_bus(name: str) -> None:
    """The bus that ExistingEventBusName attaches to belongs to the host app: locally, we play its part."""
    events = boto3.client("events")
    if not any(bus["Name"] == name for bus in events.list_event_buses(NamePrefix=name)["EventBuses"]):
        events.create_event_bus(Name=name)


class Running:
    """The local system, started; stop() shuts it down cleanly."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.stop_event = threading.Event()
        self.chaos = Chaos(settings.chaos_rate, settings.chaos_seed) if settings.chaos_rate else None
        ports.check({"API_PORT": settings.api_port, "AWS_PORT": settings.aws_port})  # before anything starts
        self.emulator = Emulator(settings.aws_port)
        point_boto3_at(settings.aws_url)
        self.stack = provision(settings)
        self.roles = roles(self.stack)  # from now on each function acts as its role, and only as it
        install(settings.aws_url, self.roles)
        self.pollers = []
        for source in self.stack.sources:  # N pollers share N instances, as N concurrent invocations
            count = instances(source)
            pool = self.pool(source.function, count)
            self.pollers += [
                Poller(source, pool, REGION, self.stop_event, settings.async_retry_delay) for _ in range(count)
            ]
        self.api = self.serve_api()
        for poller in self.pollers:
            poller.start()
        self.api_thread = threading.Thread(target=self.api.serve_forever, name="api", daemon=True)
        self.api_thread.start()

    def serve_api(self):
        try:
            pool = self.pool(self.stack.api_function(), INSTANCES["api"])
            return make_server("127.0.0.1", self.settings.api_port, pool)
        except OSError as error:  # taken since the check: nothing of ours may keep running
            self.stop_event.set()
            self.emulator.stop()
            raise ports.taken({"API_PORT": self.settings.api_port}) from error

    def pool(self, function: str, instances: int) -> FunctionPool:
        path, handler = self.stack.handler_path(function)
        timeout = float(self.stack.resolve(self.stack.function_property(function, "Timeout", 3)))
        prepare = self.chaos.infect if self.chaos else None
        layers, role = self.stack.layer_paths(function), self.roles[function].name
        return FunctionPool(function, path, handler, layers, instances, timeout, prepare, access_key=role)

    def ready_line(self) -> str:
        stack = self.stack
        # The local default is announced (DESIGN); a secret you chose is never printed.
        if self.settings.jwt_secret == DEFAULT_JWT_SECRET:
            key_note = f"JWT secret {DEFAULT_JWT_SECRET!r} (the local default)"
        else:
            key_note = "JWT secret from WEBHOOKS_JWT_SECRET"
        return (
            f"blue-webhooks local stack ready: API {self.settings.api_url}  AWS {self.settings.aws_url}  "
            f"bus {stack.output('EventBusName')}  {key_note}"
        )

    def stop(self) -> None:
        self.stop_event.set()
        self.api.shutdown()
        self.api.server_close()
        for poller in self.pollers:
            poller.join(timeout=3)
        self.emulator.stop()
