# -*- coding: utf-8 -*-
# Copyright (c) 2026, the kubeha.cluster authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The IPv4 filters preflight uses: what they accept, what they compute, and how they fail."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.kubeha.cluster.plugins.filter.ipv4 import FilterModule as Ipv4FilterModule
from ansible_collections.kubeha.cluster.plugins.filter.ipv4 import (
    cidr_overlaps, ip_in_network, is_ipv4_address, is_ipv4_network, overlapping_networks)


@pytest.mark.parametrize("value", ["192.0.2.10", "0.0.0.0", "255.255.255.255", "10.0.0.1"])
def test_is_ipv4_address_accepts_dotted_quads(value):
    assert is_ipv4_address(value) is True


@pytest.mark.parametrize("value", ["192.0.2.10/24", "192.0.2.256", "192.0.2", "192.0.2.010", "api.example.com",
                                   "2001:db8::1", "", " ", None, 3232235786, ["192.0.2.10"], "1.2.3.4.5"])
def test_is_ipv4_address_refuses_everything_else(value):
    assert is_ipv4_address(value) is False


@pytest.mark.parametrize("value", ["10.244.0.0/16", "192.0.2.11/24", "0.0.0.0/0", "192.0.2.1/32"])
def test_is_ipv4_network_accepts_cidrs(value):
    assert is_ipv4_network(value) is True


@pytest.mark.parametrize("value", ["10.244.0.0", "10.0.0.0/33", "10.0.0.0/255.0.0.0", "10.0.0.0/", "/16",
                                   "10.0.0.0/16/1", "10.0.0.0/-1", "10.0.0.0/ 8", "2001:db8::/64", None, 16,
                                   "10.0.0.0/008"])
def test_is_ipv4_network_refuses_everything_else(value):
    assert is_ipv4_network(value) is False


@pytest.mark.parametrize("address,network,expected", [
    ("192.0.2.10", "192.0.2.0/24", True),
    ("192.0.2.0", "192.0.2.0/24", True),      # network address
    ("192.0.2.255", "192.0.2.0/24", True),    # broadcast address
    ("192.0.3.21", "192.0.2.0/24", False),
    ("192.0.2.10", "192.0.2.77/24", True),    # host bits in the network are ignored
    ("10.1.2.3", "0.0.0.0/0", True),
    ("192.0.2.10", "192.0.2.11/32", False),
])
def test_ip_in_network(address, network, expected):
    assert ip_in_network(address, network) is expected


@pytest.mark.parametrize("address,network,fragment", [
    ("api.example.com", "192.0.2.0/24", "'api.example.com' is not an IPv4 address"),
    ("192.0.2.10", "192.0.2.0", "'192.0.2.0' is not an IPv4 network"),
])
def test_ip_in_network_fails_on_non_ipv4(address, network, fragment):
    with pytest.raises(AnsibleFilterError, match=fragment):
        ip_in_network(address, network)


@pytest.mark.parametrize("a,b,expected", [
    ("10.96.0.0/16", "10.96.0.0/12", True),     # contained
    ("10.96.0.0/12", "10.96.0.0/16", True),     # symmetric
    ("10.244.0.0/16", "10.96.0.0/12", False),
    ("10.111.255.255", "10.96.0.0/12", True),   # last address of the /12, as an address
    ("10.112.0.0", "10.96.0.0/12", False),      # first one after it
    ("192.0.2.11", "192.0.2.11", True),
    ("192.0.0.0/16", "192.0.2.0/24", True),
    ("192.0.2.128/25", "192.0.2.0/25", False),  # adjacent halves
    ("0.0.0.0/0", "203.0.113.7", True),
])
def test_cidr_overlaps(a, b, expected):
    assert cidr_overlaps(a, b) is expected


def test_cidr_overlaps_names_the_bad_value():
    with pytest.raises(AnsibleFilterError, match=r"cidr_overlaps: other 'cluster\.local' is neither"):
        cidr_overlaps("10.96.0.0/12", "cluster.local")


def test_filter_module_registers_every_filter_under_its_documented_name():
    filters = Ipv4FilterModule().filters()
    assert filters == {"is_ipv4_address": is_ipv4_address, "is_ipv4_network": is_ipv4_network,
                       "ip_in_network": ip_in_network, "cidr_overlaps": cidr_overlaps,
                       "overlapping_networks": overlapping_networks}
    # Each has its documentation (ansible-doc -t filter) in the YAML file of its name next to ipv4.py.
    docs = Path(__file__).resolve().parents[4] / "plugins" / "filter"
    for name in filters:
        assert yaml.safe_load((docs / (name + ".yml")).read_text())["DOCUMENTATION"]["name"] == name


POD = {"name": "kubeha_pod_cidr", "cidr": "10.244.0.0/16"}
SERVICE = {"name": "kubeha_service_cidr", "cidr": "10.96.0.0/12"}


def test_overlapping_networks_none():
    hosts = [{"name": "the hosts' network", "cidr": "192.0.2.0/24"}, {"name": "vip", "cidr": "192.0.2.100"}]
    assert overlapping_networks([POD, SERVICE], hosts) == []


def test_overlapping_networks_pairs_in_input_order():
    pod = {"name": "kubeha_pod_cidr", "cidr": "10.96.0.0/16"}
    hosts_net = {"name": "the hosts' network", "cidr": "10.96.5.0/24"}
    host = {"name": "the address of host cp1", "cidr": "10.96.5.11/32"}
    assert overlapping_networks([pod, SERVICE], [hosts_net, host]) == [
        [pod, SERVICE], [pod, hosts_net], [pod, host], [SERVICE, hosts_net], [SERVICE, host]]


def test_overlapping_networks_does_not_compare_others_with_each_other():
    # A host's address always lies in the hosts' network: that is not an overlap to report.
    others = [{"name": "net", "cidr": "192.0.2.0/24"}, {"name": "addr", "cidr": "192.0.2.11"}]
    assert overlapping_networks([POD], others) == []


@pytest.mark.parametrize("networks,others,fragment", [
    ([{"name": "kubeha_pod_cidr", "cidr": "10.244.0.0"}, {"name": "x", "cidr": "nope"}], [], "input entry .*'nope'"),
    ([POD], [{"name": "x"}], "others entry .* has no cidr"),
    ("10.0.0.0/8", [], "input must be a list"),
])
def test_overlapping_networks_rejects_bad_entries(networks, others, fragment):
    with pytest.raises(AnsibleFilterError, match=fragment):
        overlapping_networks(networks, others)
