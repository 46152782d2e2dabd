"""Secrets (issue 5): join tokens, certificate keys and the keepalived password never show up in
`ansible-playbook -vvv` output, in files the run leaves on the controller, or in process arguments on the hosts;
join credentials are short-lived and removed after the joins; admin kubeconfigs are private. The keys that encrypt
Secrets in etcd are searched for the same way.

One site.yml run that really joins (a worker and a non-bootstrap control plane are reset first; the run is limited
to them, as an operator re-joining hosts runs it: every task that handles a secret runs on a joiner or is delegated
to the bootstrap control plane, so the whole inventory would only repeat the same tasks), watched from
three sides while it runs: the API (every bootstrap token and the kubeadm-certs secret, polled), every host (`ps`
with full arguments every ~0.2 s, and the join configuration while it exists, which is where the test learns the
real token and certificate key) and the controller (files created or changed during the run). The secrets the
run used are then searched for, plain and base64-encoded, in all three. Before the run, an expiring kubeadm-certs
secret and an expiring join token are planted (an interrupted earlier run): the run must renew both.
"""

from __future__ import annotations

import base64
import calendar
import os
import re
import secrets
import shutil
import stat
import subprocess
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import yaml

import lab

STOP_FILE = "/run/kubeha-e2e-sampler.stop"
JOIN_CONFIG = "/etc/kubernetes/kubeha/join.yaml"
MAX_SCAN_BYTES = 64 * 1024 * 1024  # larger controller files (build artefacts of other jobs) are counted, not read


class HostSampler:
    """`ps -e -ww -o args` on one host every ~0.2 s, from a loop inside the host (one docker exec for the whole
    run, not one per sample), plus a copy of the join configuration whenever it exists."""

    def __init__(self, host, marker):
        self.host = host
        self.container = lab.container_of(host)
        self.lines = set()
        self.samples = 0
        self.join_docs = []
        # `: {marker}` puts the marker into the loop's own arguments: a positive control for the scan.
        script = (
            f": {marker}; rm -f {STOP_FILE}; end=$(( $(date +%s) + 1800 )); "
            f"while [ ! -e {STOP_FILE} ] && [ $(date +%s) -lt $end ]; do "
            "echo @@PS; ps -e -ww -o args=; "
            f"if [ -f {JOIN_CONFIG} ]; then echo @@JOIN; cat {JOIN_CONFIG} 2>/dev/null; fi; "
            f"echo @@END; sleep 0.2; done; rm -f {STOP_FILE}"
        )
        self.proc = subprocess.Popen(["docker", "exec", self.container, "sh", "-c", script],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, errors="replace")
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        section, join = None, []
        for raw in self.proc.stdout:
            line = raw.rstrip("\n")
            if line == "@@PS":
                section = "ps"
                self.samples += 1
            elif line == "@@JOIN":
                section, join = "join", []
            elif line == "@@END":
                text = "\n".join(join)
                if section == "join" and text and text not in self.join_docs:
                    self.join_docs.append(text)
                section = None
            elif section == "ps":
                self.lines.add(line)
            elif section == "join":
                join.append(line)

    def stop(self):
        lab.docker_exec(self.container, "touch", STOP_FILE, check=False)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.thread.join(timeout=30)


