# -*- coding: utf-8 -*-
# Copyright (c) 2026, the kubeha.cluster authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Bad restore requests: playbooks/etcd_restore.yml must refuse in its preflight play, naming the variable, before
any host is contacted.

Same harness as test_bad_input.py: the inventory's hosts are a closed loopback port (any connection shows up as
UNREACHABLE), the kubeha_record callback records what ran. A case passes when the run failed with the expected
message, only the restore's preflight play started tasks, and no host was unreachable or changed. The control case
(a good snapshot, confirmed) gets past every check to the first connection, so the cases would see one.
"""

from __future__ import annotations

import hashlib
import json
import subprocess

import pytest

from test_bad_input import REPO_ROOT, build_inventory, messages_of, run_site

PLAYBOOK = REPO_ROOT / "playbooks" / "etcd_restore.yml"
SNAPSHOT = b"not a real etcd snapshot, but a file with a checksum\n"


def snapshot(tmp_path, sha256=True, content=SNAPSHOT):
    """A snapshot file as etcd_backup.yml leaves it on the controller; sha256: True (right), False (none) or text."""
    path = tmp_path / "backups" / "etcd-snapshot-cp1-20260101T000000Z.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    if sha256 is True:
        sha256 = hashlib.sha256(content).hexdigest()
    if sha256:
        (path.parent / (path.name + ".sha256")).write_text(f"{sha256}  {path.name}\n")
    return path


def run_restore(tmp_path, extra):
    """Run etcd_restore.yml (through test_bad_input's harness, with this playbook) with extra vars from a file."""
    extra_file = tmp_path / "extra.json"
    extra_file.write_text(json.dumps(extra))
    return run_site(build_inventory({}, tmp_path), tmp_path, playbook=PLAYBOOK, extra=["-e", f"@{extra_file}"])


def _missing(tmp_path):
    return {"etcd_restore_snapshot": str(tmp_path / "no-such.db"), "etcd_restore_confirm": True}


def _directory(tmp_path):
    (tmp_path / "a-directory.db").mkdir()
    return {"etcd_restore_snapshot": str(tmp_path / "a-directory.db"), "etcd_restore_confirm": True}


CASES = [
    ("no-confirmation", lambda p: {"etcd_restore_snapshot": str(snapshot(p))},
     ["etcd_restore_confirm is not true", "-e etcd_restore_confirm=true"]),
    ("confirmation-false", lambda p: {"etcd_restore_snapshot": str(snapshot(p)), "etcd_restore_confirm": False},
     ["etcd_restore_confirm is not true"]),
    ("no-snapshot", lambda p: {"etcd_restore_confirm": True},
     ["etcd_restore_snapshot is not set", "etcd_restore_survivor"]),
    ("snapshot-missing", _missing,
     ["no-such.db is missing on the controller"]),
    ("snapshot-is-a-directory", _directory,
     ["a-directory.db is not a regular file on the controller"]),
    ("no-checksum", lambda p: {"etcd_restore_snapshot": str(snapshot(p, sha256=False)), "etcd_restore_confirm": True},
     ["has no checksum", "etcd_restore_sha256"]),
    ("checksum-mismatch", lambda p: {"etcd_restore_snapshot": str(snapshot(p, sha256="0" * 64)),
                                     "etcd_restore_confirm": True},
     ["has sha256 " + hashlib.sha256(SNAPSHOT).hexdigest(), ".sha256 says " + "0" * 64, "is damaged"]),
    ("checksum-variable-mismatch", lambda p: {"etcd_restore_snapshot": str(snapshot(p)), "etcd_restore_confirm": True,
                                              "etcd_restore_sha256": "f" * 64},
     ["but etcd_restore_sha256 says " + "f" * 64]),
    ("survivor-not-a-control-plane", lambda p: {"etcd_restore_survivor": "worker1", "etcd_restore_confirm": True},
     ['etcd_restore_survivor is "worker1", which is not a control plane of this run']),
]


@pytest.mark.parametrize("make,expected", [pytest.param(m, e, id=i) for i, m, e in CASES])
def test_a_bad_restore_is_refused_before_any_host_is_contacted(make, expected, tmp_path):
    proc, report = run_restore(tmp_path, make(tmp_path))
    assert proc.returncode != 0, "etcd_restore.yml went on with a bad request"
    text = " ".join(" ".join(messages_of(report)).split())
    for fragment in expected:
        assert fragment in text, f"expected {fragment!r} among the failure messages:\n{text}"
    for task in report["started"]:
        assert task["play"].startswith("Preflight"), f"task {task['task']!r} of play {task['play']!r} started"
    assert report["stats"], "no PLAY RECAP"
    for host, stats in report["stats"].items():
        assert stats["unreachable"] == 0 and stats["changed"] == 0, f"{host} was contacted: {stats}"


def test_a_good_restore_request_passes_the_checks():
    """The control: a confirmed snapshot with the right checksum passes the preflight play; the next play's first
    connection (fact gathering) finds the closed port, so the cases above would see a contact."""
    import tempfile
    from pathlib import Path
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        proc, report = run_restore(tmp_path, {"etcd_restore_snapshot": str(snapshot(tmp_path)),
                                              "etcd_restore_confirm": True})
    assert proc.returncode != 0
    failed = [r for r in report["results"] if r["status"] == "failed"]
    assert not failed, "the restore's checks failed on a good request:\n" + "\n".join(messages_of(report))
    passed = {r["task"].split(" : ")[-1] for r in report["results"] if r["status"] == "ok"}
    for task in ("Refuse a restore without confirmation", "Refuse a missing or unreadable snapshot",
                 "Refuse a snapshot whose checksum is unknown or does not match"):
        assert task in passed, f"{task!r} did not pass: {sorted(passed)}"
    assert any(s["unreachable"] > 0 for s in report["stats"].values()), report["stats"]
    assert any(p.startswith("Restore etcd") for p in report["plays"]), report["plays"]


def test_the_snapshot_checksum_format_is_what_sha256sum_checks(tmp_path):
    """The .sha256 file the backup writes (and the cases use) is sha256sum's own format."""
    path = snapshot(tmp_path)
    proc = subprocess.run(["sha256sum", "-c", path.name + ".sha256"], cwd=path.parent, capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
