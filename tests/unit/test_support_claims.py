# -*- coding: utf-8 -*-
# Copyright (c) 2026, the kubeha.cluster authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the collection claims to support agrees everywhere it is said: the ansible-core releases (meta/runtime.yml,
the pin tools/test runs on, the roles' min_ansible_version, README) and the host platforms (preflight's check, every
role's meta/main.yml, README)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from packaging.specifiers import SpecifierSet
from packaging.version import Version

REPO_ROOT = Path(__file__).resolve().parents[2]
ROLES = sorted(p.parent.parent for p in (REPO_ROOT / "roles").glob("*/meta/main.yml"))
# Galaxy's platform names and versions for what preflight checks (ansible_facts.distribution, major version).
GALAXY_PLATFORM = {
    "Debian": ("Debian", {"11": "bullseye", "12": "bookworm", "13": "trixie"}),
    "Ubuntu": ("Ubuntu", {"20": "focal", "22": "jammy", "24": "noble"}),
    "RedHat": ("EL", None), "Rocky": ("EL", None), "AlmaLinux": ("EL", None), "CentOS": ("EL", None),
}
README_NAMES = {"Debian": "Debian", "Ubuntu": "Ubuntu", "RedHat": "RHEL", "Rocky": "Rocky", "AlmaLinux": "AlmaLinux",
                "CentOS": "CentOS"}


def load(path):
    return yaml.safe_load((REPO_ROOT / path).read_text())


def requires_ansible():
    return load("meta/runtime.yml")["requires_ansible"]


def pinned_core():
    match = re.search(r"^ansible-core==(\S+)$", (REPO_ROOT / "requirements.txt").read_text(), re.M)
    assert match, "requirements.txt pins no ansible-core"
    return Version(match.group(1))


def test_requires_ansible_is_exactly_the_tested_release_series():
    spec = SpecifierSet(requires_ansible())
    pinned = pinned_core()
    assert pinned in spec, "requirements.txt's ansible-core %s is outside requires_ansible %s" % (pinned, spec)
    # Every minor release the claim admits is one tools/test runs on: the pinned one.
    admitted = {(2, minor) for minor in range(10, 30) if Version("2.%d.0" % minor) in spec}
    assert admitted == {(pinned.major, pinned.minor)}, "requires_ansible %s admits untested releases" % spec
    assert Version("%d.%d.999" % (pinned.major, pinned.minor)) in spec


def test_readme_states_the_claim():
    assert 'requires_ansible: "%s"' % requires_ansible() in (REPO_ROOT / "README.md").read_text()


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_role_platforms_are_what_preflight_accepts(role):
    expected = {}
    for distribution, majors in load("roles/preflight/defaults/main.yml")["preflight_supported_os"].items():
        name, codenames = GALAXY_PLATFORM[distribution]
        expected.setdefault(name, set()).update(codenames[m] if codenames else m for m in majors)
    info = load(role / "meta" / "main.yml")["galaxy_info"]
    claimed = {p["name"]: set(str(v) for v in p["versions"]) for p in info["platforms"]}
    assert claimed == expected, "%s/meta/main.yml platforms differ from preflight_supported_os" % role.name
    pinned = pinned_core()
    assert str(info["min_ansible_version"]) == "%d.%d" % (pinned.major, pinned.minor)


def test_readme_lists_every_platform_preflight_accepts_and_says_which_is_tested():
    readme = (REPO_ROOT / "README.md").read_text()
    section = readme.split("### Platforms and Ansible versions", 1)[1].split("\n\n", 2)[1]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "---" not in line][1:]
    for distribution, majors in load("roles/preflight/defaults/main.yml")["preflight_supported_os"].items():
        assert any(README_NAMES[distribution] in row for row in rows), "README's table lacks %s" % distribution
    tested = [row for row in rows if row.rstrip(" |").endswith("the lab's hosts")]
    assert [row.split("|")[1].strip() for row in tested] == ["Debian 12 (bookworm)"]
    # "never run here": code written and tested without running it (CRI-O), a stronger "not tested here".
    untested = [row for row in rows if row.rstrip(" |").endswith(("not tested here", "never run here"))]
    assert len(untested) == len(rows) - 2  # all but ansible-core's row and the lab's platform
