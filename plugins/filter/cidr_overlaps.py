# -*- coding: utf-8 -*-
# Copyright: kubeha.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: cidr_overlaps
short_description: Tell whether two IPv4 networks (or addresses) share any address
version_added: 0.1.0
description:
  - Returns V(true) when the input and O(other) have at least one address in common. Either may be a network in
    CIDR notation (V(10.96.0.0/12); host bits may be set) or a single address (V(192.0.2.10), taken as a C(/32)).
  - Symmetric, so it also serves C(map()) over a list of networks with one fixed address or network.
  - Fails when either value is not IPv4.
options:
  _input:
    description: An IPv4 network in CIDR notation or an IPv4 address.
    type: str
    required: true
  other:
    description: An IPv4 network in CIDR notation or an IPv4 address.
    type: str
    required: true
seealso:
  - plugin: kubeha.cluster.overlapping_networks
    plugin_type: filter
  - plugin: kubeha.cluster.ip_in_network
    plugin_type: filter
"""

EXAMPLES = r"""
- name: The pod and service networks must be disjoint
  ansible.builtin.assert:
    that: not (kubeha_pod_cidr | kubeha.cluster.cidr_overlaps(kubeha_service_cidr))

- name: Is the VIP on at least one of the load balancers' networks?
  ansible.builtin.debug:
    msg: "{{ networks | map('kubeha.cluster.cidr_overlaps', kubeha_api_vip) | select | list | length > 0 }}"
  vars:
    networks: ["192.0.2.0/24", "198.51.100.0/24"]

# "10.96.0.0/16" | kubeha.cluster.cidr_overlaps("10.96.0.0/12") -> true
# "10.244.0.0/16" | kubeha.cluster.cidr_overlaps("10.96.0.0/12") -> false
"""

RETURN = r"""
_value:
  description: Whether the two share an address.
  type: bool
"""

from ansible_collections.kubeha.cluster.plugins.plugin_utils._ipv4 import network_or_address


def cidr_overlaps(value, other):
    return network_or_address(value, "cidr_overlaps", "input").overlaps(network_or_address(other, "cidr_overlaps", "other"))


class FilterModule(object):
    def filters(self):
        return {"cidr_overlaps": cidr_overlaps}
