"""Check mode plans from nothing (issue 9): site.yml --check on a fresh lab exits 0, reports what it would change, and
changes nothing on the hosts - their packages and files are listed before and after and must be the same.
tools/test runs this in the deploy stage, between a fresh `tools/lab up` and the real deploy.
"""

from __future__ import annotations

import hashlib

import lab

# Package and file state of a host: installed packages with versions, then every file (path, size, mode, modification
# time) and directory (path, mode: its modification time only says that an entry came or went, and the entries are
# listed; Ansible's own temporary directory under the login's home is one) under the places a role writes to. apt's
# downloaded package lists are a cache (check mode may read fresh ones), and logs, journals and runtime state change
# on their own; they are left out.
STATE = r"""
dpkg-query -W -f '${Package} ${Version} ${Status}\n' | sort
find /etc /usr /opt /root /home /var/lib /var/cache -xdev \
  \( -path /var/lib/apt/lists -o -path /var/cache/apt -o -path /var/cache/debconf -o -path /var/lib/systemd \
     -o -path /var/lib/dhcp -o -path /var/cache/ldconfig -o -path /etc/ld.so.cache -o -path /home/kubeha/.ansible \
     -o -path /root/.ansible -o -path /var/lib/sudo -o -path /var/lib/private \) -prune \
  -o -type d -printf '%p dir %m\n' -o -printf '%p %s %m %T@\n' 2>/dev/null | sort
"""


def host_state(host):
    out = lab.docker_exec(lab.container_of(host), "sh", "-c", STATE, timeout=300).stdout
    return hashlib.sha256(out.encode()).hexdigest(), out


def test_check_mode_on_fresh_hosts_plans_everything_and_changes_nothing():
    hosts = lab.lab_hosts()
    names = hosts["control_plane"] + hosts["node"]
    for host in names:
        fresh = lab.docker_exec(lab.container_of(host), "test", "!", "-e", "/etc/kubernetes", check=False)
        assert fresh.returncode == 0, f"{host} is not a fresh host (/etc/kubernetes exists): run tools/lab down first"
    before = {h: host_state(h) for h in names}
    proc, recap = lab.playbook("--check")
    assert proc.returncode == 0, proc.stdout[-8000:] + proc.stderr[-3000:]
    assert set(recap) == set(names), recap
    assert all(r["failed"] == 0 and r["unreachable"] == 0 for r in recap.values()), recap
    assert all(r["changed"] > 0 for r in recap.values()), f"check mode should report the changes it plans: {recap}"
    assert "kubeadm init on " + hosts["control_plane"][0] in proc.stdout, "the plan should name the host to initialise"
    after = {h: host_state(h) for h in names}
    for host in names:
        if before[host][0] != after[host][0]:
            old, new = set(before[host][1].splitlines()), set(after[host][1].splitlines())
            raise AssertionError(f"{host} changed in check mode: removed {sorted(old - new)[:20]}, "
                                 f"added {sorted(new - old)[:20]}")
    lab.write_report("e2e-check-fresh", dict(recap.items()))