def _seconds(duration):
    """kubeadm/Go durations (1h, 45m, 1h0m0s, 3600s, bare seconds) -> seconds."""
    text = str(duration).strip()
    if text.isdigit():
        return int(text)
    return int(sum(float(n) * {"h": 3600, "m": 60, "s": 1}[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)([hms])", text)))


def _epoch(rfc3339):
    return calendar.timegm(time.strptime(rfc3339[:19], "%Y-%m-%dT%H:%M:%S"))


def _prepare(bootstrap):
    """As an interrupted earlier run would leave it: a kubeadm-certs secret (uploaded by the module, its key
    never printed). Also: the token module refuses a token that never expires."""
    play = textwrap.dedent(f"""\
        - name: e2e secrets preparation
          hosts: {bootstrap}
          become: true
          gather_facts: false
          tasks:
            - name: Upload kubeadm-certs as an earlier run that stopped before its clean-up would have left it
              kubeha.cluster.kubeadm_certificate_key:
                state: present
                cri_socket: {lab.CRI_SOCKET}
                kubeadm_path: {lab.HOST_BIN}/kubeadm
                kubectl_path: {lab.HOST_BIN}/kubectl
              no_log: true
            - name: Ask for a token that never expires
              kubeha.cluster.kubeadm_token:
                description: kubeha e2e token without expiry
                ttl: "0"
                cri_socket: {lab.CRI_SOCKET}
                kubeadm_path: {lab.HOST_BIN}/kubeadm
              register: forever
              ignore_errors: true
              no_log: true
            - name: It is refused
              ansible.builtin.assert:
                that:
                  - forever is failed
                  - "'never expires' in forever.msg"
        """)
    with tempfile.TemporaryDirectory(prefix="kubeha-e2e-secrets-") as work:
        path = Path(work) / "prepare.yml"
        path.write_text(play)
        lab.run(["ansible-playbook", "-i", lab.INVENTORY, path], timeout=300)


def _needles(values):
    """Every form a secret could leak in: as is, and base64-encoded (Kubernetes secrets, Ansible payloads)."""
    out = set()
    for value in values:
        out.add(value)
        out.add(base64.b64encode(value.encode()).decode())
    return sorted(out)


def _scan_controller(pattern, since, control):
    """Regular files under ~/.ansible, the temporary directory and the checkout created or changed since `since`:
    "hits" lists the files matching `pattern`, "controls" those matching `control` (the positive control)."""
    roots = [Path.home() / ".ansible", Path(tempfile.gettempdir()), lab.REPO_ROOT]
    skip = {lab.REPO_ROOT / ".git", lab.REPO_ROOT / ".venv"}
    stats = {"files": 0, "bytes": 0, "skipped_large": 0, "hits": [], "controls": []}
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root, onerror=lambda exc: None):
            dirnames[:] = [d for d in dirnames if Path(dirpath, d) not in skip]
            for name in filenames:
                path = Path(dirpath, name)
                try:
                    st = path.lstat()
                except OSError:
                    continue
                if not stat.S_ISREG(st.st_mode) or max(st.st_mtime, st.st_ctime) < since:
                    continue
                if st.st_size > MAX_SCAN_BYTES:
                    stats["skipped_large"] += 1
                    continue
                try:
                    data = path.read_bytes()
                except OSError:
                    continue
                stats["files"] += 1
                stats["bytes"] += len(data)
                if pattern.search(data):
                    stats["hits"].append(str(path))
                if control.search(data):
                    stats["controls"].append(str(path))
    return stats


def test_secrets_never_leak_and_join_credentials_are_short_lived(hosts):
    cps, workers = hosts["control_plane"], hosts["node"]
    joiners = [cps[-1], workers[-1]]
    report = {"joiners": joiners}
    lab.wait_nodes_ready(cps + workers, timeout=300)
    bootstrap = next(h for h in cps if lab.docker_exec(lab.container_of(h), "test", "-e", "/etc/kubernetes/admin.conf",
                                                       check=False).returncode == 0)

    # Make the run join for real: a control plane other than the bootstrap one and a worker start over.
    started = time.monotonic()
    for host in joiners:
        lab.reset_host(host)
    report["reset_seconds"] = round(time.monotonic() - started, 1)

    # An interrupted earlier run: kubeadm-certs (and its owner token) about to expire, a join token about to expire.
    _prepare(bootstrap)
    planted_owner = lab.certs_owner()
    assert planted_owner, "the preparation did not upload kubeadm-certs"
    soon = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 300))
    lab.kubectl("-n", "kube-system", "patch", "secret", f"bootstrap-token-{planted_owner}", "--type=merge",
                "-p", f'{{"stringData": {{"expiration": "{soon}"}}}}')
    planted_token = lab.plant_token(300)
    planted = {planted_owner, planted_token}

    conf = lab.docker_exec(lab.container_of(bootstrap), "cat", "/etc/keepalived/keepalived.conf").stdout
    passwords = re.findall(r"auth_pass\s+(\S+)", conf)
    assert len(passwords) == 1, "no auth_pass in keepalived.conf"
    # The keys that encrypt Secrets in etcd (the re-joining control plane gets them written by the run).
    encryption = yaml.safe_load(lab.docker_exec(lab.container_of(bootstrap), "cat",
                                                "/etc/kubernetes/encryption/config.yaml").stdout)
    encryption_keys = [k["secret"] for k in encryption["resources"][0]["providers"][0]["aescbc"]["keys"]]
    assert encryption_keys, "no encryption key on the bootstrap control plane"

    # The run, watched.
    # Positive controls, scanned like the secrets: a marker in the samplers' own process arguments on every host
    # and in a controller file written during the run. Both must be found, or the scan would prove nothing.
    marker = "kubeha-e2e-marker-" + secrets.token_hex(8)
    samplers = [HostSampler(h, marker) for h in cps + workers]
    watcher = lab.TokenWatcher()
    watcher.start()
    time.sleep(2)
    run_start = time.time()
    marker_dir = tempfile.mkdtemp(prefix="kubeha-e2e-marker-")
    marker_file = Path(marker_dir) / "marker.txt"
    try:
        marker_file.write_text(marker + "\n")
        proc, recap = lab.playbook("-vvv", "--limit", ",".join(joiners))
    finally:
        run_end = time.time()
        time.sleep(1)
        watcher.stop()
        for sampler in samplers:
            sampler.stop()
    report["run_seconds"] = round(run_end - run_start, 1)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-3000:]
    assert not {h: r for h, r in recap.items() if r["failed"] or r["unreachable"]}, recap

    # The secrets the run handled.
    created = {i: t for i, t in watcher.tokens.items() if i not in planted}
    join_created = {i: t for i, t in created.items() if t.get("description") == lab.TOKEN_DESCRIPTION}
    assert join_created, "the run created no join token although the planted one was about to expire"
    tokens = {f"{t['token-id']}.{t['token-secret']}" for t in watcher.tokens.values()}
    keys = set()
    join_docs = {s.host: s.join_docs for s in samplers if s.join_docs}
    for host, docs in join_docs.items():
        for doc in docs:
            config = yaml.safe_load(doc)
            tokens.add(config["discovery"]["bootstrapToken"]["token"])
            assert config["discovery"]["bootstrapToken"]["token"].split(".")[0] in join_created, \
                f"{host} joined with a token the run did not create (a planted, expiring one?)"
            if "controlPlane" in config:
                keys.add(config["controlPlane"]["certificateKey"])
    assert set(join_docs) == set(joiners), f"join configurations seen on {sorted(join_docs)}, expected {joiners}"
    assert keys, "no certificate key captured from the joining control plane"
    values = (sorted(tokens) + sorted(t.split(".")[1] for t in tokens) + sorted(keys) + sorted(passwords)
              + sorted(encryption_keys))
    pattern = re.compile("|".join(re.escape(n) for n in _needles(values)).encode())
    control = re.compile(re.escape(marker).encode())

    # 1. ansible-playbook -vvv output.
    output = (proc.stdout + proc.stderr).encode()
    vvv_hits = len(pattern.findall(output))
    # 2. Files on the controller created or changed during the run.
    files = _scan_controller(pattern, run_start - 1, control)
    shutil.rmtree(marker_dir, ignore_errors=True)
    # 3. Process arguments on every host.
    arg_lines = {s.host: s.lines for s in samplers}
    ps_hits = {h: sum(1 for line in lines if pattern.search(line.encode())) for h, lines in arg_lines.items()}
    ps_controls = {h: sum(1 for line in lines if control.search(line.encode())) for h, lines in arg_lines.items()}
    report["scan"] = {
        "secrets": {"tokens": len(tokens), "certificate_keys": len(keys), "keepalived_passwords": len(passwords),
                    "encryption_keys": len(encryption_keys),
                    "needles": len(_needles(values))},
        "vvv_output_bytes": len(output), "vvv_hits": vvv_hits,
        "controller_files": {k: v for k, v in files.items() if k not in ("hits", "controls")},
        "controller_hits": files["hits"], "positive_controls_found": {"controller": len(files["controls"]), **ps_controls},
        "ps_samples": {s.host: s.samples for s in samplers},
        "ps_distinct_arg_lines": sum(len(v) for v in arg_lines.values()), "ps_hits": ps_hits,
        "api_polls": watcher.polls, "api_poll_errors": watcher.errors,
    }
    assert min(s.samples for s in samplers) >= report["run_seconds"], f"too few process samples: {report['scan']}"
    assert vvv_hits == 0, "a secret appears in the ansible-playbook -vvv output"
    assert files["controls"] == [str(marker_file)], f"the controller scan missed its positive control: {files}"
    assert all(ps_controls.values()), f"the process scan missed its positive control on some host: {ps_controls}"
    assert not files["hits"], f"a secret appears in controller files: {files['hits']}"
    assert not any(ps_hits.values()), f"a secret appears in process arguments on the hosts: {ps_hits}"

    # Join credentials: short-lived, never without expiry, renewed when about to expire, gone after the run.
    for token_id, info in watcher.tokens.items():
        assert info.get("expiration"), f"token {token_id} never expires: {lab.public_token(info)}"
    for token_id, info in join_created.items():
        life = _epoch(info["expiration"]) - _epoch(info["created"])
        assert life <= 3600 + 5, f"join token {token_id} lives {life:.0f} s > 1 h"
    report["join_tokens_created"] = {i: {"ttl_seconds": round(_epoch(t["expiration"]) - _epoch(t["created"])),
                                         "seen_for_seconds": round(t["last_seen"] - t["first_seen"])}
                                     for i, t in join_created.items()}
    new_owners = [o for o in watcher.certs_owners if o != planted_owner]
    assert new_owners, "kubeadm-certs was not uploaded afresh although the planted one was about to expire"
    report["kubeadm_certs"] = {"renewed": True, "seen_for_seconds": {
        ("planted" if o == planted_owner else "run"): round(t[1] - t[0]) for o, t in watcher.certs_owners.items()}}
    after = lab.bootstrap_tokens()
    assert not [i for i, t in after.items() if t.get("description") == lab.TOKEN_DESCRIPTION], \
        "join tokens left after the run"
    assert not [i for i, t in after.items() if t.get("usage-bootstrap-authentication") == "true"], \
        f"tokens that can join are left: {[lab.public_token(t) for t in after.values()]}"
    assert lab.certs_owner() is None, "kubeadm-certs left after the run"
    assert planted_token not in after and not set(new_owners) & set(after)
    report["tokens_left"] = [lab.public_token(t) for t in after.values()]  # at most the planted, expiring proxy

    # kubeadm's own init token gets the same short life (the bootstrap control plane's init configuration).
    init = lab.docker_exec(lab.container_of(bootstrap), "cat", "/etc/kubernetes/kubeha/kubeadm-init.yaml").stdout
    init_tokens = [t for d in yaml.safe_load_all(init) if d and d.get("kind") == "InitConfiguration"
                   for t in d.get("bootstrapTokens", [])]
    assert init_tokens and all(0 < _seconds(t["ttl"]) <= 3600 for t in init_tokens), init_tokens
    defaults = yaml.safe_load((lab.REPO_ROOT / "roles" / "membership" / "defaults" / "main.yml").read_text())
    assert 0 < _seconds(defaults["membership_token_ttl"]) <= 3600, \
        f"membership_token_ttl default {defaults['membership_token_ttl']} is over an hour"

    # Nothing secret left on the hosts by the role, and private admin kubeconfigs.
    for host in cps + workers:
        assert lab.docker_exec(lab.container_of(host), "test", "!", "-e", JOIN_CONFIG, check=False).returncode == 0, \
            f"{JOIN_CONFIG} left on {host}"
    user = next(iter(hosts["hostvars"].values()))["ansible_user"]
    for host in cps:
        modes = lab.docker_exec(lab.container_of(host), "stat", "-c", "%n %a %U", "/etc/kubernetes/admin.conf",
                                "/root/.kube/config", f"/home/{user}/.kube/config").stdout.split("\n")
        expected = ["/etc/kubernetes/admin.conf 600 root", "/root/.kube/config 600 root",
                    f"/home/{user}/.kube/config 600 {user}"]
        assert [m for m in modes if m] == expected, f"{host}: {modes}"

    lab.wait_nodes_ready(cps + workers, timeout=300)
    path = lab.write_report("e2e-secrets", report)
    print(f"\nsecrets report ({path}):\n{yaml.safe_dump(report, sort_keys=True)}")
