# -*- coding: utf-8 -*-

# Copyright (c) 2026, the kubeha.cluster authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # The option the package filters (package_query_argv, missing_packages; plugins/plugin_utils/_packages.py) share.
    DOCUMENTATION = r"""
options:
  family:
    description:
      - The host's OS family, C(ansible_facts.os_family) - V(Debian) queries C(dpkg-query), V(RedHat) C(rpm).
    type: str
    choices: [Debian, RedHat]
    default: Debian
"""
