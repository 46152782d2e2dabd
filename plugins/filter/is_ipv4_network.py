# -*- coding: utf-8 -*-
# Copyright: kubeha.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: is_ipv4_network
short_description: Tell whether a value is an IPv4 network in CIDR notation
version_added: 0.1.0
description:
  - Returns V(true) when the input is a string of the form C(ADDRESS/PREFIX) with an IPv4 address in dotted-quad
    form and a prefix length from 0 to 32, such as V(10.244.0.0/16), and V(false) for anything else.
  - Host bits may be set (V(192.0.2.11/24) is accepted and stands for V(192.0.2.0/24)); a netmask in place of the
    prefix length is not accepted.
options:
  _input:
    description: The value to check; any type.
    type: raw
    required: true
seealso:
  - plugin: kubeha.cluster.is_ipv4_address
    plugin_type: filter
  - plugin: kubeha.cluster.cidr_overlaps
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Check the pod network's form
  ansible.builtin.assert:
    that: kubeha_pod_cidr | kubeha.cluster.is_ipv4_network
    fail_msg: kubeha_pod_cidr must be an IPv4 CIDR such as 10.244.0.0/16

# "10.244.0.0/16", "192.0.2.11/24" -> true; "10.244.0.0", "10.0.0.0/33", "10.0.0.0/255.0.0.0" -> false
"""

RETURN = r"""
_value:
  description: Whether the input is an IPv4 network in CIDR notation.
  type: bool
"""

from ansible_collections.kubeha.cluster.plugins.plugin_utils._ipv4 import parse_network


def is_ipv4_network(value):
    return parse_network(value) is not None


class FilterModule(object):
    def filters(self):
        return {"is_ipv4_network": is_ipv4_network}
