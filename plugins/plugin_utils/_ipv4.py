# -*- coding: utf-8 -*-
# Copyright: kubeha.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""IPv4 parsing and arithmetic shared by the kubeha.cluster filter plugins (private: no stable interface).

Strict on form, because the values come from inventories: an address is a dotted quad without a prefix, a network
is an address, a slash and a prefix length 0-32 (host bits may be set, as in 192.0.2.11/24: the network is then
192.0.2.0/24). Anything else - a host name, an IPv6 value, a netmask instead of a prefix length, leading zeros,
a number - is not IPv4 for these filters.
"""

from __future__ import annotations

import ipaddress
import re

from ansible.errors import AnsibleFilterError

_PREFIX_RE = re.compile(r"^[0-9]{1,2}$")


def parse_address(value):
    """An ipaddress.IPv4Address for a dotted-quad string, else None."""
    if not isinstance(value, str) or "/" in value:
        return None
    try:
        return ipaddress.IPv4Address(value.strip())
    except ValueError:
        return None


def parse_network(value):
    """An ipaddress.IPv4Network for ADDRESS/PREFIX (host bits allowed), else None."""
    if not isinstance(value, str) or value.count("/") != 1:
        return None
    address, prefix = value.strip().split("/")
    if parse_address(address) is None or not _PREFIX_RE.match(prefix) or int(prefix) > 32:
        return None
    return ipaddress.IPv4Network(value.strip(), strict=False)


def network_or_address(value, filter_name, what):
    """A network for a CIDR or a single address (as /32); AnsibleFilterError naming the filter otherwise."""
    network = parse_network(value)
    if network is None:
        address = parse_address(value)
        if address is not None:
            network = ipaddress.IPv4Network(address)
    if network is None:
        raise AnsibleFilterError("%s: %s %r is neither an IPv4 address nor an IPv4 CIDR" % (filter_name, what, value))
    return network
