# -*- coding: utf-8 -*-
# Copyright (c) 2026, the kubeha.cluster authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Bad inventories: site.yml must stop in preflight with a message naming the variable or host, touching no host.

Every case runs the real site.yml (ansible-playbook, the json stdout callback) against an inventory whose hosts all
point at a closed loopback port (127.0.0.1:1): any attempt to reach a host shows up as UNREACHABLE. A case passes
when the run failed, the expected message fragments are among the failure messages, no host is unreachable or
changed, and every task that ran is a controller-side check (argument validation, assert, set_fact) of the
preflight play, or was skipped. The control cases (a valid inventory) prove the harness sees a connection when one
is made.

Checks that need a host's facts (its OS family, its architecture) run after preflight's fact-gathering step; their
cases hand the hosts' facts to Ansible through a jsonfile fact cache, so that step is skipped and still no host is
contacted.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[3]
PLAYBOOK = REPO_ROOT / "site.yml"
# Actions that run on the controller and never open a connection to the host they run for.
CONTROLLER_ACTIONS = {"validate_argument_spec", "ansible.builtin.validate_argument_spec", "assert", "ansible.builtin.assert",
                      "set_fact", "ansible.builtin.set_fact"}
DELETE = object()  # an override value that removes the variable, host or group

# --- the base inventory: valid, 3 control planes + 1 worker on 192.0.2.0/24, all reached through 127.0.0.1:1 ---

BASE = {
    "all": {
        "vars": {
            "ansible_host": "127.0.0.1",
            "ansible_port": 1,
            "ansible_user": "kubeha-preflight-test",
            "ansible_connection": "ssh",
            "ansible_ssh_timeout": 3,
            "kubeha_api_vip": "192.0.2.100",
            "kubeha_network_cidr": "192.0.2.0/24",
        },
        "children": {
            "kube_control_plane": {"hosts": {
                "cp1": {"kubeha_node_address": "192.0.2.11"},
                "cp2": {"kubeha_node_address": "192.0.2.12"},
                "cp3": {"kubeha_node_address": "192.0.2.13"},
            }},
            "kube_node": {"hosts": {"worker1": {"kubeha_node_address": "192.0.2.21"}}},
            "k8s_cluster": {"children": {"kube_control_plane": {}, "kube_node": {}}},
        },
    }
}

# --- facts, for the checks that read them: a Debian 12 amd64 host with enough CPUs and memory -------------------

FACTS = {
    "distribution": "Debian", "distribution_major_version": "12", "distribution_version": "12.5", "os_family": "Debian",
    "service_mgr": "systemd", "processor_vcpus": 2, "memtotal_mb": 4096, "architecture": "x86_64",
    "default_ipv4": {"address": "192.0.2.11", "interface": "eth0"}, "interfaces": ["lo", "eth0"],
}

# --- the fake bundle: a manifest and a few small files --------------------------------------------------------

BUNDLE_FILES = {
    "bin/kubeadm": b"kubeadm\n", "bin/kubelet": b"kubelet\n", "bin/kubectl": b"kubectl\n",
    "bin/crictl": b"crictl\n", "bin/cri-dockerd": b"cri-dockerd\n", "images/pause_3.8.tar": b"pause\n",
}


def make_bundle(root, version="v1.25.0", cri_dockerd="v0.3.7", tamper=None):
    """Write a bundle directory under root; `tamper` names a file whose content changes after hashing."""
    root.mkdir(parents=True)
    components = []
    for path, data in BUNDLE_FILES.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)
        name = Path(path).name.split("_")[0].replace(".tar", "")
        comp = {"name": name, "type": "binary", "path": path, "version": version,
                "sha256": hashlib.sha256(data).hexdigest()}
        if name == "cri-dockerd":
            comp["version"] = cri_dockerd
        if path.startswith("images/"):
            comp.update(type="image", image="registry.k8s.io/pause:3.8", version="3.8")
        components.append(comp)
    manifest = {"schema": 1, "kubernetes_version": version, "arch": "amd64", "built_by": "test",
                "components": components}
    (root / "manifest.json").write_text(json.dumps(manifest))
    if tamper:
        (root / tamper).write_bytes(b"not what the manifest says\n")
    return root


