# -*- coding: utf-8 -*-
# Copyright (c) 2026, the kubeha.cluster authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: timing
type: aggregate
short_description: Write how long each play, role and task took to a JSON file
description:
  - Records the wall-clock time of every task (from its start until the next task starts, as
    C(ansible.posix.profile_tasks) measures it), sums it per role and per play, and writes the result
    as JSON when the playbook ends.
  - The benchmark command C(tools/benchmark) of this collection uses it for its timing report.
  - Prints nothing; it only writes the file. Without O(output_file) it does nothing.
version_added: 0.1.0
requirements:
  - enable in C(callbacks_enabled) or with E(ANSIBLE_CALLBACKS_ENABLED=kubeha.cluster.timing)
options:
  output_file:
    description: Path of the JSON report to write. The directory must exist.
    type: path
    env:
      - name: KUBEHA_TIMING_FILE
    ini:
      - section: callback_kubeha_timing
        key: output_file
"""

import json
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "kubeha.cluster.timing"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._started = time.monotonic()
        self._tasks = []
        self._current = None
        self._play = None

    def _close_current(self):
        if self._current is not None:
            self._current["seconds"] = round(time.monotonic() - self._current.pop("_start"), 3)
            self._tasks.append(self._current)
            self._current = None

    def v2_playbook_on_play_start(self, play):
        self._close_current()
        self._play = play.get_name().strip()

    def _start_task(self, task):
        self._close_current()
        role = task._role.get_name(include_role_fqcn=False) if task._role else ""
        self._current = {"play": self._play, "role": role, "task": task.get_name().strip(), "_start": time.monotonic()}

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._start_task(task)

    def v2_playbook_on_handler_task_start(self, task):
        self._start_task(task)

    def v2_playbook_on_stats(self, stats):
        self._close_current()
        path = self.get_option("output_file")
        if not path:
            return
        roles, plays = {}, {}
        for task in self._tasks:
            key = task["role"] or "(play tasks)"
            roles[key] = round(roles.get(key, 0.0) + task["seconds"], 3)
            plays[task["play"]] = round(plays.get(task["play"], 0.0) + task["seconds"], 3)
        report = {
            "total_seconds": round(time.monotonic() - self._started, 3),
            "roles": roles,
            "plays": plays,
            "slowest_tasks": sorted(self._tasks, key=lambda t: t["seconds"], reverse=True)[:25],
            "hosts": {host: stats.summarize(host) for host in sorted(stats.processed)},
        }
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(report, handle, indent=2, sort_keys=True)
            handle.write("\n")
