# -*- coding: utf-8 -*-
# Copyright (c) 2026, the kubeha.cluster authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The IPv4 filters preflight uses, on plugins/plugin_utils/_ipv4.py. Each filter's documentation is the YAML file
of its name next to this one (is_ipv4_address.yml, ...), which is what ansible-doc -t filter reads."""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.kubeha.cluster.plugins.plugin_utils._ipv4 import network_or_address, parse_address, parse_network


def is_ipv4_address(value):
    return parse_address(value) is not None


def is_ipv4_network(value):
    return parse_network(value) is not None


def ip_in_network(address, network):
    parsed_address = parse_address(address)
    if parsed_address is None:
        raise AnsibleFilterError("ip_in_network: %r is not an IPv4 address" % (address,))
    parsed_network = parse_network(network)
    if parsed_network is None:
        raise AnsibleFilterError("ip_in_network: %r is not an IPv4 network in CIDR notation" % (network,))
    return parsed_address in parsed_network


def cidr_overlaps(value, other):
    return network_or_address(value, "cidr_overlaps", "input").overlaps(network_or_address(other, "cidr_overlaps", "other"))


def _parsed(entries, what):
    if not isinstance(entries, (list, tuple)):
        raise AnsibleFilterError("overlapping_networks: %s must be a list of dictionaries with a cidr" % what)
    out = []
    for entry in entries:
        if not isinstance(entry, Mapping) or "cidr" not in entry:
            raise AnsibleFilterError("overlapping_networks: %s entry %r has no cidr" % (what, entry))
        out.append((entry, network_or_address(entry["cidr"], "overlapping_networks", "%s entry %r" % (what, dict(entry)))))
    return out


def overlapping_networks(networks, others=None):
    mine = _parsed(networks, "input")
    theirs = _parsed(others or [], "others")
    pairs = []
    for index, (entry, network) in enumerate(mine):
        for other, other_network in mine[index + 1:] + theirs:
            if network.overlaps(other_network):
                pairs.append([entry, other])
    return pairs


class FilterModule(object):
    def filters(self):
        return {
            "is_ipv4_address": is_ipv4_address,
            "is_ipv4_network": is_ipv4_network,
            "ip_in_network": ip_in_network,
            "cidr_overlaps": cidr_overlaps,
            "overlapping_networks": overlapping_networks,
        }
