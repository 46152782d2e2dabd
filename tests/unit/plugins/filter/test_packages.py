# -*- coding: utf-8 -*-
# Copyright (c) 2026, the kubeha.cluster authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.kubeha.cluster.plugins.plugin_utils._packages import missing_packages, package_query_argv

# dpkg-query -W -f '${Package} ${Version} ${db:Status-Status}\n' curl conntrack socat haproxy kubeadm
# on a host with curl, an uninstalled-but-known haproxy (config files left), kubeadm 1.25.0-00, and no
# conntrack or socat in its database at all (dpkg-query says so on stderr only).
DPKG = """curl 7.88.1-10+deb12u8 installed
haproxy 2.6.12-1+deb12u1 config-files
kubeadm 1.25.0-00 installed
"""


def test_debian_reports_absent_and_not_fully_installed_packages():
    assert missing_packages(DPKG, ["curl", "conntrack", "socat", "haproxy", "kubeadm"]) == ["conntrack", "socat", "haproxy"]


def test_debian_nothing_missing_on_a_converged_host():
    assert missing_packages(DPKG.splitlines(), ["kubeadm", "curl"]) == []


def test_debian_fresh_host_with_empty_probe_lacks_everything():
    assert missing_packages("", ["curl", "conntrack"]) == ["curl", "conntrack"]


def test_debian_version_pins_and_globs_compare_against_the_installed_version():
    wanted = ["kubeadm=1.25.0-*", "kubeadm=1.26.0-*", "curl=7.88.1-10+deb12u8", "curl:amd64"]
    assert missing_packages(DPKG, wanted) == ["kubeadm=1.26.0-*"]


def test_redhat_uses_rpms_not_installed_lines():
    probe = "curl-7.76.1-26.el9.x86_64\npackage conntrack-tools is not installed\npackage docker-ce-24.0.7 is not installed\n"
    assert missing_packages(probe, ["curl", "conntrack-tools", "docker-ce-24.0.7"], "RedHat") == ["conntrack-tools", "docker-ce-24.0.7"]


@pytest.mark.parametrize("probe, wanted, family", [(None, [], "Debian"), ("", "curl", "Debian"), ("", [], "Suse")])
def test_bad_input_is_an_error(probe, wanted, family):
    with pytest.raises(AnsibleFilterError):
        missing_packages(probe, wanted, family)


def test_query_argv_debian_asks_dpkg_for_bare_names_once():
    argv = package_query_argv(["kubeadm=1.25.0-*", "curl:amd64", "curl"], "Debian")
    assert argv == ["dpkg-query", "-W", "-f", "${Package} ${Version} ${db:Status-Status}\n", "kubeadm", "curl"]


def test_query_argv_redhat_passes_the_specs_to_rpm():
    assert package_query_argv(["curl", "docker-ce-24.0.7"], "RedHat") == ["rpm", "-q", "curl", "docker-ce-24.0.7"]


def test_query_argv_rejects_other_families():
    with pytest.raises(AnsibleFilterError):
        package_query_argv(["curl"], "Archlinux")
