# -*- coding: utf-8 -*-
# Copyright: kubeha.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: overlapping_networks
short_description: List the pairs of named IPv4 networks that overlap
version_added: 0.1.0
description:
  - Compares every network of the input with every later one of the input and with every entry of O(others), and
    returns the pairs that share an address, in input order. Entries of O(others) are not compared with each other.
  - Each entry is a dictionary with a C(cidr) (an IPv4 network in CIDR notation, or an address, taken as a C(/32))
    and any other keys, such as a C(name) for messages; the pairs hold the entries as given.
  - Fails when a C(cidr) is not IPv4, naming the entry.
options:
  _input:
    description: The networks that must not overlap each other or any of O(others).
    type: list
    elements: dict
    required: true
  others:
    description: Networks (or addresses) the input's networks must not overlap, but which may overlap each other.
    type: list
    elements: dict
    default: []
seealso:
  - plugin: kubeha.cluster.cidr_overlaps
    plugin_type: filter
"""

EXAMPLES = r"""
- name: The pod and service networks must be disjoint, from each other and from the hosts' network
  ansible.builtin.assert:
    that: _overlaps | length == 0
    fail_msg: >-
      {% for a, b in _overlaps %}{{ a.name }} {{ a.cidr }} overlaps {{ b.name }} {{ b.cidr }}; {% endfor %}
  vars:
    _overlaps: >-
      {{ [{'name': 'kubeha_pod_cidr', 'cidr': kubeha_pod_cidr},
          {'name': 'kubeha_service_cidr', 'cidr': kubeha_service_cidr}]
         | kubeha.cluster.overlapping_networks([{'name': 'the hosts\' network', 'cidr': '192.0.2.0/24'},
                                                {'name': 'the VIP', 'cidr': '192.0.2.100'}]) }}
"""

RETURN = r"""
_value:
  description: The overlapping pairs, each a list of two entries (input entry first), in input order; empty when none.
  type: list
  elements: list
"""

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.kubeha.cluster.plugins.plugin_utils._ipv4 import network_or_address


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
        return {"overlapping_networks": overlapping_networks}
