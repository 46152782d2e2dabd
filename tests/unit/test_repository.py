# -*- coding: utf-8 -*-
# Copyright (c) 2026, the kubeha.cluster authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The checkout as a user meets it: ansible.cfg is safe for real hosts, and a fresh clone runs site.yml as is.

These tests read the repository itself (ansible.cfg, tools/, the lab inventory); they skip inside a copy of the
collection without that development tooling (ansible-test, an installed tarball).
"""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not (REPO_ROOT / "tools").is_dir() or not (REPO_ROOT / ".git").exists(),
                                reason="needs the git checkout with its tools/ (not a copy of the collection)")


def ansible_cfg():
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(REPO_ROOT / "ansible.cfg")
    return parser


def test_ansible_cfg_checks_host_keys_and_names_no_inventory():
    cfg = ansible_cfg()
    assert not cfg.has_option("defaults", "inventory"), (
        "ansible.cfg sets a default inventory: a command without -i would run against it")
    assert cfg.getboolean("defaults", "host_key_checking", fallback=True), "ansible.cfg turns host key checking off"
    ssh_args = cfg.get("ssh_connection", "ssh_args", fallback="")
    for option in ("StrictHostKeyChecking", "UserKnownHostsFile"):
        assert option not in ssh_args, f"ansible.cfg ssh_args sets {option}: that belongs to the lab inventory"


def test_lab_inventory_carries_its_own_ssh_settings():
    lab_vars = yaml.safe_load((REPO_ROOT / "inventories/lab/group_vars/all/lab_only.yml").read_text())
    args = lab_vars.get("ansible_ssh_common_args", "")
    assert "StrictHostKeyChecking=no" in args and "UserKnownHostsFile=/dev/null" in args, (
        "inventories/lab/group_vars/all/lab_only.yml must set ansible_ssh_common_args for the lab's throw-away host keys")
    sample = (REPO_ROOT / "inventories/sample").rglob("*.yml")
    for path in sample:
        assert "StrictHostKeyChecking" not in path.read_text(), f"{path.relative_to(REPO_ROOT)} turns host key checking off"


# Commands that run Ansible against an inventory, in the tools and tests that drive the lab: an argv element in
# Python ("ansible-playbook", ...), a command at the start of a shell line (after env assignments, && or ;).
CALLERS = ["tools", "tests/e2e", "tests/integration", "molecule"]
PY_CALL = re.compile(r"""["'](ansible-playbook|ansible)["']\s*,(.*)$""")
SH_CALL = re.compile(r"""(?:^|&&|;|\|\||\()\s*(?:[A-Z_]+=\S+\s+)*(ansible-playbook|ansible)\s(.*)$""")


def invocations():
    for top in CALLERS:
        for path in sorted((REPO_ROOT / top).rglob("*")):
            if not path.is_file() or path.suffix not in ("", ".py", ".sh") or "image" in path.parts:
                continue
            try:
                lines = path.read_text().splitlines()
            except UnicodeDecodeError:
                continue
            pattern = PY_CALL if path.suffix == ".py" else SH_CALL
            for number, line in enumerate(lines, 1):
                match = pattern.search(line if path.suffix == ".py" else line.split("#")[0])
                if match:
                    yield f"{path.relative_to(REPO_ROOT)}:{number}", match.group(1), match.group(2)


def test_every_playbook_run_names_its_inventory():
    found = list(invocations())
    # The scan must see the known callers, or it proves nothing.
    seen = {where.split(":")[0] for where, _tool, _rest in found}
    assert {"tools/deploy-lab", "tests/e2e/lab.py", "tests/integration/preflight/test_bad_input.py"} <= seen, seen
    missing = [f"{where}: {tool}{rest}" for where, tool, rest in found
               if not re.search(r"""(^|[\s"',])(-i|--inventory)(["',\s=]|$)""", rest)]
    assert not missing, "these run Ansible without -i (ansible.cfg has no default inventory):\n" + "\n".join(missing)


def fresh_clone(tmp_path):
    """The files a clone of the working tree would have (tracked and new, not ignored), symlinks kept."""
    dest = tmp_path / "clone"
    dest.mkdir()
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO_ROOT,
                           capture_output=True, check=True).stdout.split(b"\0")
    for raw in filter(None, files):
        rel = raw.decode()
        src = REPO_ROOT / rel
        if not os.path.lexists(src):
            continue
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            os.symlink(os.readlink(src), dest / rel)
        else:
            shutil.copy2(src, dest / rel)
    return dest


@pytest.mark.parametrize("mode", ["--syntax-check", "--list-tasks"])
def test_fresh_clone_resolves_the_collection_without_set_up(mode, tmp_path):
    """README "Using it on your own hosts": no tools/, no .cache, no installed collection, an empty HOME."""
    clone = fresh_clone(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(HOME=str(tmp_path / "home"), ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"))
    playbook_cli = Path(sys.executable).with_name("ansible-playbook")
    proc = subprocess.run([str(playbook_cli), "-i", "inventories/sample/hosts.yml", "site.yml", mode], cwd=clone,
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, f"ansible-playbook {mode} failed in a fresh clone:\n{proc.stdout}\n{proc.stderr}"
    if mode == "--list-tasks":
        assert "kubeha.cluster.preflight : Check the inventory" in proc.stdout, proc.stdout
