# -*- coding: utf-8 -*-
# Copyright (c) 2026, the kubeha.cluster authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Running a module in-process: arguments in, exit_json/fail_json out, run_command faked at the process boundary."""

from __future__ import annotations

import contextlib
import json
import os
import stat

import pytest
from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes

from ansible_collections.kubeha.cluster.plugins.module_utils import _kubeadm
from kubeha_testlib import KUBEADM, KUBECTL, NOW


class AnsibleExitJson(Exception):
    pass


class AnsibleFailJson(Exception):
    pass


@contextlib.contextmanager
def set_module_args(args):
    args = dict(args)
    args.setdefault("_ansible_keep_remote_files", False)
    try:
        from ansible.module_utils.testing import patch_module_args  # ansible-core >= 2.19
    except ImportError:
        serialized = to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
        original = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = serialized
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = original
    else:
        with patch_module_args(args):
            yield


class Call:
    """One command the module ran, with the --config file as it was while the command ran."""

    def __init__(self, argv, data):
        self.argv = list(argv)
        self.data = data
        self.config = self.config_mode = None
        if "--config" in self.argv:
            path = self.argv[self.argv.index("--config") + 1]
            self.config_path = path
            with open(path) as handle:
                self.config = handle.read()
            self.config_mode = stat.S_IMODE(os.stat(path).st_mode)

    def config_documents(self):
        import yaml
        return [doc for doc in yaml.safe_load_all(self.config) if doc]


class FakeCommands:
    """run_command replacement: answers from a queue of (expected argv prefix, answer) pairs.

    An answer is (rc, stdout, stderr) or a function of the Call returning that tuple.
    """

    def __init__(self):
        self.expected = []
        self.calls = []

    def expect(self, argv_prefix, answer=(0, "", "")):
        self.expected.append((list(argv_prefix), answer))
        return self

    def __call__(self, module, args, check_rc=False, data=None, **kwargs):
        call = Call(args, data)
        self.calls.append(call)
        assert self.expected, "unexpected command: %r" % (call.argv,)
        prefix, answer = self.expected.pop(0)
        assert call.argv[:len(prefix)] == prefix, "expected %r, got %r" % (prefix, call.argv)
        result = answer(call) if callable(answer) else answer
        if check_rc and result[0] != 0:
            module.fail_json(msg="command failed", rc=result[0])
        return result

    def argvs(self):
        return [c.argv for c in self.calls]

    def done(self):
        assert not self.expected, "commands expected but not run: %r" % ([p for p, a in self.expected],)


@pytest.fixture
def commands(monkeypatch):
    fake = FakeCommands()

    def run_command(self, args, check_rc=False, data=None, **kwargs):
        return fake(self, args, check_rc=check_rc, data=data, **kwargs)

    monkeypatch.setattr(basic.AnsibleModule, "run_command", run_command)
    return fake


@pytest.fixture
def warnings():
    return []


@pytest.fixture
def run_module(monkeypatch, tmp_path, warnings):
    """run_module(module, args, check_mode=False, diff=False, now=NOW) -> the module's result (failed=True on failure)."""

    def exit_json(self, **kwargs):
        kwargs.setdefault("changed", False)
        raise AnsibleExitJson(kwargs)

    def fail_json(self, msg, **kwargs):
        kwargs.update(failed=True, msg=msg)
        raise AnsibleFailJson(kwargs)

    def get_bin_path(self, arg, required=False, opt_dirs=None):
        return {"kubeadm": KUBEADM, "kubectl": KUBECTL}.get(arg)

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", get_bin_path)
    monkeypatch.setattr(basic.AnsibleModule, "warn", lambda self, msg: warnings.append(msg))
    monkeypatch.setattr(_kubeadm, "utcnow", lambda: NOW)
    remote_tmp = tmp_path / "remote_tmp"
    remote_tmp.mkdir()

    def run(module, args, check_mode=False, diff=False, now=NOW):
        monkeypatch.setattr(_kubeadm, "utcnow", lambda: now)
        if hasattr(module, "utcnow"):
            monkeypatch.setattr(module, "utcnow", lambda: now)
        args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff, _ansible_remote_tmp=str(remote_tmp))
        with set_module_args(args):
            try:
                module.main()
            except AnsibleExitJson as exc:
                return exc.args[0]
            except AnsibleFailJson as exc:
                return exc.args[0]
        raise AssertionError("the module neither exited nor failed")

    return run
