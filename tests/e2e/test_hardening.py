"""Hardening turned off and on again on the live lab cluster (issue 14), with the API probed through the VIP: the
static pod flags (profiling, the audit log), the audit policy and etcd's data directory owner change one control
plane at a time, each API server drained in haproxy before its new pod starts, and no client request fails. Then
the next run changes nothing, and kube-bench's automated checks are back to the accepted FAILs alone.
Encryption at rest: turning it off is refused before anything changes; playbooks/encryption_rotate.yml gives the
cluster a new key without a failed request, every Secret ends up encrypted with it, and site.yml changes nothing.

Run by name (`tools/test --stage hardening`, about 15 minutes); figures in reports/e2e-hardening-*.json.
"""

from __future__ import annotations

import base64
import json
import secrets

import lab
import test_cis
import test_faults
from test_cluster import encryption_key_names, etcd_raw
from test_operator_paths import changed, probed

api = test_faults.api  # the fixture: (host, port, TLS context) of the API through the VIP

OFF = {"control_plane_profiling": True, "control_plane_audit_log": False, "kubeha_etcd_data_owner": "root"}


def _flags(host):
    out = {}
    for name in ("kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        manifest = lab.docker_exec(lab.container_of(host), "cat", f"/etc/kubernetes/manifests/{name}.yaml").stdout
        out[name] = sorted(line.strip()[4:].split("=")[0] for line in manifest.splitlines()
                           if line.strip().startswith("- --") and ("profiling" in line or "audit" in line))
    return out


def _etcd_owner(host):
    return lab.docker_exec(lab.container_of(host), "stat", "-c", "%U:%G", "/var/lib/etcd").stdout.strip()


def _run(api, *extra):
    (proc, recap), figures = probed(api, lambda: lab.playbook(*extra))
    lab.clean_run(proc, recap)
    figures["changed"] = changed(recap)
    return figures


def test_hardening_goes_off_and_on_again_on_the_live_cluster_without_an_api_outage(hosts, api):
    cps = hosts["control_plane"]
    off = _run(api, "-e", json.dumps(OFF))
    lab.print_report("e2e-hardening-off", off)
    for h in cps:  # kubeadm's defaults: no profiling or audit flag at all
        assert _flags(h) == {"kube-apiserver": [], "kube-controller-manager": [], "kube-scheduler": []}, _flags(h)
        assert _etcd_owner(h) == "root:root", h
    assert off["failed_probes"] == 0, off

    on = _run(api)
    lab.print_report("e2e-hardening-on", on)
    audit = ["audit-log-maxage", "audit-log-maxbackup", "audit-log-maxsize", "audit-log-path", "audit-policy-file"]
    for h in cps:
        assert _flags(h) == {"kube-apiserver": sorted(audit + ["profiling"]), "kube-controller-manager": ["profiling"],
                             "kube-scheduler": ["profiling"]}, _flags(h)
        assert _etcd_owner(h) == "etcd:etcd", h
    assert on["failed_probes"] == 0, on

    proc, recap = lab.playbook()
    lab.clean_run(proc, recap)
    assert not changed(recap), changed(recap)

    benches = {h: test_cis._bench(h) for h in [cps[0], hosts["node"][0]]}
    fails = {h: b["fail"] for h, b in benches.items()}
    assert fails == {cps[0]: sorted(test_cis.ACCEPTED["control_plane"]), hosts["node"][0]: []}, fails


def test_encryption_cannot_be_turned_off_and_its_key_rotates_without_an_api_outage(hosts, api):
    cps = hosts["control_plane"]
    proc, recap = lab.playbook("-e", "control_plane_encryption_at_rest=false")
    assert proc.returncode != 0, "site.yml turned encryption off for a cluster that encrypts"
    assert "control_plane_encryption_at_rest is false" in proc.stdout, proc.stdout[-3000:]
    assert not changed(recap), changed(recap)

    name = "kubeha-rotate-" + secrets.token_hex(6)
    value = "kubeha-plain-" + secrets.token_hex(8)
    lab.kubectl("-n", "default", "create", "secret", "generic", name, f"--from-literal=probe={value}")
    try:
        before = {h: encryption_key_names(h) for h in cps}
        assert len({tuple(v) for v in before.values()}) == 1 and len(before[cps[0]]) == 1, before
        old = before[cps[0]][0]
        assert etcd_raw(cps[0], f"/registry/secrets/default/{name}").startswith(f"k8s:enc:aescbc:v1:{old}:".encode())
        count = len(lab.kubectl_json("get", "secrets", "--all-namespaces")["items"])

        (proc, recap), figures = probed(api, lambda: lab.playbook(path=lab.REPO_ROOT / "playbooks" / "encryption_rotate.yml"))
        lab.clean_run(proc, recap)
        figures["changed"] = changed(recap)
        lab.print_report("e2e-hardening-rotation", figures)
        after = {h: encryption_key_names(h) for h in cps}
        assert len({tuple(v) for v in after.values()}) == 1 and len(after[cps[0]]) == 1, after
        new = after[cps[0]][0]
        assert new != old, "the key did not change"
        raw = etcd_raw(cps[1], f"/registry/secrets/default/{name}")
        assert raw.startswith(f"k8s:enc:aescbc:v1:{new}:".encode()), raw[:40]
        assert lab.kubectl_json("-n", "default", "get", "secret", name)["data"]["probe"] == \
            base64.b64encode(value.encode()).decode()
        stored = lab.kubectl_json("get", "secrets", "--all-namespaces")["items"]
        stale = [f"{t['metadata']['namespace']}/{t['metadata']['name']}" for t in stored
                 if not etcd_raw(cps[2], f"/registry/secrets/{t['metadata']['namespace']}/{t['metadata']['name']}")
                 .startswith(f"k8s:enc:aescbc:v1:{new}:".encode())]
        assert len(stored) == count and not stale, f"{len(stored)} of {count} Secrets; not rewritten: {stale}"
        assert figures["failed_probes"] == 0, figures
    finally:
        lab.kubectl("-n", "default", "delete", "secret", name, "--ignore-not-found")

    proc, recap = lab.playbook()
    lab.clean_run(proc, recap)
    assert not changed(recap), changed(recap)