# --- the cases ----------------------------------------------------------------------------------------------
# (id, overrides, expected message fragments). Overrides: "vars" (all:vars), "hosts" ({host: {var: value}}, or
# {host: DELETE}), "group" ({group: {host: vars}} replaces a group's hosts), "children" (k8s_cluster's children),
# "drop_groups" (groups to remove), "bundle" (make_bundle keyword arguments; "missing" = a path that does not exist),
# "facts" (changes to FACTS, for every host: the run then reads the hosts' facts from a fact cache).

CASES = [
    ("no-control-plane-group", {"drop_groups": ["kube_control_plane"], "children": {"kube_node": {}}},
     ["group(s) kube_control_plane are missing or empty"]),
    ("no-kube_node-group", {"drop_groups": ["kube_node"], "children": {"kube_control_plane": {}}},
     ["The inventory has no kube_node group"]),
    ("worker-outside-k8s_cluster", {"children": {"kube_control_plane": {}}},
     ["Host(s) worker1 are in kube_control_plane or kube_node but not in k8s_cluster"]),
    ("two-control-planes", {"hosts": {"cp3": DELETE}},
     ["kube_control_plane has 2 hosts (cp1, cp2)", "odd number"]),
    ("four-control-planes", {"group": {"kube_control_plane": {
        "cp1": {"kubeha_node_address": "192.0.2.11"}, "cp2": {"kubeha_node_address": "192.0.2.12"},
        "cp3": {"kubeha_node_address": "192.0.2.13"}, "cp4": {"kubeha_node_address": "192.0.2.14"}}}},
     ["kube_control_plane has 4 hosts"]),
    ("vip-missing", {"vars": {"kubeha_api_vip": DELETE}},
     ["kubeha_api_vip"]),
    ("vip-not-an-address", {"vars": {"kubeha_api_vip": "api.example.com"}},
     ['kubeha_api_vip is "api.example.com"', "set it to a free IPv4 address"]),
    ("vip-is-a-host-address", {"vars": {"kubeha_api_vip": "192.0.2.12"}},
     ["kubeha_api_vip 192.0.2.12 is the address of host cp2: choose a free address in the hosts' subnet"]),
    ("vip-outside-subnet", {"vars": {"kubeha_api_vip": "198.51.100.10"}},
     ["kubeha_api_vip 198.51.100.10 is outside every load balancer's network (192.0.2.0/24"]),
    ("pod-overlaps-service", {"vars": {"kubeha_pod_cidr": "10.96.0.0/16"}},
     ["kubeha_pod_cidr 10.96.0.0/16 overlaps kubeha_service_cidr 10.96.0.0/12"]),
    ("pod-overlaps-hosts-network", {"vars": {"kubeha_pod_cidr": "192.0.0.0/16"}},
     ["kubeha_pod_cidr 192.0.0.0/16 overlaps the hosts' network 192.0.2.0/24"]),
    ("service-overlaps-host-address", {"vars": {"kubeha_network_cidr": DELETE, "kubeha_service_cidr": "192.0.2.0/28"}},
     ["kubeha_service_cidr 192.0.2.0/28 overlaps the address of host cp1 192.0.2.11/32"]),
    ("pod-cidr-not-a-cidr", {"vars": {"kubeha_pod_cidr": "10.244.0.0"}},
     ['kubeha_pod_cidr is "10.244.0.0"; set it to an IPv4 CIDR']),
    ("version-too-old", {"vars": {"kubeha_kubernetes_version": "1.23.17"}},
     ["kubeha_kubernetes_version 1.23.17 is not supported; choose a version of 1.24,"]),
    ("version-too-new", {"vars": {"kubeha_kubernetes_version": "1.36.0"}},
     ["kubeha_kubernetes_version 1.36.0 is not supported"]),
    ("version-with-v", {"vars": {"kubeha_kubernetes_version": "v1.25.0"}},
     ['kubeha_kubernetes_version is "v1.25.0"; write it as MAJOR.MINOR.PATCH']),
    ("docker-cri-dockerd-too-old", {"vars": {"kubeha_kubernetes_version": "1.26.3",
                                             "container_runtime_cri_dockerd_version": "0.2.6"}},
     ["kubeha_kubernetes_version 1.26.3 with kubeha_container_runtime docker needs cri-dockerd 0.3.0 or later",
      "container_runtime_cri_dockerd_version is 0.2.6"]),
    ("bundle-cri-dockerd-too-old", {"vars": {"kubeha_kubernetes_version": "1.27.0"},
                                    "bundle": {"version": "v1.27.0", "cri_dockerd": "v0.2.6"}},
     ["needs cri-dockerd 0.3.0 or later", "the bundle at kubeha_bundle_path has 0.2.6"]),
    ("unknown-runtime", {"vars": {"kubeha_container_runtime": "podman"}},
     ["kubeha_container_runtime", "docker, containerd, crio", "podman"]),
    # CRI-O: online only (the bundle carries none), and only from 1.28 (no working package repository before).
    ("crio-with-bundle", {"vars": {"kubeha_container_runtime": "crio", "kubeha_kubernetes_version": "1.28.0"},
                          "bundle": {"version": "v1.28.0"}},
     ["kubeha_container_runtime is crio but kubeha_install_source is bundle: the offline bundle carries no CRI-O",
      "use kubeha_container_runtime docker or containerd with a bundle, or kubeha_install_source online for CRI-O"]),
    ("crio-kubernetes-before-1.28", {"vars": {"kubeha_container_runtime": "crio", "kubeha_kubernetes_version": "1.27.4"}},
     ["kubeha_kubernetes_version 1.27.4 with kubeha_container_runtime crio:",
      "Set kubeha_kubernetes_version to 1.28.0 or later, or kubeha_container_runtime to docker or containerd"]),
    ("unknown-cni", {"vars": {"kubeha_cni": "cilium"}},
     ["kubeha_cni", "flannel, calico", "cilium"]),
    ("bundle-path-missing", {"bundle": "missing"},
     ["is not a directory on the controller; build the bundle or fix the path"]),
    ("bundle-other-version", {"bundle": {"version": "v1.26.0"}},
     ["The bundle at kubeha_bundle_path is for Kubernetes v1.26.0 but kubeha_kubernetes_version is 1.25.0"]),
    ("bundle-checksum-mismatch", {"bundle": {"tamper": "bin/kubelet"}},
     ["does not match its manifest.json: bin/kubelet (sha256 differs from the manifest)"]),
    ("two-hosts-one-address", {"hosts": {"worker1": {"kubeha_node_address": "192.0.2.11"}}},
     ["hosts cp1 and worker1 share the address 192.0.2.11"]),
    ("invalid-node-name", {"group": {"kube_node": {"Worker_1": {"kubeha_node_address": "192.0.2.21"}}}},
     ["Host(s) Worker_1: the inventory name becomes the Kubernetes node name"]),
    ("node-address-loopback", {"hosts": {"worker1": {"kubeha_node_address": DELETE}}, "vars": {"kubeha_network_cidr": DELETE}},
     ["Host(s) worker1 would register a loopback address as node address; set kubeha_node_address"]),
    ("node-address-outside-network", {"hosts": {"worker1": {"kubeha_node_address": "192.0.3.21"}}},
     ["The address of host worker1 (192.0.3.21 is not in 192.0.2.0/24)"]),
    ("keepalived-router-id-out-of-range", {"hosts": {"cp2": {"loadbalancer_virtual_router_id": 300}}},
     ["loadbalancer_virtual_router_id is out of range on host cp2: 300", "1-255"]),
    ("haproxy-port-is-apiserver-port", {"vars": {"kubeha_api_port": 6443}},
     ["haproxy and the API server would listen on the same port on "
      "host cp1 (haproxy kubeha_api_port 6443, API server kubeha_apiserver_port 6443); "
      "host cp2 (haproxy kubeha_api_port 6443, API server kubeha_apiserver_port 6443); "
      "host cp3 (haproxy kubeha_api_port 6443, API server kubeha_apiserver_port 6443): give them different ports"]),
    # Per-host overrides: the message names only the clashing host, with that host's own values.
    ("haproxy-port-clash-on-one-host", {"hosts": {"cp3": {"kubeha_apiserver_port": 8443}}},
     ["same port on host cp3 (haproxy kubeha_api_port 8443, API server kubeha_apiserver_port 8443): give them"]),
    ("haproxy-port-override-on-one-host", {"hosts": {"cp2": {"kubeha_api_port": 6443}}},
     ["same port on host cp2 (haproxy kubeha_api_port 6443, API server kubeha_apiserver_port 6443): give them"]),
    # The mirror preset (docs/mirrors.md): every source this install downloads from must be known.
    ("mirror-preset-with-bundle", {"vars": {"kubeha_mirror_preset": "china"}, "bundle": {}},
     ["kubeha_mirror_preset is china but kubeha_install_source is bundle", "leave kubeha_mirror_preset empty"]),
    ("mirror-preset-china-without-a-cri-dockerd-mirror", {"vars": {"kubeha_mirror_preset": "china"}},
     ["kubeha_mirror_preset is china, and the preset has no cri_dockerd_download, which this install downloads from "
      "(online, runtime docker, CNI flannel). Set container_runtime_cri_dockerd_download_url to where your site serves"]),
    # cri-dockerd's download set per host, on all hosts but one: the preset is still needed for that one.
    ("mirror-preset-china-cri-dockerd-mirror-on-some-hosts", {
        "vars": {"kubeha_mirror_preset": "china"},
        "hosts": {h: {"container_runtime_cri_dockerd_download_url": "https://files.example.test/cri-dockerd.tgz"}
                  for h in ("cp1", "cp2", "cp3")}},
     ["the preset has no cri_dockerd_download", "(its sha256 in container_runtime_cri_dockerd_checksums) on worker1, "
      "the hosts without it"]),
    ("mirror-custom-missing-sources", {"vars": {"kubeha_mirror_preset": "custom", "kubeha_mirror": {
        "kubernetes_packages": "https://mirror.example.test/k8s", "image_repository": "mirror.example.test/k8s"}}},
     ["kubeha_mirror_preset is custom, and kubeha_mirror has no cni_registry, docker_packages, cri_dockerd_download",
      "(its sha256 in container_runtime_cri_dockerd_checksums), add cni_registry, docker_packages to kubeha_mirror "
      "(docs/mirrors.md)."]),
    # Rules of the later roles, checked here before any host changes (they used to fail only in their roles).
    ("calico-with-bundle", {"vars": {"kubeha_cni": "calico"}, "bundle": {}},
     ["kubeha_cni is calico but kubeha_install_source is bundle: the offline bundle carries no Calico"]),
    ("docker-source-unknown", {"hosts": {"worker1": {"container_runtime_docker_source": "snap"}}},
     ["container_runtime_docker_source is not docker or distribution on host(s) worker1: snap;"]),
    ("cri-dockerd-version-without-checksum", {"hosts": {"cp2": {"container_runtime_cri_dockerd_version": "0.3.9"}}},
     ["container_runtime_cri_dockerd_version has no entry in container_runtime_cri_dockerd_checksums on host(s) "
      "cp2: 0.3.9, so the download cannot be verified", "(0.3.7, 0.3.26 by default)"]),
    ("docker-cgroupfs-driver", {"vars": {"container_runtime_docker_daemon_extra": {
        "exec-opts": ["native.cgroupdriver=cgroupfs"]}}},
     ["container_runtime_docker_daemon_extra sets exec-opts to another cgroup driver than the kubelet's systemd on "
      "host(s) cp1: native.cgroupdriver=cgroupfs, cp2: native.cgroupdriver=cgroupfs"]),
    ("keepalived-priority-below-1", {"vars": {"loadbalancer_priority_base": 20}},
     ["The VRRP priority is outside 1-254 on load balancer(s) cp3: 0; change loadbalancer_priority_base"]),
    ("keepalived-priority-override", {"hosts": {"cp1": {"loadbalancer_priority": 255}}},
     ["The VRRP priority is outside 1-254 on load balancer(s) cp1: 255;"]),
    ("keepalived-check-weight", {"hosts": {"cp2": {"loadbalancer_apiserver_check_weight": 0}}},
     ["Out of range on load balancer(s) cp2: loadbalancer_apiserver_check_weight 0:"]),
    # Fact-based: after the fact step (facts from the cache), still before any host is contacted.
    ("docker-from-distribution-on-rhel", {"vars": {"container_runtime_docker_source": "distribution"},
                                          "facts": {"distribution": "Rocky", "distribution_major_version": "9",
                                                    "distribution_version": "9.4", "os_family": "RedHat"}},
     ["Host cp1 runs Rocky (RedHat family), which has no Docker Engine package of its own "
      "(container_runtime_docker_packages_distribution has no RedHat entry), but container_runtime_docker_source is "
      "distribution; set container_runtime_docker_source to docker"]),
    ("cri-dockerd-no-checksum-for-arch", {"facts": {"architecture": "ppc64le"}},
     ["Host cp1 is ppc64le, and container_runtime_cri_dockerd_checksums has no checksum of cri-dockerd 0.3.26 for it"]),
    # Docker Engine and cri-dockerd that cannot talk to each other (docs/versions.md), per host.
    ("cri-dockerd-too-old-for-docker-29", {"hosts": {"cp2": {"container_runtime_cri_dockerd_version": "0.3.7",
                                                             "container_runtime_docker_version": "5:29.1.3-1~debian.12~bookworm"}},
                                           "facts": {}},
     ["Host cp2 would run cri-dockerd 0.3.7 (container_runtime_cri_dockerd_version) with Docker Engine 29 "
      "(container_runtime_docker_version 5:29.1.3-1~debian.12~bookworm): cri-dockerd 0.2.0 to before 0.3.12 speaks "
      "Docker API 1.43 at most", "Set container_runtime_docker_version", "container_runtime_cri_dockerd_version to 0.3.26"]),
    ("cri-dockerd-too-old-for-the-newest-docker-on-rhel", {
        "vars": {"container_runtime_cri_dockerd_version": "0.3.7"},
        "facts": {"distribution": "Rocky", "distribution_major_version": "9", "distribution_version": "9.4",
                  "os_family": "RedHat"}},
     ["Host cp1 would run cri-dockerd 0.3.7 (container_runtime_cri_dockerd_version) with Docker Engine from its "
      "newest release (container_runtime_docker_version is empty)"]),
    ("bundle-cri-dockerd-with-docker-29", {"vars": {"container_runtime_docker_version": "5:29.*"},
                                           "bundle": {"cri_dockerd": "v0.3.14"}, "facts": {}},
     ["Host cp1 would run cri-dockerd 0.3.14 (the bundle's) with Docker Engine 29",
      "cri-dockerd 0.3.13 to before 0.3.16", "use a bundle with a newer cri-dockerd"]),
]


