"""Where SAM's containers reach this machine: a bridge's IPv4 address, read from the interface itself."""

from devtools import dockerhost


def test_an_interfaces_ipv4_address_is_read_from_it():
    # loopback stands in for docker0, which a dockerd stopped earlier leaves behind without a named gateway
    assert dockerhost.bridge_addresses("lo") == ["127.0.0.1"]


def test_a_missing_interface_has_no_address():
    assert dockerhost.bridge_addresses("no-such-bridge0") == []
