"""playbooks/upgrade.yml on the live lab cluster (issue 10): 1.25.0 -> the 1.26 bundle's version, with the API probed
through the VIP the whole time; the run is interrupted once the control planes' static pods are done (the playbook
killed as the kubelets' play starts) and run again, which finishes the job; then every node and static pod runs the
new version, etcd is healthy, the snapshot taken first is on the controller, and site.yml at the new version changes
nothing. Before that, a skipped minor is refused with nothing changed.

The lab ends at the new version: tools/test --stage upgrade runs last and its lab is not reused (tools/deploy-lab
builds the next). Needs the target bundle: tools/bundle/build --version $KUBEHA_UPGRADE_VERSION (1.26.13 by default:
the newest 1.26 patch whose modules the Go module proxy serves in full). Figures: reports/e2e-upgrade.json.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time

import pytest

import lab
import test_faults
from test_operator_paths import probed  # the API probe around a run, one definition

api = test_faults.api  # the fixture: (host, port, TLS context) of the API through the VIP

UPGRADE = lab.REPO_ROOT / "playbooks" / "upgrade.yml"
TARGET = os.environ.get("KUBEHA_UPGRADE_VERSION", "1.26.13")
CACHE = os.environ.get("KUBEHA_CACHE", "/var/cache/kubeha")
TARGET_BUNDLE = f"{CACHE}/bundles/v{TARGET}-amd64"
SNAPSHOTS = lab.REPO_ROOT / ".lab" / "upgrade-snapshots"
MARK = "kubeha.cluster/upgrade-cordoned"  # _kubeha_upgrade_mark
TARGET_ARGS = ["-e", f"kubeha_kubernetes_version={TARGET}", "-e", f"kubeha_bundle_path={TARGET_BUNDLE}",
               "-e", f"etcd_backup_dir={SNAPSHOTS}"]


def report(data):
    lab.print_report("e2e-upgrade", data)


def cluster_version():
    out = lab.kubectl("-n", "kube-system", "get", "configmap", "kubeadm-config", "-o",
                      "jsonpath={.data.ClusterConfiguration}").stdout
    return next(line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("kubernetesVersion:"))


def static_pod_images():
    pods = lab.kubectl_json("-n", "kube-system", "get", "pods", "-l", "tier=control-plane")
    return {(p["spec"]["nodeName"], p["metadata"]["labels"]["component"]): p["spec"]["containers"][0]["image"]
            for p in pods["items"]}


def fake_bundle(tmp_path, version):
    """A bundle that says it is `version`: the real target bundle's files linked, its manifest rewritten (preflight
    checks the files against the manifest and the manifest's version against kubeha_kubernetes_version)."""
    dest = tmp_path / f"v{version}-amd64"
    shutil.copytree(TARGET_BUNDLE, dest, symlinks=False, copy_function=os.symlink)
    manifest = json.loads((dest / "manifest.json").read_text())
    manifest["kubernetes_version"] = f"v{version}"
    (dest / "manifest.json").unlink()
    (dest / "manifest.json").write_text(json.dumps(manifest))
    return dest


def run_until(args, marker, timeout=3600):
    """Run the upgrade and kill it as soon as its output shows `marker` (an interruption at a known point)."""
    cmd = ["ansible-playbook", "-i", str(lab.INVENTORY), str(UPGRADE), "-e", f"kubeha_bundle_path={lab.BUNDLE}", *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,  # noqa: S603
                            start_new_session=True)
    seen, deadline = [], time.monotonic() + timeout
    try:
        for line in proc.stdout:
            seen.append(line)
            if marker in line:
                os.killpg(proc.pid, signal.SIGTERM)
                break
            if time.monotonic() > deadline:
                break
    finally:
        if proc.poll() is None:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    return "".join(seen), proc.returncode


@pytest.fixture(scope="module")
def target_bundle():
    if not os.path.isfile(f"{TARGET_BUNDLE}/manifest.json"):
        pytest.fail(f"no bundle at {TARGET_BUNDLE}: tools/test --stage upgrade builds it "
                    f"(tools/bundle/build --version {TARGET})")
    return TARGET_BUNDLE


