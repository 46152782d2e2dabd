"""Helpers for the end-to-end tests: they drive the lab built by tools/lab and the cluster site.yml made."""

from __future__ import annotations

import base64
import calendar
import json
import os
import re
import secrets
import string
import subprocess
import threading
import time
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
LAB_DIR = REPO_ROOT / ".lab"
INVENTORY = REPO_ROOT / "inventories" / "lab" / "hosts.yml"
KUBECONFIG = LAB_DIR / "kubeconfig"
CACHE = Path(os.environ.get("KUBEHA_CACHE", "/var/cache/kubeha"))
VERSION = os.environ.get("KUBEHA_KUBERNETES_VERSION", "1.25.0")
BUNDLE = Path(os.environ.get("KUBEHA_BUNDLE_PATH", CACHE / "bundles" / f"v{VERSION}-amd64"))
KUBECTL = BUNDLE / "bin" / "kubectl"
RECAP = re.compile(
    r"^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
    r"\s+failed=(?P<failed>\d+)",
    re.MULTILINE,
)


def run(argv, *, check=True, timeout=600, input_text=None, env=None):
    """Run a command, return CompletedProcess with text output; on failure show what it printed."""
    proc = subprocess.run(
        [str(a) for a in argv], capture_output=True, text=True, timeout=timeout, input=input_text, check=False,
        env={**os.environ, **(env or {})},
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(str(a) for a in argv)} exited {proc.returncode}\n"
            f"--- stdout ---\n{proc.stdout[-4000:]}\n--- stderr ---\n{proc.stderr[-4000:]}"
        )
    return proc


def kubectl(*args, check=True, timeout=120, input_text=None):
    return run([KUBECTL, "--kubeconfig", KUBECONFIG, *args], check=check, timeout=timeout, input_text=input_text)


def kubectl_json(*args):
    return json.loads(kubectl(*args, "-o", "json").stdout)


def docker_exec(container, *argv, check=True, timeout=120, input_text=None):
    flags = ["-i"] if input_text is not None else []
    return run(["docker", "exec", *flags, container, *argv], check=check, timeout=timeout, input_text=input_text)


def lab_hosts():
    """Inventory hosts by group, read from the generated inventory with ansible-inventory."""
    data = json.loads(run(["ansible-inventory", "-i", INVENTORY, "--list"]).stdout)
    hostvars = data.get("_meta", {}).get("hostvars", {})

    def group(name):
        return sorted(data.get(name, {}).get("hosts", []))

    return {
        "control_plane": group("kube_control_plane"),
        "node": group("kube_node"),
        "lb": group("kube_lb"),  # dedicated load balancers ([] when the control planes hold the VIP)
        "hostvars": hostvars,
    }


def container_of(host):
    return f"kubeha-lab-{host}"


def playbook(*args, timeout=3600, env=None, path=REPO_ROOT / "site.yml"):
    """Run site.yml (or the playbook at path) against the lab; return (CompletedProcess, {host: recap dict})."""
    proc = run(
        ["ansible-playbook", "-i", INVENTORY, path, "-e", f"kubeha_bundle_path={BUNDLE}", *args],
        check=False, timeout=timeout, env=env,
    )
    recap = {m["host"]: {k: int(v) for k, v in m.groupdict().items() if k != "host"}
             for m in RECAP.finditer(proc.stdout)}
    return proc, recap