def build_inventory(overrides, tmp_path):
    inv = copy.deepcopy(BASE)
    top = inv["all"]
    for key, value in overrides.get("vars", {}).items():
        if value is DELETE:
            top["vars"].pop(key, None)
        else:
            top["vars"][key] = value
    for group, hosts in overrides.get("group", {}).items():
        top["children"][group]["hosts"] = hosts
    for host, hvars in overrides.get("hosts", {}).items():
        for group in top["children"].values():
            if host in group.get("hosts", {}):
                if hvars is DELETE:
                    del group["hosts"][host]
                else:
                    for key, value in hvars.items():
                        if value is DELETE:
                            group["hosts"][host].pop(key, None)
                        else:
                            group["hosts"][host][key] = value
    if "children" in overrides:
        top["children"]["k8s_cluster"]["children"] = overrides["children"]
    for group in overrides.get("drop_groups", []):
        hosts = top["children"].pop(group)["hosts"]
        if group == "kube_control_plane":  # keep the hosts in the inventory, as workers
            top["children"]["kube_node"]["hosts"].update(hosts)
    bundle = overrides.get("bundle")
    if bundle is not None:
        top["vars"]["kubeha_install_source"] = "bundle"
        if bundle == "missing":
            top["vars"]["kubeha_bundle_path"] = str(tmp_path / "no-such-bundle")
        else:
            top["vars"]["kubeha_bundle_path"] = str(make_bundle(tmp_path / "bundle", **bundle))
    if "facts" in overrides:
        write_fact_cache(tmp_path, {**FACTS, **overrides["facts"]}, inv)
    path = tmp_path / "hosts.yml"
    path.write_text(yaml.safe_dump(inv, sort_keys=False))
    return path