def test_a_skipped_minor_is_refused_before_anything_changes(hosts, target_bundle, tmp_path):
    before = cluster_version()
    major, minor, _patch = TARGET.split(".")
    skipped = f"{major}.{int(minor) + 1}.0"
    bundle = fake_bundle(tmp_path, skipped)
    proc, recap = lab.playbook("-e", f"kubeha_kubernetes_version={skipped}", "-e", f"kubeha_bundle_path={bundle}",
                               path=UPGRADE)
    assert proc.returncode != 0, proc.stdout[-3000:]
    text = " ".join(proc.stdout.split())  # the callback wraps long messages
    assert "kubeadm upgrades one minor at a time" in text, proc.stdout[-3000:]
    assert "Nothing was changed" in text
    assert not {h: r["changed"] for h, r in recap.items() if r["changed"]}, recap
    assert cluster_version() == before


def test_upgrade_interrupted_then_finished_without_api_downtime(hosts, api, target_bundle):
    cps, workers = hosts["control_plane"], hosts["node"]
    before = cluster_version()
    assert before != f"v{TARGET}", f"the lab already runs {before}: deploy a fresh one (tools/deploy-lab)"
    shutil.rmtree(SNAPSHOTS, ignore_errors=True)
    figures = {"from": before, "to": TARGET}

    # First run: killed when the kubelets' play starts (every control plane's static pods are at the target).
    (out, _rc), figures["interrupted"] = probed(
        api, lambda: run_until(TARGET_ARGS, "PLAY [Upgrade - kubelets of the control planes"))
    assert "PLAY [Upgrade - kubelets of the control planes" in out, out[-6000:]
    assert "kubeadm upgrade apply" in out and "kubeadm upgrade node" in out, out[-6000:]
    assert cluster_version() == f"v{TARGET}"
    images = static_pod_images()
    assert all(i.endswith(f":v{TARGET}") for (n, c), i in images.items() if c != "etcd"), images
    snapshots = list(SNAPSHOTS.glob("**/*.db")) if SNAPSHOTS.exists() else []
    assert snapshots, f"no etcd snapshot under {SNAPSHOTS}"

    # Second run: finishes the kubelets and converges the rest.
    (proc, recap), figures["finish"] = probed(api, lambda: lab.playbook(*TARGET_ARGS, path=UPGRADE))
    lab.clean_run(proc, recap)
    assert "Upgrade the static pods - kubeadm upgrade" not in proc.stdout, "the second run upgraded static pods again"

    nodes = lab.kubectl_json("get", "nodes")["items"]
    kubelets = {n["metadata"]["name"]: n["status"]["nodeInfo"]["kubeletVersion"] for n in nodes}
    assert kubelets == {h: f"v{TARGET}" for h in cps + workers}, kubelets
    assert not [n["metadata"]["name"] for n in nodes if n["spec"].get("unschedulable")], "a node stays cordoned"
    assert not [n["metadata"]["name"] for n in nodes
                if MARK in (n["metadata"].get("annotations") or {})], "the upgrade's mark stays"
    lab.wait_nodes_ready(cps + workers, timeout=300)
    server = json.loads(lab.kubectl("version", "-o", "json").stdout)["serverVersion"]["gitVersion"]
    assert server == f"v{TARGET}", server
    proxy = lab.kubectl_json("-n", "kube-system", "get", "daemonset", "kube-proxy")
    assert proxy["spec"]["template"]["spec"]["containers"][0]["image"].endswith(f":v{TARGET}")
    test_faults.wait_etcd_healthy(cps[0], len(cps), time.time())

    started = time.time()
    proc, recap = lab.playbook("-e", f"kubeha_kubernetes_version={TARGET}", "-e", f"kubeha_bundle_path={TARGET_BUNDLE}")
    lab.clean_run(proc, recap)
    figures["site_after_s"] = round(time.time() - started, 1)
    report(figures)
    assert not {h: r["changed"] for h, r in recap.items() if r["changed"]}, recap

    # Every static pod restart (kubeadm's, and the new kubelet's on each control plane) happens drained in haproxy.
    for phase in ("interrupted", "finish"):
        assert figures[phase]["failed_probes"] == 0, (phase, figures[phase])
