# -*- coding: utf-8 -*-
# Copyright: kubeha.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: is_ipv4_address
short_description: Tell whether a value is an IPv4 address
version_added: 0.1.0
description:
  - Returns V(true) when the input is a string holding one IPv4 address in dotted-quad form, such as V(192.0.2.10),
    and V(false) for anything else.
  - Strict on form, as an inventory value should be (no prefix length, no leading zeros, no host name, no IPv6).
options:
  _input:
    description: The value to check; any type.
    type: raw
    required: true
seealso:
  - plugin: kubeha.cluster.is_ipv4_network
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Refuse a host name as the API VIP
  ansible.builtin.assert:
    that: kubeha_api_vip | kubeha.cluster.is_ipv4_address
    fail_msg: kubeha_api_vip must be an IPv4 address

# "192.0.2.10" -> true; "192.0.2.10/24", "api.example.com", "192.0.2.010", 3232235786 -> false
"""

RETURN = r"""
_value:
  description: Whether the input is an IPv4 address.
  type: bool
"""

from ansible_collections.kubeha.cluster.plugins.plugin_utils._ipv4 import parse_address


def is_ipv4_address(value):
    return parse_address(value) is not None


class FilterModule(object):
    def filters(self):
        return {"is_ipv4_address": is_ipv4_address}
