# -*- coding: utf-8 -*-
# Copyright (c) 2026, the kubeha.cluster authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the container_runtime role writes for CRI-O (kubeha_container_runtime: crio), which has never run here.

Each template is rendered as the template action renders it (Ansible's templar, trim_blocks on, the ansible_managed
header) from the roles' own defaults and vars files, and the TOML it gives is read back with tomllib: the CRI-O
drop-in (cgroup manager, conmon cgroup, default runtime, pause image) and the registries.conf drop-in (Docker Hub
mirrors). Also the CRI socket and the repository line the other roles and the apt source get.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, generate_ansible_template_vars

from kubeha_testlib import ROLES, load_role_file as load
TEMPLATES = ROLES / "container_runtime" / "templates"


def variables(**overrides):
    data = {**load("kubeha"), **load("container_runtime"), **load("container_runtime", "vars"),
            "kubeha_install_source": "online", "kubeha_bundle_path": "", "kubeha_container_runtime": "crio",
            "kubeha_kubernetes_version": "1.30.2", "ansible_facts": {"os_family": "Debian", "architecture": "x86_64"}}
    data.update(overrides)
    return data


def render_template(name, **overrides):
    """templates/<name> as the template action renders it."""
    path = TEMPLATES / name
    data = variables(**overrides)
    data.update(generate_ansible_template_vars(name, str(path), "/etc/" + name))
    templar = Templar(loader=DataLoader(), variables=data)
    return templar.do_template(path.read_text(), preserve_trailing_newlines=True, escape_backslashes=False,
                               overrides={"trim_blocks": True, "lstrip_blocks": False})


def render(expression, **overrides):
    return Templar(loader=DataLoader(), variables=variables(**overrides)).template(expression)


def crio_tasks():
    return {t["name"]: t for t in yaml.safe_load((ROLES / "container_runtime" / "tasks" / "crio.yml").read_text())}


# --- /etc/crio/crio.conf.d/10-kubeha.conf ----------------------------------------------------------------------


@pytest.mark.parametrize("overrides, runtime, pause", [
    pytest.param({}, "crun", "registry.k8s.io/pause:3.9", id="defaults"),
    pytest.param({"container_runtime_crio_default_runtime": "runc"}, "runc", "registry.k8s.io/pause:3.9", id="runc"),
    pytest.param({"kubeha_kubernetes_version": "1.28.0"}, "crun", "registry.k8s.io/pause:3.9", id="1.28"),
    pytest.param({"kubeha_kubernetes_version": "1.31.1"}, "crun", "registry.k8s.io/pause:3.10", id="1.31"),
    pytest.param({"kubeha_kubernetes_version": "1.34.0", "container_runtime_crio_default_runtime": "runc"}, "runc",
                 "registry.k8s.io/pause:3.10.1", id="1.34-runc"),
    # A mirror of registry.k8s.io (kubeha_image_repository) serves the pause image too.
    pytest.param({"kubeha_image_repository": "registry.aliyuncs.com/google_containers"}, "crun",
                 "registry.aliyuncs.com/google_containers/pause:3.9", id="image-repository-mirror"),
])
def test_crio_drop_in(overrides, runtime, pause):
    text = render_template("crio.conf.j2", **overrides)
    assert text.startswith("#"), "no ansible_managed header"
    conf = tomllib.loads(text)
    assert conf == {"crio": {
        "runtime": {"cgroup_manager": "systemd", "conmon_cgroup": "pod", "default_runtime": runtime},
        "image": {"pause_image": pause},
    }}


def test_crio_drop_in_is_read_after_the_package_one():
    """The package's 10-crio.conf defines the crun and runc tables; ours must come later to set default_runtime."""
    dest = crio_tasks()["Configure CRI-O (cgroup manager, default runtime, pause image)"]["ansible.builtin.template"]["dest"]
    assert dest.startswith("/etc/crio/crio.conf.d/")
    assert sorted([Path(dest).name, "10-crio.conf"])[-1] == Path(dest).name


def test_default_runtime_choices_are_both_packaged_runtimes():
    spec = yaml.safe_load((ROLES / "container_runtime" / "meta" / "argument_specs.yml").read_text())
    option = spec["argument_specs"]["main"]["options"]["container_runtime_crio_default_runtime"]
    assert option["choices"] == ["crun", "runc"] and option["default"] == "crun"


# --- /etc/containers/registries.conf.d/10-kubeha.conf ----------------------------------------------------------


@pytest.mark.parametrize("mirrors, expected", [
    pytest.param(["https://mirror.gcr.io"], [{"location": "mirror.gcr.io"}], id="one"),
    # Scheme and trailing slash dropped; a plain-HTTP mirror is insecure; a path (a repository namespace) is kept.
    pytest.param(["https://mirror.gcr.io/", "http://192.0.2.5:5000", "registry.example.test/dockerhub"],
                 [{"location": "mirror.gcr.io"}, {"location": "192.0.2.5:5000", "insecure": True},
                  {"location": "registry.example.test/dockerhub"}], id="three-in-order"),
])
def test_registries_drop_in_with_mirrors(mirrors, expected):
    text = render_template("crio-registries.conf.j2", kubeha_registry_mirrors=mirrors)
    conf = tomllib.loads(text)
    assert "unqualified-search-registries" not in conf
    assert conf["registry"] == [{"prefix": "docker.io", "location": "docker.io", "mirror": expected}]


def test_registries_drop_in_without_mirrors():
    """Rendered without mirrors it is plain docker.io; the role then removes the file instead of writing it."""
    conf = tomllib.loads(render_template("crio-registries.conf.j2", kubeha_registry_mirrors=[]))
    assert conf["registry"] == [{"prefix": "docker.io", "location": "docker.io"}]
    tasks = crio_tasks()
    assert tasks["Configure the Docker Hub mirrors for CRI-O"]["when"] == "_kubeha_registry_mirrors | length > 0"
    remove = tasks["Remove the Docker Hub mirrors for CRI-O"]
    assert remove["when"] == "_kubeha_registry_mirrors | length == 0"
    assert remove["ansible.builtin.file"] == {"path": "/etc/containers/registries.conf.d/10-kubeha.conf",
                                              "state": "absent"}


# --- the socket and the repository -----------------------------------------------------------------------------


@pytest.mark.parametrize("runtime, socket", [
    ("docker", "unix:///var/run/cri-dockerd.sock"),
    ("containerd", "unix:///run/containerd/containerd.sock"),
    ("crio", "unix:///var/run/crio/crio.sock"),
])
def test_cri_socket(runtime, socket):
    assert render("{{ _kubeha_cri_socket }}", kubeha_container_runtime=runtime).strip() == socket


@pytest.mark.parametrize("version, base, line", [
    ("1.30.2", None,
     "deb [signed-by=/etc/apt/keyrings/cri-o-apt-keyring.asc] "
     "https://download.opensuse.org/repositories/isv:/cri-o:/stable:/v1.30/deb/ /"),
    ("1.28.0", "https://mirror.example.test/cri-o",
     "deb [signed-by=/etc/apt/keyrings/cri-o-apt-keyring.asc] https://mirror.example.test/cri-o/v1.28/deb/ /"),
])
def test_apt_source_is_the_kubernetes_minor(version, base, line):
    overrides = {"kubeha_kubernetes_version": version}
    if base:
        overrides["container_runtime_crio_repo_base_url"] = base
    lines = [x for x in render_template("crio.list.j2", **overrides).splitlines() if x and not x.startswith("#")]
    assert lines == [line]
