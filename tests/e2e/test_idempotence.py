"""A converged cluster: site.yml changes nothing on a second run, and check mode plans without failing."""

from __future__ import annotations

import lab


def _assert_clean(proc, recap, hosts):
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    missing = set(hosts["control_plane"] + hosts["node"]) - set(recap)
    assert not missing, f"no PLAY RECAP line for {sorted(missing)}"
    changed = {h: r["changed"] for h, r in recap.items() if r["changed"]}
    failed = {h: r["failed"] + r["unreachable"] for h, r in recap.items() if r["failed"] or r["unreachable"]}
    assert not failed, failed
    assert not changed, f"changed tasks on a converged cluster: {changed}\n{proc.stdout[-6000:]}"


def test_second_run_changes_nothing(hosts):
    proc, recap = lab.playbook()
    _assert_clean(proc, recap, hosts)


def test_check_mode_plans_without_failing_or_changing(hosts):
    proc, recap = lab.playbook("--check")
    _assert_clean(proc, recap, hosts)
