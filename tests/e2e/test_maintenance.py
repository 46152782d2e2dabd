"""Maintenance playbooks on the live lab cluster (issue 10): certificate renewal and etcd backup/restore, each
leaving the cluster converged (site.yml changed=0 afterwards).

- certificates.yml -e certificates_renew=true: every API server (directly and through the VIP) serves a certificate
  with a new serial and a later notAfter; kubectl through the VIP works with the renewed admin kubeconfig; a report
  run changes nothing.
- etcd_backup.yml, then etcd_restore.yml: ConfigMaps written before the snapshot are back (one deleted after it
  too), those written after it are gone, every etcd member has a new ID, every API server answers /readyz, and
  site.yml reports changed=0.
Figures go to reports/e2e-maintenance-*.json and the test output. Run by tools/test --stage maintenance.
"""

from __future__ import annotations

import hashlib
import json
import ssl
import tempfile
import time
from pathlib import Path

import pytest
from cryptography import x509

import lab

NAMESPACE = "kubeha-e2e-restore"


def report(name, data):
    lab.print_report(f"e2e-maintenance-{name}", data)


def maintenance(name, *args, timeout=1800):
    """Run playbooks/<name> against the lab; return (CompletedProcess, {host: recap})."""
    return lab.playbook(*args, timeout=timeout, path=lab.REPO_ROOT / "playbooks" / name)


def address(hosts, host):
    hv = hosts["hostvars"][host]
    return hv.get("kubeha_node_address") or hv["ansible_host"]


def vip(hosts):
    return hosts["hostvars"][hosts["control_plane"][0]]["kubeha_api_vip"]


def served(host, port):
    """(serial, notAfter) of the certificate the server at host:port presents (read without verification)."""
    cert = x509.load_pem_x509_certificate(ssl.get_server_certificate((host, port), timeout=10).encode())
    return cert.serial_number, cert.not_valid_after_utc


def served_by_every_api_server(hosts):
    port = int(hosts["hostvars"][hosts["control_plane"][0]].get("kubeha_apiserver_port", 6443))
    return {cp: served(address(hosts, cp), port) for cp in hosts["control_plane"]}


def etcd_member_ids(via):
    out = lab.kubectl("-n", "kube-system", "exec", f"etcd-{via}", "--", "etcdctl",
                      "--cacert=/etc/kubernetes/pki/etcd/ca.crt", "--cert=/etc/kubernetes/pki/etcd/peer.crt",
                      "--key=/etc/kubernetes/pki/etcd/peer.key", "--endpoints=https://127.0.0.1:2379",
                      "member", "list", "-w", "json", timeout=60).stdout
    return {m.get("name", ""): m["ID"] for m in json.loads(out)["members"]}


def configmaps():
    items = lab.kubectl_json("-n", NAMESPACE, "get", "configmaps", "-l", "kubeha-e2e=restore")["items"]
    return {i["metadata"]["name"]: i.get("data", {}) for i in items}


def write_markers(prefix, count):
    for n in range(count):
        lab.kubectl("-n", NAMESPACE, "create", "configmap", f"{prefix}-{n}", f"--from-literal=marker={prefix}-{n}")
        lab.kubectl("-n", NAMESPACE, "label", "configmap", f"{prefix}-{n}", "kubeha-e2e=restore")


def test_renewed_certificates_are_served_and_the_admin_kubeconfig_works(hosts):
    cps = hosts["control_plane"]
    proc, recap = maintenance("certificates.yml")
    lab.clean_run(proc, recap)
    assert not any(r["changed"] for r in recap.values()), f"the report changed something: {recap}"
    assert "CERTIFICATE" in proc.stdout and "apiserver.crt" in proc.stdout, "no expiry table in the output"

    before = served_by_every_api_server(hosts)
    before_vip = served(vip(hosts), int(hosts["hostvars"][cps[0]].get("kubeha_api_port", 8443)))
    time.sleep(2)  # notAfter has one-second resolution: the renewal's must be later
    started = time.time()
    proc, recap = maintenance("certificates.yml", "-e", "certificates_renew=true")
    lab.clean_run(proc, recap)
    took = round(time.time() - started, 1)

    after = served_by_every_api_server(hosts)
    after_vip = served(vip(hosts), int(hosts["hostvars"][cps[0]].get("kubeha_api_port", 8443)))
    for cp in cps:
        assert after[cp][0] != before[cp][0], f"{cp} still serves the old certificate (serial {before[cp][0]:x})"
        assert after[cp][1] > before[cp][1], f"{cp}: notAfter {after[cp][1]} is not later than {before[cp][1]}"
    assert after_vip[0] != before_vip[0] and after_vip[0] in {serial for serial, _not_after in after.values()}

    # The renewed admin kubeconfig of a control plane works through the VIP (holds a key: a private file, not printed).
    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp) / "admin.conf"
        conf.touch(mode=0o600)
        conf.write_text(lab.docker_exec(lab.container_of(cps[0]), "cat", "/root/.kube/config").stdout)
        nodes = lab.run([lab.KUBECTL, "--kubeconfig", conf, "get", "nodes", "-o", "name"]).stdout.split()
    assert len(nodes) == len(cps) + len(hosts["node"]), nodes
    report("certificates", {"renewal_s": took, "control_planes": len(cps),
                            "serials": {cp: [f"{before[cp][0]:x}", f"{after[cp][0]:x}"] for cp in cps}})


