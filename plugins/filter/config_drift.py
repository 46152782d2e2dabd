# -*- coding: utf-8 -*-
# Copyright: kubeha.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: config_drift
short_description: List where a running configuration differs from what the inventory asks for
version_added: 0.1.0
description:
  - Compares a wanted configuration (the input, e.g. the C(ClusterConfiguration) the roles would give kubeadm) with
    the one the cluster runs (O(current), e.g. read from the C(kubeadm-config) ConfigMap) and returns the dotted
    paths of the settings that differ, sorted.
  - Only what the input states is compared; settings that kubeadm adds with its own defaults, and that the input
    does not mention, are not drift.
  - A V(null) in the input means that the setting must not be set. A running setting of that name is drift (a flag
    the inventory turned off, such as an audit option, that the cluster still runs); a missing one is not. Empty values (V({}),
    V([]), V(""), and dictionaries holding only such values) match a setting the running configuration leaves out.
  - Dictionaries are compared key by key, recursively. Lists are compared as a whole, except lists of plain strings,
    which are compared as sets when O(unordered) is V(true) (the default), so C(certSANs) in another order is not
    drift. Numbers and strings that print the same (V(8443) and V("8443")) are equal, and so are Go durations of the
    same length (V(1h7m) and the V(1h7m0s) Kubernetes stores).
options:
  _input:
    description: The wanted configuration.
    type: dict
    required: true
  current:
    description: The running configuration.
    type: dict
    required: true
  unordered:
    description: Compare lists of strings as sets.
    type: bool
    default: true
  details:
    description:
      - Return, for each difference, a dictionary with C(path), C(wanted) and C(current) (V(null) when the running
        configuration lacks the setting) instead of the path alone.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Settings of the ClusterConfiguration that differ from the running cluster
  ansible.builtin.set_fact:
    cluster_drift: "{{ wanted | kubeha.cluster.config_drift(running) }}"
  vars:
    wanted: {networking: {podSubnet: 10.244.0.0/16}, apiServer: {certSANs: [a, b]}}
    running: {networking: {podSubnet: 10.32.0.0/16, dnsDomain: cluster.local}, apiServer: {certSANs: [b, a]}}
# cluster_drift == ["networking.podSubnet"]
"""

RETURN = r"""
_value:
  description:
    - Dotted paths (V(networking.podSubnet), V(apiServer.extraArgs.profiling)) where the two differ, sorted;
      with O(details), dictionaries C(path), C(wanted), C(current) in the same order.
  type: list
  elements: raw
"""

import re

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.collections import is_sequence
from jinja2.runtime import Undefined


_DURATION_RE = re.compile(r"\A(?:\d+(?:\.\d*)?(?:ns|us|\u00b5s|ms|s|m|h))+\Z")
_DURATION_PART_RE = re.compile(r"(\d+(?:\.\d*)?)(ns|us|\u00b5s|ms|s|m|h)")
_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "\u00b5s": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def _duration(value):
    """Seconds of a Go duration string ("1h7m", "1h7m0s", "90s"), else None. Kubernetes stores durations in their
    canonical form (1h7m0s), so an inventory's 1h7m must compare equal to it."""
    if not isinstance(value, str) or not _DURATION_RE.match(value):
        return None
    return sum(float(number) * _DURATION_UNITS[unit] for number, unit in _DURATION_PART_RE.findall(value))


def _scalar(value):
    if isinstance(value, bool) or value is None:
        return value
    return str(value)


def _differ(wanted, current):
    seconds = _duration(wanted), _duration(current)
    if None not in seconds:
        return abs(seconds[0] - seconds[1]) > 1e-9
    return _scalar(wanted) != _scalar(current)


def _absent(value):
    """A wanted value that matches a setting the running configuration leaves out."""
    if isinstance(value, dict):
        return all(_absent(v) for v in value.values())
    return value in ({}, [], "", None)


def _walk(wanted, current, path, unordered, out):
    if isinstance(wanted, dict):
        if not isinstance(current, dict):
            out.append(path or ".")
            return
        for key in wanted:
            sub = "%s.%s" % (path, key) if path else str(key)
            if key not in current:
                # An empty wanted value (extraArgs: {}, certSANs: [], a setting that must not be set) matches a
                # setting kubeadm left out.
                if _absent(wanted[key]):
                    continue
                out.append(sub)
            else:
                _walk(wanted[key], current[key], sub, unordered, out)
    elif is_sequence(wanted):
        if not is_sequence(current):
            out.append(path)
        elif unordered and all(isinstance(v, str) for v in wanted) and all(isinstance(v, str) for v in current):
            if set(wanted) != set(current):
                out.append(path)
        elif len(wanted) != len(current):
            out.append(path)
        else:
            sub = []
            for i, (w, c) in enumerate(zip(wanted, current)):
                _walk(w, c, "%s[%d]" % (path, i), unordered, sub)
            if sub:
                out.append(path)
    elif _differ(wanted, current):
        out.append(path)


def _get(data, path):
    for part in path.split("."):
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def config_drift(wanted, current, unordered=True, details=False):
    for value in (wanted, current):
        if isinstance(value, Undefined):
            return value  # let Jinja report the undefined variable by its name
    if not isinstance(wanted, dict) or not isinstance(current, dict):
        raise AnsibleFilterError(
            "config_drift: both the input and current must be dictionaries, got %s and %s"
            % (type(wanted).__name__, type(current).__name__))
    out = []
    _walk(wanted, current, "", unordered, out)
    paths = sorted(set(out))
    if not details:
        return paths
    return [{"path": p, "wanted": _get(wanted, p), "current": _get(current, p)} for p in paths]


class FilterModule(object):
    def filters(self):
        return {"config_drift": config_drift}