def write_fact_cache(tmp_path, facts, inv):
    """A jsonfile fact cache (read by run_site) holding `facts` for every host, as the setup module reports them."""
    cache = tmp_path / "facts"
    cache.mkdir()
    hosts = [h for group in inv["all"]["children"].values() for h in group.get("hosts", {})]
    for host in hosts:
        (cache / f"kubeha_{host}").write_text(json.dumps({f"ansible_{k}": v for k, v in facts.items()}))


def run_site(inventory, tmp_path, playbook=PLAYBOOK, extra=()):
    """Run site.yml (or another playbook, with extra arguments); return the process and the record the kubeha_record
    callback wrote."""
    record = tmp_path / "record.json"
    env = dict(os.environ)
    env.update({
        "ANSIBLE_CONFIG": str(REPO_ROOT / "ansible.cfg"),
        "ANSIBLE_CALLBACK_PLUGINS": str(Path(__file__).parent / "callback_plugins"),
        "ANSIBLE_CALLBACKS_ENABLED": "kubeha_record",
        "KUBEHA_RECORD": str(record),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"),
        "ANSIBLE_SSH_CONTROL_PATH_DIR": str(tmp_path / "cp"),
    })
    if (tmp_path / "facts").is_dir():
        env.update({"ANSIBLE_CACHE_PLUGIN": "jsonfile", "ANSIBLE_CACHE_PLUGIN_CONNECTION": str(tmp_path / "facts"),
                    "ANSIBLE_CACHE_PLUGIN_PREFIX": "kubeha_", "ANSIBLE_CACHE_PLUGIN_TIMEOUT": "0"})
    proc = subprocess.run(["ansible-playbook", "-i", str(inventory), str(playbook), *extra], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    if not record.exists():
        pytest.fail(f"ansible-playbook wrote no record (rc={proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc, json.loads(record.read_text())


def failure_messages(result, failed=True):
    """Every msg of a failed result and of its failed loop items (argument-spec errors included)."""
    out = []
    if failed:
        out.append(str(result.get("msg", "")))
        out.extend(str(e) for e in result.get("argument_errors", []))
    for item in result.get("results", []):
        if isinstance(item, dict):
            out.extend(failure_messages(item, bool(item.get("failed"))))
    return out


def messages_of(report):
    return [m for r in report["results"] if r["status"] in ("failed", "unreachable") for m in failure_messages(r["result"])]


def skipped_tasks(report):
    """Names of the tasks every one of whose results was a skip."""
    statuses = {}
    for result in report["results"]:
        statuses.setdefault(result["task"], set()).add(result["status"])
    return {task for task, seen in statuses.items() if seen == {"skipped"}}


@pytest.mark.parametrize("overrides,expected", [pytest.param(o, e, id=i) for i, o, e in CASES])
def test_bad_inventory_stops_in_preflight(overrides, expected, tmp_path):
    proc, report = run_site(build_inventory(overrides, tmp_path), tmp_path)
    assert proc.returncode != 0, "site.yml succeeded with a bad inventory"
    messages = messages_of(report)
    text = " ".join(" ".join(messages).split())
    for fragment in expected:
        assert fragment in text, f"expected {fragment!r} among the failure messages:\n" + "\n".join(messages)
    # Nothing reached a host: no task after preflight started, only controller-side actions ran (or a task was skipped
    # on every host, as fact gathering is when the facts are cached), no host was unreachable (= contacted) or changed.
    skipped_only = skipped_tasks(report)
    for task in report["started"]:
        assert task["play"].startswith("Preflight"), f"task {task['task']!r} of play {task['play']!r} started"
        assert task["action"] in CONTROLLER_ACTIONS or task["task"] in skipped_only, (
            f"task {task['task']!r} ({task['action']}) started")
    assert report["stats"], "no PLAY RECAP"
    for host, stats in report["stats"].items():
        assert stats["unreachable"] == 0 and stats["changed"] == 0, f"{host} was contacted: {stats}"


def test_valid_inventory_passes_the_inventory_checks(tmp_path):
    """The control: a good inventory (with a good bundle) gets past every controller check to the first
    connection, which the closed port turns into UNREACHABLE - so the cases above would notice one."""
    proc, report = run_site(build_inventory({"bundle": {}}, tmp_path), tmp_path)
    assert proc.returncode != 0
    failed = [r for r in report["results"] if r["status"] == "failed"]
    assert not failed, "controller checks failed on a valid inventory:\n" + "\n".join(messages_of(report))
    assert any(s["unreachable"] > 0 for s in report["stats"].values()), report["stats"]
    done = [r["task"] for r in report["results"] if r["status"] == "ok"]
    for task in ("Check the inventory and the collection-wide variables",
                 "Check the bundle's files against the checksums in its manifest", "Report files that do not match the manifest"):
        assert any(t.endswith(task) for t in done), f"{task!r} did not pass: {done}"


# The valid inventories of the control below: the defaults (Docker), CRI-O where it is accepted (online, 1.28+), the
# china mirror preset completed by the inventory.
VALID_WITH_FACTS = [
    pytest.param({"facts": {}}, id="docker"),
    pytest.param({"facts": {}, "vars": {"kubeha_container_runtime": "crio", "kubeha_kubernetes_version": "1.28.0"}},
                 id="crio-1.28-online"),
    # The china mirror preset, with the one source it lacks (cri-dockerd's download) set by the inventory.
    pytest.param({"facts": {}, "vars": {"kubeha_mirror_preset": "china",
                                        "container_runtime_cri_dockerd_download_url": "https://files.example.test/cri-dockerd.tgz"}},
                 id="mirror-preset-china"),
]


@pytest.mark.parametrize("overrides", VALID_WITH_FACTS)
def test_valid_inventory_with_cached_facts_passes_the_host_checks(overrides, tmp_path):
    """The control of the fact-based cases: with good facts in the cache, every preflight check passes without a
    connection (fact gathering skipped); the first connection is the membership plan's probe of the control planes,
    which finds them unreachable and stops the run (no cluster can be ruled out), naming them."""
    proc, report = run_site(build_inventory(overrides, tmp_path), tmp_path)
    assert proc.returncode != 0
    plan_stop = "Check that a new cluster is only started where none can exist"
    failed = [r for r in report["results"] if r["status"] == "failed" and not r["task"].endswith(plan_stop)]
    assert not failed, "checks failed on a valid inventory with good facts:\n" + "\n".join(messages_of(report))
    assert any("cannot be reached" in m for m in messages_of(report)), messages_of(report)
    preflight = [r for r in report["results"] if r["play"].startswith("Preflight")]
    # The preflight role's own checks all pass; after them only the membership plan contacts hosts (and stops).
    checks = [r for r in preflight if r["task"].startswith("kubeha.cluster.preflight")]
    assert checks and all(r["status"] in ("ok", "skipped") for r in checks), checks
    assert any(r["task"].endswith("Check the host") and r["status"] == "ok" for r in preflight), "host checks did not run"
    assert any(r["task"].endswith("Gather facts (operating system, hardware, network)") and r["status"] == "skipped"
               for r in preflight), "facts were gathered, not read from the cache"
    # The plan's probes were the first connection: the control planes were found unreachable, nothing else ran.
    assert not any(r["play"].startswith("Prepare") for r in report["results"]), "the run went past preflight"
