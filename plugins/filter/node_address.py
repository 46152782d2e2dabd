# -*- coding: utf-8 -*-
# Copyright: kubeha.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: node_address
short_description: A host's cluster address, the one definition every role uses
version_added: 0.1.0
description:
  - Takes a host's variables (C(hostvars[name])) and returns the address the host has in the cluster - the kubelet's
    node IP, a control plane's advertise address and etcd peer URL, a load balancer's VRRP address, C(/etc/hosts).
  - In order - C(kubeha_node_address) when the inventory sets it; C(ansible_host) when it is an IPv4 address;
    the default IPv4 address from the host's gathered facts.
  - Works for hosts a C(--limit) run leaves out as long as the inventory gives their address (the first two);
    fails with a message naming the host when it can find none, unless O(default) is given.
options:
  _input:
    description: The host's variables, C(hostvars[name]).
    type: dict
    required: true
  default:
    description: Returned instead of failing when no address is known (preflight uses V('') to report it itself).
    type: str
"""

EXAMPLES = r"""
- name: Every control plane's address
  ansible.builtin.debug:
    msg: "{{ groups['kube_control_plane'] | map('extract', hostvars) | map('kubeha.cluster.node_address') | list }}"
"""

RETURN = r"""
_value:
  description: The address, as text.
  type: str
"""

import ipaddress

from ansible.errors import AnsibleFilterError


def _ipv4(value):
    try:
        return str(ipaddress.IPv4Address(str(value)))
    except ValueError:
        return None


_FAIL = object()


def node_address(hostvars, default=_FAIL):
    try:
        given = hostvars.get("kubeha_node_address") or ""
        host = hostvars.get("ansible_host") or ""
        facts = hostvars.get("ansible_facts") or {}
        name = hostvars.get("inventory_hostname", "?")
    except AttributeError:
        raise AnsibleFilterError("node_address: the input must be a host's variables (hostvars[name])")
    if given:
        return str(given)
    if _ipv4(host):
        return _ipv4(host)
    found = (facts.get("default_ipv4") or {}).get("address")
    if found:
        return str(found)
    if default is not _FAIL:
        return default
    raise AnsibleFilterError(
        "no address for %s: set kubeha_node_address (or an IPv4 ansible_host) for it in the inventory, or include it "
        "in the run so that its facts are gathered" % name)


class FilterModule(object):
    def filters(self):
        return {"node_address": node_address}
