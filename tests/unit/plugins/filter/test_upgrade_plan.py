"""Unit tests of the upgrade_plan filter: what playbooks/upgrade.yml does, and what stops it before any change."""

from __future__ import annotations

import json

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.kubeha.cluster.plugins.filter.upgrade_plan import upgrade_plan

CPS = ["cp1", "cp2", "cp3"]
HOSTS = CPS + ["w1", "w2"]
MARK = "kubeha.cluster/upgrade-cordoned"


def nodes(versions, not_ready=(), cordoned=(), marked=()):
    items = []
    for name, version in versions.items():
        items.append({
            "metadata": {"name": name, "annotations": {MARK: "1.26.13"} if name in marked else {}},
            "spec": {"unschedulable": True} if name in cordoned or name in marked else {},
            "status": {"nodeInfo": {"kubeletVersion": "v" + version},
                       "conditions": [{"type": "MemoryPressure", "status": "False"},
                                      {"type": "Ready", "status": "False" if name in not_ready else "True"}]},
        })
    return json.dumps({"items": items})


def apiservers(versions):
    return json.dumps({"items": [{"spec": {"nodeName": n, "containers": [
        {"name": "kube-apiserver", "image": "registry.k8s.io/kube-apiserver:v" + v}]}} for n, v in versions.items()]})


def health(down=()):
    return json.dumps([{"endpoint": "https://%s:2379" % n, "health": n not in down,
                        **({"error": "context deadline exceeded"} if n in down else {})} for n in CPS])


def plan(target="1.26.13", kubelets=None, pods=None, version="v1.25.0", etcd=None, hosts=None, **node_kw):
    kubelets = kubelets or {h: "1.25.0" for h in HOSTS}
    pods = pods or {h: "1.25.0" for h in CPS}
    return upgrade_plan(target, nodes(kubelets, **node_kw), apiservers(pods), version,
                        health() if etcd is None else etcd, CPS, hosts or HOSTS)


def test_a_minor_upgrade_moves_every_control_plane_and_every_node():
    p = plan()
    assert p["errors"] == []
    assert (p["from"], p["to"]) == ("1.25.0", "1.26.13")
    assert p["control_planes"] == CPS
    assert p["nodes"] == HOSTS


def test_a_patch_upgrade_is_allowed():
    assert plan(target="1.25.4")["errors"] == []


def test_after_an_interruption_only_what_is_left():
    p = plan(version="v1.26.13", pods={"cp1": "1.26.13", "cp2": "1.26.13", "cp3": "1.25.0"},
             kubelets={"cp1": "1.26.13", "cp2": "1.25.0", "cp3": "1.25.0", "w1": "1.25.0", "w2": "1.25.0"})
    assert p["errors"] == []
    assert p["control_planes"] == ["cp3"]
    assert p["nodes"] == ["cp2", "cp3", "w1", "w2"]


def test_a_node_left_cordoned_by_the_upgrade_is_finished_even_at_the_target():
    at = {h: "1.26.13" for h in HOSTS}
    p = plan(version="v1.26.13", pods={h: "1.26.13" for h in CPS}, kubelets=at, marked=["w1"], cordoned=["w2"])
    assert p["errors"] == []
    assert p["control_planes"] == []
    assert p["nodes"] == ["w1"]
    assert p["cordoned"] == {"w1": True, "w2": False}


def test_everything_at_the_target_is_an_empty_plan():
    at = {h: "1.26.13" for h in HOSTS}
    p = plan(version="v1.26.13", pods={h: "1.26.13" for h in CPS}, kubelets=at)
    assert p == dict(p, errors=[], control_planes=[], nodes=[])


def test_a_downgrade_is_refused_naming_the_variable():
    p = plan(target="1.24.9")
    assert len(p["errors"]) == 1
    assert "does not downgrade" in p["errors"][0] and "kubeha_kubernetes_version" in p["errors"][0]


def test_a_skipped_minor_is_refused():
    p = plan(target="1.27.0")
    assert len(p["errors"]) == 1
    assert "one minor at a time" in p["errors"][0] and "1.26 release first" in p["errors"][0]


def test_a_node_not_ready_is_refused_by_name():
    p = plan(not_ready=["w2"])
    assert any("Not Ready: w2" in e for e in p["errors"]), p["errors"]


def test_kubelets_newer_than_the_target_or_too_old_are_refused():
    newer = plan(target="1.25.2", kubelets={**{h: "1.25.0" for h in HOSTS}, "w1": "1.25.3"})
    assert any("w1 (1.25.3)" in e and "newer" in e for e in newer["errors"]), newer["errors"]
    older = plan(kubelets={**{h: "1.25.0" for h in HOSTS}, "w2": "1.24.9"})
    assert any("w2 (1.24.9)" in e and "more than one minor" in e for e in older["errors"]), older["errors"]


def test_nodes_missing_from_the_inventory_are_refused():
    p = plan(hosts=CPS + ["w1"])
    assert any("not in the inventory's k8s_cluster: w2" in e for e in p["errors"]), p["errors"]


def test_unhealthy_or_silent_etcd_is_refused():
    sick = plan(etcd=health(down=["cp2"]))
    assert any("https://cp2:2379 (context deadline exceeded)" in e for e in sick["errors"]), sick["errors"]
    silent = plan(etcd="Error: context deadline exceeded")
    assert any("did not answer" in e for e in silent["errors"]), silent["errors"]


def test_versions_that_are_not_releases_raise():
    with pytest.raises(AnsibleFilterError, match="kubeha_kubernetes_version"):
        plan(target="1.26")
    with pytest.raises(AnsibleFilterError, match="not JSON"):
        upgrade_plan("1.26.13", "nope", apiservers({}), "v1.25.0", health(), CPS, HOSTS)
