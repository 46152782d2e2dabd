"""Lifecycle playbooks on the live lab cluster (issue 10): playbooks/remove_node.yml takes a worker and the first
control plane (the one that ran kubeadm init) out with the API probed through the VIP, and site.yml adds both back
into the same cluster; playbooks/reset.yml tears the cluster down, site.yml then builds one with another pod CIDR,
and after a second reset the inventory's cluster again. Each test leaves a converged cluster at the inventory's
settings (and .lab/kubeconfig pointing at it). Figures go to reports/e2e-lifecycle-*.json and the test output.

tools/test --stage lifecycle runs it (about 20 minutes on the 2-core machine: removal and re-add ~8, reset and two
rebuilds ~12).
"""

from __future__ import annotations

import json
import os
import re
import socket
import time

import lab
import test_faults
import test_operator_paths
from test_faults import wait_etcd_healthy
from test_operator_paths import probed  # the API probe around a run, one definition

api = test_faults.api  # the fixture: (host, port, TLS context) of the API through the VIP

REMOVE = lab.REPO_ROOT / "playbooks" / "remove_node.yml"
RESET = lab.REPO_ROOT / "playbooks" / "reset.yml"
OTHER_POD_CIDR = "10.32.0.0/16"
# Neither the inventory's (100m) nor the settings test's (41m); the one the lab does not have (an earlier run of this
# test left one): Docker has to restart everywhere.
READD_LOG_MAX_SIZES = ("37m", "38m")


def report(name, data):
    lab.print_report(f"e2e-lifecycle-{name}", data)


def changed(recap):
    return {h: r["changed"] for h, r in recap.items() if r["changed"]}


def sh(host, script, check=True, timeout=120):
    return lab.docker_exec(lab.container_of(host), "sh", "-c", script, check=check, timeout=timeout)


def address(hosts, host):
    return hosts["hostvars"][host]["ansible_host"]


def vip(hosts):
    return next(iter(hosts["hostvars"].values()))["kubeha_api_vip"]


def ca_digest(host):
    return sh(host, "sha256sum /etc/kubernetes/pki/ca.crt").stdout.split()[0]


def etcd_members(via):
    out = lab.kubectl("-n", "kube-system", "exec", f"etcd-{via}", "--", "etcdctl", *test_faults.ETCD_CERTS,
                      "member", "list", "-w", "json").stdout
    return json.loads(out)["members"]


def haproxy_servers(host):
    """The API servers in haproxy's backend on a load balancer: [(name, address:port)]."""
    text = sh(host, "cat /etc/haproxy/haproxy.cfg").stdout
    return re.findall(r"^\s+server (\S+) (\S+)", text, re.MULTILINE)


def keepalived_peers(host):
    text = sh(host, "cat /etc/keepalived/keepalived.conf").stdout
    block = re.search(r"unicast_peer \{([^}]*)\}", text)
    return block.group(1).split() if block else []


def refresh_kubeconfig(hosts):
    """What tools/deploy-lab does after a build: .lab/kubeconfig is the admin.conf of a control plane (a rebuilt
    cluster has a new CA, so the old copy no longer works)."""
    for host in hosts["control_plane"]:
        proc = sh(host, "cat /etc/kubernetes/admin.conf", check=False)
        if proc.returncode == 0:
            old = os.umask(0o077)
            try:
                lab.KUBECONFIG.write_text(proc.stdout)
            finally:
                os.umask(old)
            return
    raise AssertionError("no control plane has /etc/kubernetes/admin.conf")


def host_is_clean(host, vip_address):
    """What a host that left the cluster must look like; returns a list of what is wrong."""
    wrong = []
    enabled = sh(host, "systemctl is-enabled kubelet", check=False).stdout.strip()
    active = lab.unit_state(host, "kubelet")
    if enabled != "disabled" or active == "active":
        wrong.append(f"kubelet {enabled}/{active}")
    files = sh(host, "find /etc/kubernetes/pki /etc/kubernetes/manifests /etc/kubernetes/kubeha /var/lib/etcd "
                     "/etc/cni/net.d -type f 2>/dev/null; true").stdout.split()
    if files:
        wrong.append(f"files left: {files[:10]}")
    for f in ("/etc/kubernetes/admin.conf", "/etc/kubernetes/kubelet.conf", "/root/.kube/config"):
        if sh(host, f"test -e {f}", check=False).returncode == 0:
            wrong.append(f"{f} left")
    rules = sh(host, "iptables-save").stdout
    leftover = [line for line in rules.splitlines() if re.search(r"KUBE-|CNI-|FLANNEL|flanneld", line)]
    if leftover:
        wrong.append(f"{len(leftover)} packet filter lines left, e.g. {leftover[:3]}")
    if ":DOCKER" not in rules:
        wrong.append("Docker's chains are gone")
    links = sh(host, "ip -o link show").stdout
    for link in ("cni0", "flannel.1"):
        if re.search(rf"^\d+: {re.escape(link)}[:@]", links, re.MULTILINE):
            wrong.append(f"link {link} left")
    if f" {vip_address}/" in sh(host, "ip -4 -o addr show").stdout:
        wrong.append("holds the VIP")
    if sh(host, "docker ps -a --format '{{.Names}}' | grep '^k8s_'", check=False).stdout.strip():
        wrong.append("k8s_ containers left")
    if lab.unit_state(host, "docker") != "active":
        wrong.append("Docker is not running")
    return wrong


