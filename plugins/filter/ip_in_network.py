# -*- coding: utf-8 -*-
# Copyright: kubeha.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ip_in_network
short_description: Tell whether an IPv4 address lies in an IPv4 network
version_added: 0.1.0
description:
  - Returns V(true) when the input address lies in O(network), including its network and broadcast addresses.
  - Fails when either value is not IPv4 (check them first with P(kubeha.cluster.is_ipv4_address#filter) and
    P(kubeha.cluster.is_ipv4_network#filter)).
options:
  _input:
    description: An IPv4 address, such as V(192.0.2.10).
    type: str
    required: true
  network:
    description: An IPv4 network in CIDR notation, such as V(192.0.2.0/24); host bits may be set.
    type: str
    required: true
seealso:
  - plugin: kubeha.cluster.cidr_overlaps
    plugin_type: filter
"""

EXAMPLES = r"""
- name: The node address must be on the host's network
  ansible.builtin.assert:
    that: kubeha_node_address | kubeha.cluster.ip_in_network(kubeha_network_cidr)
    fail_msg: "{{ kubeha_node_address }} is not in {{ kubeha_network_cidr }}"

# "192.0.2.10" | kubeha.cluster.ip_in_network("192.0.2.0/24")  -> true
# "192.0.3.10" | kubeha.cluster.ip_in_network("192.0.2.0/24")  -> false
"""

RETURN = r"""
_value:
  description: Whether the address is in the network.
  type: bool
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.kubeha.cluster.plugins.plugin_utils._ipv4 import parse_address, parse_network


def ip_in_network(address, network):
    parsed_address = parse_address(address)
    if parsed_address is None:
        raise AnsibleFilterError("ip_in_network: %r is not an IPv4 address" % (address,))
    parsed_network = parse_network(network)
    if parsed_network is None:
        raise AnsibleFilterError("ip_in_network: %r is not an IPv4 network in CIDR notation" % (network,))
    return parsed_address in parsed_network


class FilterModule(object):
    def filters(self):
        return {"ip_in_network": ip_in_network}
