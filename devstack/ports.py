"""The local stack's two ports: both free before it starts, else one line naming each taken port and its variable."""

import socket

HOST = "127.0.0.1"


class PortTaken(Exception):
    """A port the stack needs is someone else's; the message is the one line to print."""


def is_free(port: int) -> bool:
    """Whether a server could listen on 127.0.0.1:port now (a listener on any address of it says no)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers do: TIME_WAIT is no owner
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def taken(ports: dict[str, int]) -> PortTaken:
    """The error for these ports (variable -> port), with free ones to set instead."""
    named = " and ".join(f"{port} ({variable})" for variable, port in ports.items())
    instead = " ".join(f"{variable}={free_port()}" for variable in ports)
    return PortTaken(
        f"make run: port{'s' * (len(ports) > 1)} {named} taken by another program (another `make run`, LocalStack…); "
        f"nothing was started: run e.g. `{instead} make run`"
    )


def check(ports: dict[str, int]) -> None:
    """Raise PortTaken naming every port of `ports` (variable -> port) that is not free."""
    if busy := {variable: port for variable, port in ports.items() if not is_free(port)}:
        raise taken(busy)
