# -*- coding: utf-8 -*-
# Copyright (c) 2026, the kubeha.cluster authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Bad input to the lifecycle playbooks: playbooks/remove_node.yml and playbooks/reset.yml must stop in their
preflight play with a message naming the variable, touching no host.

Same harness as test_bad_input.py (its valid inventory: 3 control planes + 1 worker, every host a closed loopback
port, so any connection shows up as UNREACHABLE). A case passes when the run failed, the expected fragments are among
the failure messages, only controller-side tasks of the preflight play started, and no host was contacted or changed.
The control cases (a valid request) prove that the harness sees the first connection.
"""

from __future__ import annotations

import json

import pytest

from test_bad_input import CONTROLLER_ACTIONS, REPO_ROOT, build_inventory, messages_of, run_site, skipped_tasks

REMOVE = REPO_ROOT / "playbooks" / "remove_node.yml"
RESET = REPO_ROOT / "playbooks" / "reset.yml"
UPGRADE = REPO_ROOT / "playbooks" / "upgrade.yml"


def extra_vars(**values):
    return ["-e", json.dumps(values)]


# (id, playbook, extra arguments, expected message fragments)
CASES = [
    ("remove-nothing-named", REMOVE, [],
     ["kubeha_remove_nodes is empty: name the k8s_cluster host(s) to remove"]),
    ("remove-unknown-host", REMOVE, ["-e", "kubeha_remove_nodes=worker1,w9"],
     ["kubeha_remove_nodes names host(s) that are not in k8s_cluster: w9"]),
    ("remove-unknown-host-as-list", REMOVE, extra_vars(kubeha_remove_nodes=["lb7"]),
     ["kubeha_remove_nodes names host(s) that are not in k8s_cluster: lb7"]),
    ("remove-every-control-plane", REMOVE,
     extra_vars(kubeha_remove_nodes="cp1,cp2,cp3", kubeha_remove_allow_multiple_control_planes=True,
                kubeha_remove_allow_quorum_loss=True),
     ["kubeha_remove_nodes names every control plane (cp1, cp2, cp3): a cluster needs one to stay",
      "playbooks/reset.yml"]),
    ("remove-two-control-planes", REMOVE, extra_vars(kubeha_remove_nodes="cp1,cp2", kubeha_remove_allow_quorum_loss=True),
     ["kubeha_remove_nodes names 2 control planes (cp1, cp2): remove one per run, or set "
      "kubeha_remove_allow_multiple_control_planes=true"]),
    ("remove-quorum-loss", REMOVE,
     extra_vars(kubeha_remove_nodes="cp2,cp3", kubeha_remove_allow_multiple_control_planes=True),
     ["kubeha_remove_nodes removes 2 of the 3 control planes (cp2, cp3): the 1 left would be fewer than etcd's "
      "quorum of 2 for 3 members", "set kubeha_remove_allow_quorum_loss=true"]),
    ("remove-drain-timeout-zero", REMOVE, extra_vars(kubeha_remove_nodes="worker1", kubeha_remove_drain_timeout=0),
     ['kubeha_remove_drain_timeout is "0": give a positive number of seconds']),
    ("reset-without-confirmation", RESET, [],
     ["set kubeha_reset_confirm=true to go ahead"]),
    ("reset-confirmation-no", RESET, ["-e", "kubeha_reset_confirm=no"],
     ["set kubeha_reset_confirm=true to go ahead"]),
    ("reset-with-limit", RESET, ["-e", "kubeha_reset_confirm=yes", "--limit", "worker1"],
     ["playbooks/reset.yml resets the whole inventory and does not take --limit (worker1)"]),
    ("upgrade-with-limit", UPGRADE, ["--limit", "worker1"],
     ["playbooks/upgrade.yml moves the whole cluster, control planes first, and does not take --limit (worker1)"]),
    ("upgrade-check-mode", UPGRADE, ["--check"],
     ["playbooks/upgrade.yml has no --check: its steps wait for the new versions"]),
    ("upgrade-online", UPGRADE, ["-e", "kubeha_install_source=online"],
     ["playbooks/upgrade.yml upgrades clusters installed from the offline bundle",
      "(kubeha_install_source=online) are not supported by it yet"]),
    ("upgrade-worker-batch-zero", UPGRADE, extra_vars(kubeha_upgrade_worker_batch=0),
     ['kubeha_upgrade_worker_batch is "0": give a positive number of workers, or a percentage such as 25%']),
    ("upgrade-drain-timeout-negative", UPGRADE, extra_vars(kubeha_upgrade_drain_timeout=-1),
     ['kubeha_upgrade_drain_timeout is "-1": give a positive number of seconds']),
]


@pytest.mark.parametrize("playbook,extra,expected", [pytest.param(p, x, e, id=i) for i, p, x, e in CASES])
def test_bad_request_stops_in_the_playbooks_preflight(playbook, extra, expected, tmp_path):
    proc, report = run_site(build_inventory({}, tmp_path), tmp_path, playbook=playbook, extra=extra)
    assert proc.returncode != 0, f"{playbook.name} succeeded with a bad request"
    messages = messages_of(report)
    text = " ".join(" ".join(messages).split())
    for fragment in expected:
        assert fragment in text, f"expected {fragment!r} among the failure messages:\n" + "\n".join(messages)
    skipped_only = skipped_tasks(report)
    for task in report["started"]:
        assert task["play"].startswith("Preflight"), f"task {task['task']!r} of play {task['play']!r} started"
        assert task["action"] in CONTROLLER_ACTIONS or task["task"] in skipped_only, (
            f"task {task['task']!r} ({task['action']}) started")
    assert report["stats"], "no PLAY RECAP"
    for host, stats in report["stats"].items():
        assert stats["unreachable"] == 0 and stats["changed"] == 0, f"{host} was contacted: {stats}"


def test_a_valid_removal_gets_past_the_controller_checks_to_the_cluster_probe(tmp_path):
    """The control: a valid request passes every controller check; the first connection is the probe of the control
    planes, which finds them unreachable, so the plan stops there (no cluster to remove from) and names them."""
    proc, report = run_site(build_inventory({}, tmp_path), tmp_path, playbook=REMOVE,
                            extra=["-e", "kubeha_remove_nodes=cp1"])
    assert proc.returncode != 0
    checks = [r for r in report["results"] if r["task"].endswith("Check what is to be removed (controller only, no host contacted)")]
    assert checks and all(r["status"] == "ok" for r in checks), checks
    assert any(r["status"] == "unreachable" for r in report["results"]), "no host was contacted"
    assert any("cp1, cp2, cp3 cannot be reached" in m for m in messages_of(report)), messages_of(report)
    assert not any(not r["play"].startswith("Preflight") for r in report["results"]), "the run went past preflight"


def test_a_confirmed_reset_gets_past_the_controller_checks_to_the_hosts(tmp_path):
    """The control of the reset cases: with the confirmation the run goes on to the hosts (all unreachable here)."""
    proc, report = run_site(build_inventory({}, tmp_path), tmp_path, playbook=RESET,
                            extra=["-e", "kubeha_reset_confirm=yes"])
    checks = [r for r in report["results"] if r["task"].endswith("Check that the reset is confirmed (controller only, no host contacted)")]
    assert checks and all(r["status"] == "ok" for r in checks), checks
    assert any(r["status"] == "unreachable" and not r["play"].startswith("Preflight") for r in report["results"]), (
        "the confirmed reset contacted no host")
    assert proc.returncode != 0  # every host unreachable
