# -*- coding: utf-8 -*-
# Copyright: kubeha.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: upgrade_plan
short_description: What playbooks/upgrade.yml has to do, and why it must not start
version_added: 0.1.0
description:
  - Takes what the cluster runs (its nodes, its API server pods, the C(kubernetesVersion) of kubeadm's
    ClusterConfiguration, etcd's endpoint health) and the version the inventory asks for, and returns the plan of an
    upgrade - which control planes still run older static pods, which nodes still run an older kubelet (or are still
    cordoned by an interrupted upgrade) - and every reason not to start, each naming the variable or the host.
  - Refused - a downgrade; more than one minor at once (kubeadm upgrades one minor at a time); a kubelet newer than
    the target, or more than one minor older than it; a node that is not Ready; a node the inventory does not have;
    an unhealthy etcd member.
  - A cluster that is at the target everywhere gives an empty plan (re-running the upgrade changes nothing).
options:
  _input:
    description: The target version (C(kubeha_kubernetes_version), with or without C(v)).
    type: str
    required: true
  nodes:
    description: C(kubectl get nodes -o json), as JSON text or parsed.
    type: raw
    required: true
  apiservers:
    description: C(kubectl -n kube-system get pods -l component=kube-apiserver -o json), as JSON text or parsed.
    type: raw
    required: true
  cluster_version:
    description: The C(kubernetesVersion) of the cluster's ClusterConfiguration (kubeadm-config ConfigMap).
    type: str
    required: true
  etcd_health:
    description: C(etcdctl endpoint health --cluster -w json), as JSON text or parsed; text that is not JSON counts
      as etcd not answering.
    type: raw
    required: true
  control_planes:
    description: The inventory's control planes (C(kube_control_plane)).
    type: list
    elements: str
    required: true
  hosts:
    description: The inventory's cluster hosts (C(k8s_cluster)).
    type: list
    elements: str
    required: true
  mark:
    description: The annotation the upgrade puts on a node it cordons (removed when it uncordons it).
    type: str
    default: kubeha.cluster/upgrade-cordoned
"""

EXAMPLES = r"""
- name: Plan the upgrade
  ansible.builtin.set_fact:
    plan: >-
      {{ kubeha_kubernetes_version | kubeha.cluster.upgrade_plan(nodes.stdout, pods.stdout, version,
         health.stdout, groups['kube_control_plane'], groups['k8s_cluster']) }}
"""

RETURN = r"""
_value:
  description: The plan.
  type: dict
  contains:
    from:
      description: The cluster's version (ClusterConfiguration), without C(v).
      type: str
    to:
      description: The target, without C(v).
      type: str
    errors:
      description: Why the upgrade must not start, one sentence each; empty when it may.
      type: list
      elements: str
    control_planes:
      description: The control planes whose API server does not run the target yet, in inventory order.
      type: list
      elements: str
    nodes:
      description: The nodes whose kubelet does not run the target yet or that an interrupted upgrade left cordoned,
        in inventory order.
      type: list
      elements: str
    kubelets:
      description: Each node's kubelet version (without C(v)).
      type: dict
    cordoned:
      description: The nodes that are cordoned (unschedulable), with whether the upgrade's mark says it did it.
      type: dict
"""

import json
import re

from ansible.errors import AnsibleFilterError

_VERSION = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)$")


def _parse(value, what, required=True):
    if isinstance(value, (dict, list)):
        return value
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        if required:
            raise AnsibleFilterError("upgrade_plan: %s is not JSON: %r" % (what, str(value)[:200]))
        return None


def _version(text, what):
    match = _VERSION.match(str(text).strip())
    if not match:
        raise AnsibleFilterError("upgrade_plan: %s %r is not a release version like 1.26.13" % (what, text))
    return tuple(int(g) for g in match.groups())


def _text(version):
    return "%d.%d.%d" % version


def upgrade_plan(target, nodes, apiservers, cluster_version, etcd_health, control_planes, hosts,
                 mark="kubeha.cluster/upgrade-cordoned"):
    to = _version(target, "kubeha_kubernetes_version")
    current = _version(cluster_version, "the cluster's kubernetesVersion")
    errors = []
    if to < current:
        errors.append("kubeha_kubernetes_version is %s but the cluster runs %s: playbooks/upgrade.yml does not "
                      "downgrade. Set kubeha_kubernetes_version (and kubeha_bundle_path) to %s or later."
                      % (_text(to), _text(current), _text(current)))
    elif to[0] != current[0] or to[1] > current[1] + 1:
        errors.append("kubeha_kubernetes_version is %s but the cluster runs %s: kubeadm upgrades one minor at a "
                      "time. Set kubeha_kubernetes_version (and kubeha_bundle_path) to a 1.%d release first, run "
                      "playbooks/upgrade.yml, then go on to %s."
                      % (_text(to), _text(current), current[1] + 1, _text(to)))

    version_ok = not errors
    kubelets, cordoned, not_ready = {}, {}, []
    for node in _parse(nodes, "the node list").get("items", []):
        name = node["metadata"]["name"]
        kubelets[name] = _text(_version(node["status"]["nodeInfo"]["kubeletVersion"], "the kubelet version of " + name))
        ready = [c for c in node["status"].get("conditions", []) if c.get("type") == "Ready"]
        if not ready or ready[0].get("status") != "True":
            not_ready.append(name)
        if node.get("spec", {}).get("unschedulable"):
            cordoned[name] = mark in (node["metadata"].get("annotations") or {})
    if not_ready:
        errors.append("Not Ready: %s. Bring them back (or take them out with playbooks/remove_node.yml) before the "
                      "upgrade: it drains and restarts every node." % ", ".join(sorted(not_ready)))
    # The kubelets against the target only make sense for a target the cluster may move to.
    newer = sorted(n for n, v in kubelets.items() if _version(v, n) > to) if version_ok else []
    if newer:
        errors.append("The kubelet of %s is newer than kubeha_kubernetes_version %s: a kubelet must never be newer "
                      "than the API servers." % (", ".join("%s (%s)" % (n, kubelets[n]) for n in newer), _text(to)))
    older = sorted(n for n, v in kubelets.items() if _version(v, n)[:2] < (to[0], to[1] - 1)) if version_ok else []
    if older:
        named = ", ".join("%s (%s)" % (n, kubelets[n]) for n in older)
        errors.append("The kubelet of %s is more than one minor behind %s: kubeadm refuses such a skew. Upgrade "
                      "those nodes to 1.%d first." % (named, _text(to), to[1] - 1))
    strangers = sorted(set(kubelets) - set(hosts))
    if strangers:
        errors.append("The cluster has nodes that are not in the inventory's k8s_cluster: %s. Add them to the "
                      "inventory (the upgrade moves every node) or remove them (kubectl delete node) first."
                      % ", ".join(strangers))

    health = _parse(etcd_health, "etcd's health", required=False)
    if not isinstance(health, list) or not health:
        errors.append("etcd did not answer a health check (etcdctl endpoint health --cluster): the upgrade needs "
                      "every member healthy.")
    else:
        sick = sorted("%s (%s)" % (h.get("endpoint", "?"), h.get("error") or "unhealthy")
                      for h in health if h.get("health") is not True)
        if sick:
            errors.append("etcd members are not healthy: %s. The upgrade restarts every member in turn: bring them "
                          "back first." % ", ".join(sick))

    running = {}
    for pod in _parse(apiservers, "the API server pods").get("items", []):
        node = pod.get("spec", {}).get("nodeName")
        image = (pod.get("spec", {}).get("containers") or [{}])[0].get("image", "")
        running[node] = image.rsplit(":", 1)[-1] if ":" in image else ""
    wanted = "v" + _text(to)
    return {
        "from": _text(current),
        "to": _text(to),
        "errors": errors,
        "control_planes": [h for h in control_planes if running.get(h) != wanted],
        "nodes": [h for h in hosts if kubelets.get(h) != _text(to) or cordoned.get(h)],
        "kubelets": kubelets,
        "cordoned": cordoned,
    }


class FilterModule(object):
    def filters(self):
        return {"upgrade_plan": upgrade_plan}
