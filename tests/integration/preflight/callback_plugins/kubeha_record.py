# -*- coding: utf-8 -*-
# Copyright (c) 2026, the kubeha.cluster authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test-only callback: write every task start and host result of a playbook run to $KUBEHA_RECORD as JSON."""

from __future__ import annotations

import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: kubeha_record
type: aggregate
short_description: record task starts and results as JSON (tests only)
description: Writes plays, task starts, per-host results and the final stats to the file named by KUBEHA_RECORD.
requirements: [enable in ansible.cfg or with ANSIBLE_CALLBACKS_ENABLED]
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "kubeha_record"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.record = {"plays": [], "started": [], "results": [], "stats": {}}
        self.play = ""

    def v2_playbook_on_play_start(self, play):
        self.play = play.get_name()
        self.record["plays"].append(self.play)

    def v2_playbook_on_task_start(self, task, is_conditional):
        self.record["started"].append({"play": self.play, "task": task.get_name(), "action": task.action})

    def _result(self, result, status):
        self.record["results"].append({
            "play": self.play, "task": result._task.get_name(), "action": result._task.action,
            "host": result._host.get_name(), "status": status, "result": json.loads(json.dumps(result._result, default=str)),
        })

    def v2_runner_on_ok(self, result):
        self._result(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._result(result, "failed")

    def v2_runner_on_unreachable(self, result):
        self._result(result, "unreachable")

    def v2_runner_on_skipped(self, result):
        self._result(result, "skipped")

    def v2_playbook_on_stats(self, stats):
        for host in sorted(stats.processed):
            self.record["stats"][host] = stats.summarize(host)
        with open(os.environ["KUBEHA_RECORD"], "w", encoding="utf-8") as stream:
            json.dump(self.record, stream)