def wait_for(predicate, timeout, interval=1.0, what="condition"):
    """Poll predicate() until it returns a truthy value; return it, or raise after timeout seconds."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except (AssertionError, subprocess.SubprocessError, ValueError) as exc:  # keep polling
            last_error = exc
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}; last error: {last_error}")


# --- Shared by test_secrets.py and test_faults.py -----------------------------------------------------------

CRI_SOCKET = "unix:///var/run/cri-dockerd.sock"
HOST_BIN = "/usr/local/bin"  # where the bundle install puts kubeadm, kubelet and kubectl on the hosts
TOKEN_DESCRIPTION = "kubeha.cluster join token"  # membership_token_description
PROXY_TOKEN_DESCRIPTION = "Proxy for managing TTL for the kubeadm-certs secret"  # kubeadm's own
REPORTS = REPO_ROOT / "reports"
# The test image's web server (busybox httpd on 8080, answering with the pod's name), as a manifest's command list.
WEB_SERVER_COMMAND = '["sh", "-c", "mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www"]'


def unit_state(host, unit):
    """`systemctl is-active <unit>` on a lab host: "active", "inactive", "failed", "unknown"..."""
    proc = docker_exec(container_of(host), "systemctl", "is-active", unit, check=False, timeout=30)
    return proc.stdout.strip()


def clean_run(proc, recap):
    """Assert that a site.yml run (lab.playbook's result) succeeded on every host."""
    assert proc.returncode == 0, proc.stdout[-8000:] + proc.stderr[-3000:]
    bad = {h: r for h, r in recap.items() if r["failed"] or r["unreachable"]}
    assert not bad, bad


def print_report(name, data):
    """write_report, then print the figures (pytest -rP shows them)."""
    path = write_report(name, data)
    print(f"\n{name} ({path}):\n{yaml.safe_dump(data, sort_keys=True)}")


def write_report(name, data):
    """Write reports/<name>.json (git-ignored) and return its path; the figures docs/reliability.md quotes."""
    REPORTS.mkdir(exist_ok=True)
    path = REPORTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    return path


def wait_ssh(host, timeout=180):
    """Wait until Ansible reaches the host over SSH, as after a power-on."""
    return wait_for(lambda: run(["ansible", "-i", INVENTORY, host, "-m", "ansible.builtin.ping"],
                                check=False, timeout=60).returncode == 0, timeout, interval=2, what=f"SSH on {host}")


def node_ready(name, since=None):
    """True when the node is Ready (and, with since=<epoch s>, its kubelet renewed its lease after that time)."""
    proc = kubectl("get", "node", name, "-o", "json", check=False, timeout=30)
    if proc.returncode != 0:
        return False
    node = json.loads(proc.stdout)
    if not any(c["type"] == "Ready" and c["status"] == "True" for c in node["status"]["conditions"]):
        return False
    if since is None:
        return True
    lease = kubectl("-n", "kube-node-lease", "get", "lease", name, "-o", "json", check=False, timeout=30)
    if lease.returncode != 0:
        return False
    renew = json.loads(lease.stdout)["spec"].get("renewTime", "")
    stamp = calendar.timegm(time.strptime(renew[:19], "%Y-%m-%dT%H:%M:%S")) if renew else 0
    return stamp >= since


def wait_nodes_ready(names, timeout=300, since=None):
    return wait_for(lambda: all(node_ready(n, since) for n in names), timeout, interval=3,
                    what=f"nodes {', '.join(names)} Ready")


def bootstrap_tokens():
    """Every bootstrap-token secret in kube-system, decoded: {token_id: {...}}. Holds secrets: never print it."""
    items = kubectl_json("-n", "kube-system", "get", "secrets",
                         "--field-selector", "type=bootstrap.kubernetes.io/token")["items"]
    tokens = {}
    for secret in items:
        data = {k: base64.b64decode(v).decode() for k, v in (secret.get("data") or {}).items()}
        token_id = data.get("token-id", secret["metadata"]["name"].rsplit("-", 1)[-1])
        tokens[token_id] = {**data, "created": secret["metadata"]["creationTimestamp"]}
    return tokens


def public_token(info):
    """What may be printed about a token: everything but its secret half."""
    return {k: v for k, v in info.items() if k != "token-secret"}


def reset_host(host):
    """Undo a host's join as an admin would (kubeadm reset, then delete its Node), so that site.yml joins it again.
    On a control plane kubeadm reset also removes its etcd member."""
    docker_exec(container_of(host), f"{HOST_BIN}/kubeadm", "reset", "--force", f"--cri-socket={CRI_SOCKET}",
                timeout=300)
    # Through the VIP: a request haproxy sends to a control plane's API server that the reset just stopped can
    # fail until haproxy's health check takes that server out, so retry.
    wait_for(lambda: kubectl("delete", "node", host, "--ignore-not-found", "--wait=true", timeout=120),
             180, interval=2, what=f"deleting Node {host}")


def plant_token(expires_in, description=TOKEN_DESCRIPTION):
    """Create a join token straight through the API (as an earlier run or an admin would have left it) that
    expires in expires_in seconds (negative: already expired). Returns its id. Simulates an expiring token."""
    token_id = "".join(secrets.choice(string.ascii_lowercase + string.digits) for _position in range(6))
    token_secret = "".join(secrets.choice(string.ascii_lowercase + string.digits) for _position in range(16))
    expiration = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + expires_in))
    manifest = {
        "apiVersion": "v1", "kind": "Secret", "type": "bootstrap.kubernetes.io/token",
        "metadata": {"name": f"bootstrap-token-{token_id}", "namespace": "kube-system"},
        "stringData": {"token-id": token_id, "token-secret": token_secret, "expiration": expiration,
                       "description": description, "usage-bootstrap-authentication": "true",
                       "usage-bootstrap-signing": "true",
                       "auth-extra-groups": "system:bootstrappers:kubeadm:default-node-token"},
    }
    kubectl("apply", "-f", "-", input_text=json.dumps(manifest))  # on stdin, never on a command line
    return token_id


class TokenWatcher(threading.Thread):
    """Polls the bootstrap tokens and the kubeadm-certs secret through the API while the run goes on."""

    def __init__(self, interval=1.0):
        super().__init__(daemon=True)
        self.interval = interval
        self.tokens = {}  # token id -> decoded secret + first_seen/last_seen (holds secrets: never printed)
        self.certs_owners = {}  # kubeadm-certs owner token id -> [first_seen, last_seen]
        self.polls = 0
        self.errors = 0
        self._halt = threading.Event()

    def run(self):
        while not self._halt.is_set():
            try:
                self.poll()
            except (AssertionError, subprocess.SubprocessError, ValueError):
                self.errors += 1
            self._halt.wait(self.interval)

    def poll(self):
        now = time.time()
        for token_id, info in bootstrap_tokens().items():
            self.tokens.setdefault(token_id, {**info, "first_seen": now})["last_seen"] = now
        owner = certs_owner()
        if owner is not None:
            self.certs_owners.setdefault(owner, [now, now])[1] = now
        self.polls += 1

    def stop(self):
        self._halt.set()
        self.join(timeout=60)


def certs_owner():
    """Id of the token owning kubeadm-certs, "" when it has none, None when there is no kubeadm-certs."""
    proc = kubectl("-n", "kube-system", "get", "secret", "kubeadm-certs", "--ignore-not-found", "-o",
                   "jsonpath={.metadata.ownerReferences[*].name}{'|'}", timeout=30)
    if not proc.stdout.strip():
        return None
    return proc.stdout.strip().rstrip("|").replace("bootstrap-token-", "")
