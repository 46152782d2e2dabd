"""Helpers for the end-to-end tests: they drive the lab built by tools/lab and the cluster site.yml made."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path

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
        "hostvars": hostvars,
    }


def container_of(host):
    return f"kubeha-lab-{host}"


def playbook(*args, timeout=3600, env=None):
    """Run site.yml against the lab; return (CompletedProcess, {host: recap dict})."""
    proc = run(
        ["ansible-playbook", "-i", INVENTORY, REPO_ROOT / "site.yml", "-e", f"kubeha_bundle_path={BUNDLE}", *args],
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
