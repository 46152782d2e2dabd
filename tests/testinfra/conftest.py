# Copyright (c) 2026, the kubeha.cluster authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Fixtures of the host-level suite: which groups a host is in and the settings it was built with.

The suite reads groups and variables from the Ansible inventory, so it runs on testinfra's ansible backend:

    pytest tests/testinfra --hosts='ansible://k8s_cluster' --ansible-inventory=INVENTORY --sudo

(Molecule's testinfra verifier passes --connection=ansible and --ansible-inventory itself; the hosts default to the
k8s_cluster group, see test_hosts.py.) --sudo is needed: several files and sockets are root's only.

A setting the inventory does not give takes the collection's own default (roles/*/defaults/main.yml, plain
values only), as the roles do.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]


def _collection_defaults():
    """Every role's plain (untemplated) defaults, merged: the values a run without inventory overrides uses."""
    merged = {}
    for path in sorted(REPO_ROOT.glob("roles/*/defaults/main.yml")):
        for key, value in (yaml.safe_load(path.read_text()) or {}).items():
            if isinstance(value, str) and "{{" in value:
                continue
            merged[key] = value
    return merged


DEFAULTS = _collection_defaults()


class KubehaHost:
    """One inventory host as the roles see it: its groups, its settings and its cluster address."""

    def __init__(self, name, variables):
        self.name = name
        self.vars = {**DEFAULTS, **variables}
        self.groups = set(variables.get("group_names", []))
        all_groups = variables.get("groups", {})
        lb_group = all_groups.get("kube_lb") or []
        # The loadbalancer role's rule: the kube_lb group when it has hosts, else the control planes.
        self.load_balancers = set(lb_group or all_groups.get("kube_control_plane", []))

    @property
    def is_control_plane(self):
        return "kube_control_plane" in self.groups

    @property
    def is_worker(self):
        return "kube_node" in self.groups and not self.is_control_plane

    @property
    def is_load_balancer(self):
        return self.name in self.load_balancers

    @property
    def in_cluster(self):
        return self.is_control_plane or "kube_node" in self.groups

    @property
    def address(self):
        """The node address: kubeha_node_address, else ansible_host when it is an IPv4 address (as preflight)."""
        explicit = self.vars.get("kubeha_node_address")
        if explicit:
            return str(explicit)
        candidate = str(self.vars.get("ansible_host", ""))
        return candidate if re.fullmatch(r"[0-9]+(\.[0-9]+){3}", candidate) else None

    def setting(self, name):
        try:
            return self.vars[name]
        except KeyError:
            pytest.fail(f"{self.name}: {name} is neither in the inventory nor a plain collection default")


@pytest.fixture(scope="module")
def kubeha(host):
    """The inventory's view of the host under test (groups, settings with the collection defaults)."""
    if host.backend.NAME != "ansible":
        pytest.fail("the kubeha suite reads groups and settings from an Ansible inventory: run it with "
                    "--hosts='ansible://k8s_cluster' --ansible-inventory=INVENTORY (testinfra's ansible backend)")
    variables = host.ansible.get_variables()
    return KubehaHost(variables["inventory_hostname"], variables)


@pytest.fixture(scope="module")
def control_plane(kubeha):
    """The host, when it is a control plane (the test is skipped on the others)."""
    if not kubeha.is_control_plane:
        pytest.skip(f"{kubeha.name} is not in kube_control_plane")
    return kubeha


@pytest.fixture(scope="module")
def worker(kubeha):
    """The host, when it is a worker and no control plane (the test is skipped on the others)."""
    if not kubeha.is_worker:
        pytest.skip(f"{kubeha.name} is not a worker")
    return kubeha


@pytest.fixture(scope="module")
def load_balancer(kubeha):
    """The host, when haproxy and keepalived run on it: kube_lb, or the control planes when kube_lb is empty."""
    if not kubeha.is_load_balancer:
        pytest.skip(f"{kubeha.name} is no load balancer")
    return kubeha


@pytest.fixture(scope="module")
def cluster_node(kubeha):
    """The host, when it is a Kubernetes node (a control plane or a worker; not a dedicated load balancer)."""
    if not kubeha.in_cluster:
        pytest.skip(f"{kubeha.name} is no Kubernetes node")
    return kubeha
