# -*- coding: utf-8 -*-
# Copyright (c) 2026, the kubeha.cluster authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: package_query_argv
short_description: The read-only command that lists which of the wanted packages a host has
version_added: 0.1.0
description:
  - Returns the argv of a query of the host's package database for the wanted packages (C(dpkg-query -W) on the Debian
    family, C(rpm -q) on the RHEL family), whose output P(kubeha.cluster.missing_packages#filter) reads.
extends_documentation_fragment:
  - kubeha.cluster.packages
options:
  _input:
    description: Package specifications.
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: Query the package database
  ansible.builtin.command:
    argv: "{{ ['conntrack', 'socat'] | kubeha.cluster.package_query_argv(ansible_facts.os_family) }}"
  register: query
  changed_when: false
  failed_when: false
  check_mode: false
"""

RETURN = r"""
_value:
  description: The command's argv.
  type: list
  elements: str
"""

from ansible_collections.kubeha.cluster.plugins.plugin_utils._packages import package_query_argv


class FilterModule(object):
    def filters(self):
        return {"package_query_argv": package_query_argv}