def test_remove_a_worker_and_the_first_control_plane_then_add_them_back(hosts, api):
    cps = hosts["control_plane"]
    first, stay = cps[0], cps[1:]
    worker = hosts["node"][-1]
    digest = ca_digest(stay[0])
    vip_address = vip(hosts)
    figures = {}

    # A worker first, then the control plane that ran kubeadm init (nothing special about it: a survivor acts).
    for target in (worker, first):
        held_vip = test_faults.vip_holders(hosts) == [target]
        started = time.time()
        (proc, recap), fig = probed(api, lambda t=target: lab.playbook("-e", f"kubeha_remove_nodes={t}", path=REMOVE))
        lab.clean_run(proc, recap)
        acting = stay[0] if target == first else first
        assert f"acting control plane: {acting}" in proc.stdout, f"{acting} should act for the cluster"
        figures[target] = {**fig, "held_the_vip": held_vip}
        gone = lab.kubectl("get", "node", target, "--ignore-not-found", "-o", "name").stdout.strip()
        assert not gone, f"Node {target} still exists"
        wrong = host_is_clean(target, vip_address)
        assert not wrong, f"{target} after remove_node: {wrong}"
        wait_etcd_healthy(stay[0], len(stay) if target == first else len(cps), started)

    members = etcd_members(stay[0])
    peer_urls = [u for m in members for u in m.get("peerURLs", [])]
    assert len(members) == len(stay), f"etcd members: {[m.get('name') for m in members]}"
    assert f"https://{address(hosts, first)}:2380" not in peer_urls, peer_urls
    for lb in stay:
        servers = haproxy_servers(lb)
        assert [name for name, _addr in servers] == stay, f"{lb}: haproxy backends {servers}"
        assert address(hosts, first) not in keepalived_peers(lb), f"{lb}: keepalived still peers with {first}"
    for s in ("keepalived", "haproxy"):
        assert lab.unit_state(first, s) != "active", f"{s} runs on {first}"
    # Removing the VIP holder moves the VIP like a stopped keepalived does (remove_node stops its keepalived first,
    # then its haproxy): test_faults' goal. A request in flight through the old holder when the VIP moves is lost,
    # and this probe's client waits its whole 5 s for it (2026-11-28 20:25: cp1 held the VIP, cp2 took it within
    # the second keepalived stopped, one of 686 requests hung 5.01 s, none other failed): that one is allowed.
    for target, fig in figures.items():
        lone_request = fig["held_the_vip"] and fig["failed_probes"] <= 1 and fig["blackout_s"] <= test_operator_paths.PROBE_TIMEOUT + 0.5
        assert fig["blackout_s"] <= test_faults.BLACKOUT_GOAL or lone_request, (target, fig)

    # Back with site.yml (the hosts never left the inventory): the same cluster, no kubeadm init. The run also
    # changes a Docker setting, as an operator's run may: Docker restarts on every host, and the control planes that
    # stayed (two etcd members until the first has joined) restart theirs only after the join, one at a time.
    # Stopping one of two members would stop etcd (measured 2026-11-28: a 37.9 s API blackout before that order).
    daemon = json.loads(sh(stay[0], "cat /etc/docker/daemon.json").stdout)
    size = next(s for s in READD_LOG_MAX_SIZES if s != daemon.get("log-opts", {}).get("max-size"))
    settings = ("-e", f"container_runtime_docker_log_max_size={size}")
    before = test_operator_paths.docker_restarts(hosts)
    (proc, recap), readd = probed(api, lambda: lab.playbook(*settings))
    lab.clean_run(proc, recap)
    after = test_operator_paths.docker_restarts(hosts)
    assert all(after[h] > before[h] for h in cps), f"Docker did not restart on every control plane: {before} -> {after}"
    waited = proc.stdout.find("PLAY [Runtime restarts that waited for the joining control planes")
    assert waited >= 0, "site.yml has no play for the restarts that wait for the joins"
    for h in stay:
        restart = proc.stdout.find(f"Restart the runtime on {h}]")
        assert restart > waited, f"Docker restarted on {h} before {first} had joined etcd again"
    assert "no cluster yet: kubeadm init on" not in proc.stdout, "site.yml would have started a second cluster"
    assert {ca_digest(h) for h in cps} == {digest}, "a control plane has another cluster CA"
    wait_etcd_healthy(stay[0], len(cps), time.time())
    members = etcd_members(stay[0])
    assert sorted(m.get("name", "") for m in members) == sorted(cps), members
    for lb in cps:
        assert [name for name, _addr in haproxy_servers(lb)] == cps, f"{lb}: {haproxy_servers(lb)}"
    lab.wait_nodes_ready(cps + hosts["node"], timeout=300)
    figures["readd"] = readd
    report("remove-readd", figures)
    assert readd["failed_probes"] == 0 or readd["blackout_s"] <= test_faults.BLACKOUT_GOAL, readd

    proc, recap = lab.playbook(*settings)
    lab.clean_run(proc, recap)
    assert not changed(recap), f"site.yml after the re-add changed: {changed(recap)}"
    # The lab keeps this log size (the next site.yml run of the inventory puts it back, one control plane at a time).


