# -*- coding: utf-8 -*-
# Copyright (c) 2026, the kubeha.cluster authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: missing_packages
short_description: The wanted packages a host does not have, from a read-only query of its package database
version_added: 0.1.0
description:
  - Reads the output of the command P(kubeha.cluster.package_query_argv#filter) gives (C(dpkg-query) on the Debian
    family, C(rpm -q) on the RHEL family) and returns the entries of O(wanted) that are not installed, or installed at
    another version than a pinned one (C(name=version-glob)), in their order.
  - The roles call apt or dnf only for these, after a fresh package index; check mode reports them instead.
extends_documentation_fragment:
  - kubeha.cluster.packages
options:
  _input:
    description: The query's standard output.
    type: str
    required: true
  wanted:
    description: Package specifications (C(name), C(name=version-glob) on Debian, C(name-version) on RHEL).
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: Which base packages are missing
  ansible.builtin.set_fact:
    missing: "{{ query.stdout | kubeha.cluster.missing_packages(['conntrack', 'socat'], ansible_facts.os_family) }}"
"""

RETURN = r"""
_value:
  description: The entries of O(wanted) the host lacks.
  type: list
  elements: str
"""

from ansible_collections.kubeha.cluster.plugins.plugin_utils._packages import missing_packages


class FilterModule(object):
    def filters(self):
        return {"missing_packages": missing_packages}
