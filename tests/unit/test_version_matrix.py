# -*- coding: utf-8 -*-
# Copyright (c) 2026, the kubeha.cluster authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The version matrix (roles/kubeha/defaults/main.yml, docs/versions.md) and what the roles derive from it.

Rendered with Ansible's templar from the roles' own defaults and vars files: the pause image, the docker-ce pin, the
Kubernetes repository key's URL. The defaults are checked against the matrix's own rule of broken pairs.
"""

from __future__ import annotations


import pytest
import yaml
from ansible.module_utils.compat.version import LooseVersion
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

from kubeha_testlib import load_role_file as load


KUBEHA = load("kubeha")
MATRIX = KUBEHA["_kubeha_version_matrix"]
BROKEN = KUBEHA["_kubeha_cri_dockerd_docker_broken"]
RUNTIME = load("container_runtime")


def render(expression, **variables):
    data = {**KUBEHA, **load("container_runtime"), **load("container_runtime", "vars"), **load("kube_packages"),
            **load("kube_packages", "vars"), "kubeha_install_source": "online", "kubeha_bundle_path": ""}
    data.update(variables)
    return Templar(loader=DataLoader(), variables=data).template(expression)


def broken(cri_dockerd, docker_major):
    v = LooseVersion(cri_dockerd)
    return [r for r in BROKEN if LooseVersion(r["cri_dockerd_from"]) <= v < LooseVersion(r["cri_dockerd_below"])
            and r["docker_from"] <= docker_major < r["docker_below"]]


def test_every_supported_minor_has_each_entry():
    assert list(MATRIX) == sorted(MATRIX, key=LooseVersion), "minors out of order (the newest must be last)"
    for minor, row in MATRIX.items():
        assert set(row) == {"pause", "docker_ce"}, (minor, row)
        assert str(row["docker_ce"]).isdigit(), (minor, row)
    assert render("{{ _kubeha_supported_versions }}") == list(MATRIX)
    preflight = load("preflight")
    assert set(preflight["preflight_cri_dockerd_min_versions"]) <= set(MATRIX)


def test_broken_ranges_are_well_formed():
    for r in BROKEN:
        assert LooseVersion(r["cri_dockerd_from"]) < LooseVersion(r["cri_dockerd_below"]), r
        assert r["docker_from"] < r["docker_below"], r
        assert r["reason"], r


@pytest.mark.parametrize("docker_major", [20, 23, 24, 25, 28, 29, 30, 999])
def test_the_default_cri_dockerd_talks_to_every_docker_major(docker_major):
    """The default download works with the matrix's docker-ce, Debian 12's docker.io (20.10) and the newest."""
    version = str(RUNTIME["container_runtime_cri_dockerd_version"])
    assert version in RUNTIME["container_runtime_cri_dockerd_checksums"]
    assert not broken(version, docker_major)


@pytest.mark.parametrize("cri_dockerd, docker_major, is_broken", [
    ("0.3.7", 29, True),     # the default until 2026-11: client API 1.42 against Docker 29's floor 1.44
    ("0.3.7", 28, False),
    ("0.3.12", 29, False),   # Docker SDK 25, API 1.44
    ("0.3.14", 29, True),    # the offline bundle's: SDK rolled back to 24
    ("0.3.14", 20, False),   # ... with Debian 12's docker.io, as in the lab
    ("0.3.16", 29, False),
    ("0.4.0", 20, True),     # refuses daemons older than API 1.42
    ("0.4.1", 23, False),
])
def test_known_pairs(cri_dockerd, docker_major, is_broken):
    assert bool(broken(cri_dockerd, docker_major)) == is_broken


@pytest.mark.parametrize("minor, expected", [("1.25", "registry.k8s.io/pause:3.8"), ("1.31", "registry.k8s.io/pause:3.10"),
                                             ("1.35", "registry.k8s.io/pause:3.10.1")])
def test_pause_image_follows_the_matrix_and_the_repository(minor, expected):
    assert render("{{ _kubeha_pause_image }}", kubeha_kubernetes_version=minor + ".0").strip() == expected
    mirrored = render("{{ _kubeha_pause_image }}", kubeha_kubernetes_version=minor + ".0",
                      kubeha_image_repository="registry.example.test/k8s").strip()
    assert mirrored == expected.replace("registry.k8s.io", "registry.example.test/k8s")


@pytest.mark.parametrize("family, source, pin, expected, version", [
    ("Debian", "docker", "", ["docker-ce=5:28.*", "docker-ce-cli=5:28.*", "containerd.io"], "1.25.0"),
    # A minor outside the matrix (preflight refuses it anyway): no guess at a major.
    ("Debian", "docker", "", ["docker-ce", "docker-ce-cli", "containerd.io"], "1.99.0"),
    ("Debian", "docker", "5:29.1.3-1~debian.12~bookworm",
     ["docker-ce=5:29.1.3-1~debian.12~bookworm", "docker-ce-cli=5:29.1.3-1~debian.12~bookworm", "containerd.io"], "1.25.0"),
    ("RedHat", "docker", "", ["docker-ce", "docker-ce-cli", "containerd.io"], "1.25.0"),
    ("RedHat", "docker", "28.5.2", ["docker-ce-28.5.2", "docker-ce-cli-28.5.2", "containerd.io"], "1.25.0"),
    ("Debian", "distribution", "", ["docker.io"], "1.25.0"),
])
def test_docker_packages_pin_the_matrix_major_on_debian(family, source, pin, expected, version):
    got = render("{{ _container_runtime_docker_packages_pinned }}", kubeha_kubernetes_version=version,
                 container_runtime_docker_source=source, container_runtime_docker_version=pin,
                 ansible_facts={"os_family": family})
    assert (yaml.safe_load(got) if isinstance(got, str) else got) == expected


@pytest.mark.parametrize("version, key_minor, expected", [
    ("1.25.0", "", "https://pkgs.k8s.io/core:/stable:/v1.35"),   # v1.24-v1.27 serve an expired copy of the key
    ("1.27.4", "", "https://pkgs.k8s.io/core:/stable:/v1.35"),
    ("1.28.2", "", "https://pkgs.k8s.io/core:/stable:/v1.28"),
    ("1.25.0", "1.31", "https://pkgs.k8s.io/core:/stable:/v1.31"),
])
def test_kubernetes_repository_key_comes_from_a_repository_with_a_valid_copy(version, key_minor, expected):
    got = render("{{ _kube_packages_repo_key_url }}", kubeha_kubernetes_version=version,
                 kube_packages_repo_key_minor=key_minor).strip()
    assert got == expected
    # The packages still come from the minor's own repository.
    assert render("{{ _kube_packages_repo_url }}", kubeha_kubernetes_version=version).strip().endswith(
        "/v" + ".".join(version.split(".")[:2]))
