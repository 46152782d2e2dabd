# -*- coding: utf-8 -*-
# Copyright (c) 2026, the kubeha.cluster authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""kubeha_mirror_preset: one switch sets every download source, each still overridable (docs/mirrors.md).

The roles' defaults are rendered with Ansible's templar for the upstreams, the china preset, a custom kubeha_mirror
and a preset with one source overridden.
"""

from __future__ import annotations


import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

from kubeha_testlib import load_role_file as load
SOURCES = {
    "image_repository": "{{ kubeha_image_repository }}",
    "pause": "{{ _kubeha_pause_image }}",
    "registry_mirrors": "{{ _kubeha_registry_mirrors }}",
    "kubernetes_packages": "{{ _kube_packages_repo_url }}",
    "docker_packages": "{{ container_runtime_docker_repo_url }}",
    "cri_dockerd": "{{ container_runtime_cri_dockerd_download_url }}",
    "flannel": "{{ cni_flannel_image }}",
    "calico_registry": "{{ cni_calico_registry }}",
}


def sources(**inventory):
    data = {}
    for role, kind in [("kubeha", "defaults"), ("container_runtime", "defaults"), ("container_runtime", "vars"),
                       ("kube_packages", "defaults"), ("kube_packages", "vars"), ("cni", "defaults")]:
        data.update(load(role, kind))
    data.update(ansible_facts={"os_family": "Debian", "distribution": "Debian", "architecture": "x86_64"},
                _container_runtime_arch="amd64")
    data.update(inventory)  # the inventory wins over every role default, as in a play
    templar = Templar(loader=DataLoader(), variables=data)
    out = {}
    for name, expression in SOURCES.items():
        value = templar.template(expression)
        out[name] = value.strip() if isinstance(value, str) else value
    return out


UPSTREAM = {
    "image_repository": "registry.k8s.io",
    "pause": "registry.k8s.io/pause:3.8",
    "registry_mirrors": [],
    "kubernetes_packages": "https://pkgs.k8s.io/core:/stable:/v1.25",
    "docker_packages": "https://download.docker.com/linux/debian",
    "cri_dockerd": "https://github.com/Mirantis/cri-dockerd/releases/download/v0.3.26/cri-dockerd-0.3.26.amd64.tgz",
    "flannel": "docker.io/flannel/flannel:v0.20.2",
    "calico_registry": "",
}


def test_no_preset_is_the_upstreams():
    assert sources() == UPSTREAM


def test_the_china_preset_sets_every_source_it_knows():
    got = sources(kubeha_mirror_preset="china")
    assert got == {
        "image_repository": "registry.aliyuncs.com/google_containers",
        # kubeadm pulls flat names from a custom repository; the runtime's pause follows it.
        "pause": "registry.aliyuncs.com/google_containers/pause:3.8",
        "registry_mirrors": ["https://docker.m.daocloud.io"],
        "kubernetes_packages": "https://mirrors.aliyun.com/kubernetes-new/core/stable/v1.25",
        "docker_packages": "https://mirrors.aliyun.com/docker-ce/linux/debian",
        # No mirror of GitHub's release downloads is known: upstream, and preflight asks for the URL.
        "cri_dockerd": UPSTREAM["cri_dockerd"],
        "flannel": "docker.m.daocloud.io/flannel/flannel:v0.20.2",
        "calico_registry": "docker.m.daocloud.io",
    }


def test_a_custom_mirror_sets_every_source():
    mirror = {"kubernetes_packages": "https://mirror.corp.test/k8s", "docker_packages": "https://mirror.corp.test/docker",
              "cri_dockerd_download": "https://mirror.corp.test/cri-dockerd", "image_repository": "registry.corp.test/k8s",
              "registry_mirrors": ["https://hub.corp.test"], "cni_registry": "registry.corp.test/hub"}
    got = sources(kubeha_mirror_preset="custom", kubeha_mirror=mirror)
    assert got == {
        "image_repository": "registry.corp.test/k8s",
        "pause": "registry.corp.test/k8s/pause:3.8",
        "registry_mirrors": ["https://hub.corp.test"],
        "kubernetes_packages": "https://mirror.corp.test/k8s/v1.25",
        "docker_packages": "https://mirror.corp.test/docker/debian",
        "cri_dockerd": "https://mirror.corp.test/cri-dockerd/v0.3.26/cri-dockerd-0.3.26.amd64.tgz",
        "flannel": "registry.corp.test/hub/flannel/flannel:v0.20.2",
        "calico_registry": "registry.corp.test/hub",
    }


@pytest.mark.parametrize("variable, value, source", [
    ("kubeha_image_repository", "registry.other.test/k8s", "image_repository"),
    ("kubeha_registry_mirrors", ["https://hub.other.test"], "registry_mirrors"),
    ("kube_packages_repo_base_url", "https://pkgs.other.test/core/stable", "kubernetes_packages"),
    ("cni_flannel_image", "registry.other.test/flannel:v0.21.4", "flannel"),
])
def test_each_source_still_wins_over_the_preset(variable, value, source):
    got = sources(kubeha_mirror_preset="china", **{variable: value})
    expected = value + "/v1.25" if source == "kubernetes_packages" else value
    assert got[source] == expected
    # The other sources keep the preset's.
    china = sources(kubeha_mirror_preset="china")
    assert {k: v for k, v in got.items() if k != source and not (source == "image_repository" and k == "pause")} == \
        {k: v for k, v in china.items() if k != source and not (source == "image_repository" and k == "pause")}
