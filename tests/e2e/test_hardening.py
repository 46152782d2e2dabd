"""Hardening turned off and on again on the live lab cluster (issue 14), with the API probed through the VIP: the
static pod flags (profiling, the audit log), the audit policy and etcd's data directory owner change one control
plane at a time, each API server drained in haproxy before its new pod starts, and no client request fails. Then
the next run changes nothing, and kube-bench's automated checks are back to the accepted FAILs alone.

Run by name (`tools/test --stage hardening`, about 15 minutes); figures in reports/e2e-hardening-*.json.
"""

from __future__ import annotations

import json

import lab
import test_cis
import test_faults
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
