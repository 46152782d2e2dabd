"""Layouts other than the 3 + 2 of the main job (issue 9), each built from nothing with the README's main job
(tools/deploy-lab with a layout) and then checked like the main cluster, in short:

- 1 control plane + 1 worker: the smallest cluster (no HA; the one control plane holds the VIP alone);
- 3 control planes + 1 worker + 2 dedicated load balancers (group kube_lb): haproxy and keepalived run on lb1 and
  lb2 only, which hold the VIP and are no cluster nodes; nothing of the load balancer runs on the control planes.
- 5 control planes + 1 worker: the largest control plane the README promises (5 etcd members, 5 load balancers).

For each: every node Ready, one etcd member per control plane, kubectl through the VIP, the VIP on exactly one
host of the group that should hold it, and a second site.yml run that changes nothing. The lab is taken down at
the end (the next stage that needs the 3 + 2 lab builds it: tools/test's deploy stage always starts from nothing).
Figures go to reports/e2e-layouts-<id>.json. tools/test --stage layouts runs it (about 55 minutes here).
"""

from __future__ import annotations

import json
import time

import pytest

import lab

LAYOUTS = [
    pytest.param({"control_planes": 1, "workers": 1, "load_balancers": 0}, id="1cp-1w"),
    pytest.param({"control_planes": 3, "workers": 1, "load_balancers": 2}, id="3cp-1w-2lb"),
    pytest.param({"control_planes": 5, "workers": 1, "load_balancers": 0}, id="5cp-1w"),
]


def _holds(host, vip):
    proc = lab.docker_exec(lab.container_of(host), "ip", "-4", "-o", "addr", "show", check=False, timeout=30)
    return proc.returncode == 0 and f" {vip}/" in proc.stdout


@pytest.fixture(scope="module", autouse=True)
def lab_down_at_the_end():
    yield
    lab.run([lab.REPO_ROOT / "tools" / "lab", "down"], timeout=600)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_layout_builds_a_cluster_that_reruns_without_change(layout, request):
    name = request.node.callspec.id
    lab.run([lab.REPO_ROOT / "tools" / "lab", "down"], timeout=600)
    started = time.monotonic()
    proc = lab.run([lab.REPO_ROOT / "tools" / "deploy-lab", "--control-planes", str(layout["control_planes"]),
                    "--workers", str(layout["workers"]), "--load-balancers", str(layout["load_balancers"])],
                   check=False, timeout=3600)
    report = {"layout": layout, "deploy_s": round(time.monotonic() - started, 1)}
    assert proc.returncode == 0, proc.stdout[-8000:] + proc.stderr[-3000:]

    hosts = lab.lab_hosts()
    cps, workers, lbs, hostvars = hosts["control_plane"], hosts["node"], hosts["lb"], hosts["hostvars"]
    wanted = (layout["control_planes"], layout["workers"], layout["load_balancers"])
    assert (len(cps), len(workers), len(lbs)) == wanted, (cps, workers, lbs)

    # Every node Ready; the load balancers are no nodes.
    nodes = lab.kubectl_json("get", "nodes")["items"]
    names = sorted(n["metadata"]["name"] for n in nodes)
    assert names == sorted(cps + workers), names
    lab.wait_nodes_ready(cps + workers, timeout=300)

    # One etcd member per control plane.
    out = lab.kubectl("-n", "kube-system", "exec", f"etcd-{cps[0]}", "--", "etcdctl",
                      "--cacert=/etc/kubernetes/pki/etcd/ca.crt", "--cert=/etc/kubernetes/pki/etcd/peer.crt",
                      "--key=/etc/kubernetes/pki/etcd/peer.key", "--endpoints=https://127.0.0.1:2379",
                      "member", "list", "-w", "json").stdout
    assert sorted(m["name"] for m in json.loads(out)["members"]) == cps

    # The VIP on exactly one host of the group that holds it; kubectl (.lab/kubeconfig) goes through it.
    vip = next(iter(hostvars.values()))["kubeha_api_vip"]
    holders_group = lbs or cps
    held = [h for h in cps + workers + lbs if _holds(h, vip)]
    assert len(held) == 1 and held[0] in holders_group, f"VIP {vip} held by {held}, expected one of {holders_group}"
    server = lab.kubectl("config", "view", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}").stdout
    assert vip in server, server
    report["vip_holder"] = held[0]
    if lbs:
        for host in lbs:
            assert lab.unit_state(host, "haproxy") == "active" and lab.unit_state(host, "keepalived") == "active", host
            assert lab.unit_state(host, "kubelet") != "active", f"{host} runs a kubelet"
        for host in cps:
            assert lab.unit_state(host, "haproxy") != "active" and lab.unit_state(host, "keepalived") != "active", \
                f"{host} runs the load balancer although kube_lb holds it"

    # The second run changes nothing.
    started = time.monotonic()
    proc, recap = lab.playbook()
    report["rerun_s"] = round(time.monotonic() - started, 1)
    lab.clean_run(proc, recap)
    assert set(recap) == set(cps + workers + lbs), recap
    changed = {h: r["changed"] for h, r in recap.items() if r["changed"]}
    report["rerun_changed"] = changed
    lab.print_report(f"e2e-layouts-{name}", report)
    assert not changed, f"the second run changed something: {changed}"