def test_etcd_backup_then_restore_brings_back_the_snapshot_with_new_members(hosts, tmp_path):
    cps = hosts["control_plane"]
    lab.kubectl("delete", "namespace", NAMESPACE, "--ignore-not-found", "--wait=true", timeout=180)
    lab.kubectl("create", "namespace", NAMESPACE)
    write_markers("before", 3)
    ids_before = etcd_member_ids(cps[0])

    backups = tmp_path / "backups"
    proc, recap = maintenance("etcd_backup.yml", "-e", f"etcd_backup_dir={backups}")
    lab.clean_run(proc, recap)
    snapshots = sorted(backups.glob("etcd-snapshot-*.db"))
    assert len(snapshots) == 1, snapshots
    snapshot = snapshots[0]
    digest, name = (snapshot.parent / (snapshot.name + ".sha256")).read_text().split()
    assert name == snapshot.name and digest == hashlib.sha256(snapshot.read_bytes()).hexdigest()
    assert snapshot.stat().st_mode & 0o077 == 0, oct(snapshot.stat().st_mode)

    write_markers("after", 2)
    lab.kubectl("-n", NAMESPACE, "delete", "configmap", "before-0")
    assert set(configmaps()) == {"before-1", "before-2", "after-0", "after-1"}

    started = time.time()
    proc, recap = maintenance("etcd_restore.yml", "-e", f"etcd_restore_snapshot={snapshot}",
                              "-e", "etcd_restore_confirm=true")
    lab.clean_run(proc, recap)
    took = round(time.time() - started, 1)

    markers = lab.wait_for(configmaps, 120, interval=3, what="the ConfigMaps through the VIP")
    assert set(markers) == {"before-0", "before-1", "before-2"}, markers
    assert all(data == {"marker": n} for n, data in markers.items()), markers
    ids_after = etcd_member_ids(cps[0])
    assert sorted(ids_after) == sorted(ids_before) == sorted(cps), (ids_before, ids_after)
    assert not set(ids_after.values()) & set(ids_before.values()), f"old member IDs: {ids_before} {ids_after}"
    for cp in cps:
        lab.kubectl("--server", f"https://{address(hosts, cp)}:6443", "get", "--raw", "/readyz")
    lab.wait_nodes_ready(cps + hosts["node"], timeout=300)

    proc, recap = lab.playbook()
    lab.clean_run(proc, recap)
    assert not any(r["changed"] for r in recap.values()), {h: r["changed"] for h, r in recap.items()}
    lab.kubectl("delete", "namespace", NAMESPACE, "--ignore-not-found", "--wait=false")
    report("etcd-restore", {"restore_s": took, "members": len(cps), "snapshot_bytes": snapshot.stat().st_size})


@pytest.fixture(autouse=True)
def _hosts_exist(hosts):
    assert hosts["control_plane"], "no control planes in the lab inventory"


def test_lost_quorum_recovered_from_the_survivors_own_data_then_the_others_rejoin(hosts):
    """Two of three control planes lost for good (their containers powered off, then replaced by fresh ones): the
    API cannot write. etcd_restore.yml --limit <survivor> -e etcd_restore_survivor=<survivor> makes the survivor a
    one-member etcd cluster from its own data (no snapshot): the API answers through the VIP with the data of before.
    The lost control planes come back re-imaged and site.yml joins them into the same cluster (3 members, same CA)."""
    cps = hosts["control_plane"]
    survivor, lost = cps[1], [cps[0], cps[2]]
    lab.kubectl("delete", "namespace", NAMESPACE, "--ignore-not-found", "--wait=true", timeout=180)
    lab.kubectl("create", "namespace", NAMESPACE)
    write_markers("quorum", 2)
    ca = lab.docker_exec(lab.container_of(survivor), "sha256sum", "/etc/kubernetes/pki/ca.crt").stdout.split()[0]

    for host in lost:
        lab.run(["docker", "stop", "--time", "5", lab.container_of(host)])
    figures = {}
    started = time.time()
    proc, recap = maintenance("etcd_restore.yml", "--limit", survivor, "-e", f"etcd_restore_survivor={survivor}",
                              "-e", "etcd_restore_confirm=true")
    lab.clean_run(proc, recap)
    figures["restore_s"] = round(time.time() - started, 1)
    markers = lab.wait_for(configmaps, 180, interval=3, what="the ConfigMaps through the VIP")
    assert set(markers) == {"quorum-0", "quorum-1"}, markers
    assert list(etcd_member_ids(survivor)) == [survivor]
    write_markers("written-after", 1)  # the one-member cluster takes writes

    # The lost ones come back as new machines (their old etcd data would still name the old cluster).
    for host in lost:
        lab.run(["docker", "rm", "-f", "-v", lab.container_of(host)])
    lab.run([lab.REPO_ROOT / "tools" / "lab", "up", "--control-planes", str(len(cps)),
             "--workers", str(len(hosts["node"]))], timeout=900)
    started = time.time()
    proc, recap = lab.playbook(timeout=3600)
    lab.clean_run(proc, recap)
    figures["rejoin_s"] = round(time.time() - started, 1)
    assert "no cluster yet: kubeadm init on" not in proc.stdout, "site.yml would have started a second cluster"
    assert sorted(etcd_member_ids(survivor)) == sorted(cps)
    for host in cps:
        digest = lab.docker_exec(lab.container_of(host), "sha256sum", "/etc/kubernetes/pki/ca.crt").stdout.split()[0]
        assert digest == ca, f"{host} has another cluster CA"
    lab.wait_nodes_ready(cps + hosts["node"], timeout=300)
    assert set(configmaps()) == {"quorum-0", "quorum-1", "written-after-0"}
    lab.kubectl("delete", "namespace", NAMESPACE, "--ignore-not-found", "--wait=false")
    report("lost-quorum", figures)