def vip_answers(vip_address, port, timeout=2.0):
    try:
        with socket.create_connection((vip_address, port), timeout=timeout):
            return True
    except OSError:
        return False


def reset_and_check(hosts, vip_address, port):
    started = time.time()
    proc, recap = lab.playbook("-e", "kubeha_reset_confirm=yes", path=RESET)
    lab.clean_run(proc, recap)
    elapsed = round(time.time() - started, 1)
    wrong = {h: w for h in hosts["control_plane"] + hosts["node"] if (w := host_is_clean(h, vip_address))}
    assert not wrong, f"after reset.yml: {wrong}"
    assert not vip_answers(vip_address, port), "the VIP still answers after reset.yml"
    return elapsed


def test_reset_then_build_with_another_pod_cidr_then_the_inventorys_cluster_again(hosts):
    cps = hosts["control_plane"]
    vip_address = vip(hosts)
    port = int(hosts["hostvars"][cps[0]].get("kubeha_api_port", 8443))
    figures = {"reset_s": reset_and_check(hosts, vip_address, port)}

    # The proof that reset really reset: a cluster with another pod CIDR (stale cni0/flannel.1 addresses, Flannel's
    # subnet file or IPAM state would break its pods). One control plane is enough for it and keeps the test short.
    started = time.time()
    proc, recap = lab.playbook("--limit", cps[0], "-e", f"kubeha_pod_cidr={OTHER_POD_CIDR}")
    lab.clean_run(proc, recap)
    assert f"kubeadm init on {cps[0]}" in proc.stdout, "the run should have started a new cluster"
    figures["other_cidr_build_s"] = round(time.time() - started, 1)
    refresh_kubeconfig(hosts)
    lab.wait_nodes_ready([cps[0]], timeout=300)

    def dns_pods_on_other_cidr():
        pods = lab.kubectl_json("-n", "kube-system", "get", "pods", "-l", "k8s-app=kube-dns")["items"]
        ips = [p["status"].get("podIP", "") for p in pods if p["status"].get("phase") == "Running"]
        return ips if ips and all(ip.startswith("10.32.") for ip in ips) else None

    figures["dns_pod_ips"] = lab.wait_for(dns_pods_on_other_cidr, 300, interval=3, what="CoreDNS pods on 10.32.0.0/16")
    assert "inet 10.32." in sh(cps[0], "ip -4 -o addr show cni0").stdout

    figures["second_reset_s"] = reset_and_check(hosts, vip_address, port)

    # Back to the inventory's settings, for the stages that come after.
    started = time.time()
    proc, recap = lab.playbook()
    lab.clean_run(proc, recap)
    figures["rebuild_s"] = round(time.time() - started, 1)
    refresh_kubeconfig(hosts)
    lab.wait_nodes_ready(cps + hosts["node"], timeout=300)
    wait_etcd_healthy(cps[0], len(cps), time.time())
    report("reset", figures)
