# Copyright (c) 2026, the kubeha.cluster authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The lab's own promises (docs/lab.md): lab hosts look like the VMs the roles expect. Lab-only, so not part of the
shared suite in tests/testinfra, which Molecule runs next to this file (molecule.yml verifier)."""

from __future__ import annotations

import subprocess

testinfra_hosts = ["ansible://k8s_cluster"]


def test_systemd_runs_and_the_login_is_the_non_root_user(host):
    assert host.run("systemctl is-system-running").stdout.strip() in ("running", "degraded")
    # The verifier runs every command through sudo (--sudo): SUDO_USER is the login that became root.
    assert host.check_output("printenv SUDO_USER || id -un") == "kubeha"


def test_var_lib_is_a_volume_and_cgroups_are_writable(host):
    assert "overlay" not in host.check_output("findmnt -n -o FSTYPE --target /var/lib")
    memory = host.check_output("grep ' /sys/fs/cgroup/memory ' /proc/mounts || grep ' /sys/fs/cgroup ' /proc/mounts")
    assert memory.split()[3].split(",")[0] == "rw", memory


def test_host_name_and_address_match_the_inventory(host):
    variables = host.ansible.get_variables()
    assert host.check_output("hostname") == variables["inventory_hostname"]
    assert f"{variables['ansible_host']}/" in host.check_output("ip -o -4 addr show scope global")


def test_docker_uses_the_lab_runtime_shim(host):
    shim = host.file("/usr/local/sbin/kubeha-lab-runc")
    assert shim.is_file and shim.mode & 0o111, "the lab runtime shim is missing or not executable"
    if host.exists("docker"):
        with host.sudo():
            assert host.check_output("docker info -f '{{.DefaultRuntime}}'") == "kubeha-lab"


def test_the_package_cache_answers_from_the_host(host):
    proxy = host.file("/etc/apt/apt.conf.d/90kubeha-proxy")
    assert proxy.is_file, "apt does not go through the lab's package cache (os_prep_apt_proxy)"
    url = proxy.content_string.split('"')[1]
    fetch = "import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())"
    assert "Apt-Cacher NG" in host.check_output("python3 -c %s %s", fetch, f"{url.rstrip('/')}/acng-report.html")


def test_no_lab_container_was_given_the_vip(host):
    vip = host.ansible.get_variables()["kubeha_api_vip"]
    addresses = subprocess.run(
        ["docker", "network", "inspect", "kubeha-lab", "-f", "{{range .Containers}}{{.IPv4Address}} {{end}}"],
        check=True, capture_output=True, text=True).stdout
    assert f"{vip}/" not in addresses.split(), addresses
