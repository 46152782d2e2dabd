# -*- coding: utf-8 -*-
# Copyright (c) 2026, the kubeha.cluster authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""os_prep_time_sync: which package os_prep installs and which service it enables, for the services a host has.

The role's own vars (roles/os_prep/vars/main.yml) are rendered with Ansible's templar on the output that
tasks/time.yml's `systemctl show --property=Id,LoadState,SubState -- <known units>` gives (one block per unit asked,
in order; a unit the host lacks is LoadState=not-found, a masked one LoadState=masked, an alias shows its real unit's
Id); tasks/time.yml installs _os_prep_time_package (when not empty) and enables and starts _os_prep_time_service. The
rule under test: auto never replaces a time daemon the host runs or has installed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

VARS = Path(__file__).resolve().parents[2] / "roles" / "os_prep" / "vars" / "main.yml"


def unit(state="dead", load="loaded", alias_of=None):
    return {"SubState": state, "LoadState": load, "Id": alias_of}


def systemctl_show(known, services):
    """What systemctl show prints for the known units on a host with `services` (others are not-found)."""
    blocks = []
    for name in known:
        u = services.get(name, unit("dead", "not-found"))
        blocks.append(f"Id={u['Id'] or name}\nLoadState={u['LoadState']}\nSubState={u['SubState']}\n")
    return "\n".join(blocks)


def plan(setting, services, os_family="Debian"):
    variables = dict(yaml.safe_load(VARS.read_text()))
    variables.update(os_prep_time_sync=setting, ansible_facts={"os_family": os_family},
                     _os_prep_time_show={"stdout": systemctl_show(variables["_os_prep_time_known_units"], services)})
    templar = Templar(loader=DataLoader(), variables=variables)
    return templar.template("{{ _os_prep_time_package }}").strip(), templar.template("{{ _os_prep_time_service }}").strip()


# (id, os_prep_time_sync, OS family, services, expected (package to install, service to enable and start))
CASES = [
    ("auto-keeps-running-ntpsec", "auto", "Debian",
     {"ntpsec.service": unit("running"), "ntp.service": unit("running", alias_of="ntpsec.service"),
      "systemd-timesyncd.service": unit("dead", "not-found")},
     ("", "ntpsec")),
    ("auto-keeps-running-chrony-on-debian", "auto", "Debian",
     {"chrony.service": unit("running"), "chronyd.service": unit("running", alias_of="chrony.service"),
      "systemd-timesyncd.service": unit("dead")},
     ("", "chrony")),
    ("auto-keeps-running-ntp-over-installed-chrony", "auto", "Debian",
     {"chrony.service": unit("dead"), "ntp.service": unit("running")},
     ("", "ntp")),
    ("auto-keeps-running-openntpd", "auto", "Debian", {"openntpd.service": unit("running")},
     ("", "openntpd")),
    ("auto-keeps-running-timesyncd", "auto", "Debian", {"systemd-timesyncd.service": unit("running")},
     ("", "systemd-timesyncd")),
    ("auto-keeps-running-chronyd-on-rhel", "auto", "RedHat", {"chronyd.service": unit("running")},
     ("", "chronyd")),
    ("auto-starts-installed-ntpsec", "auto", "Debian", {"ntpsec.service": unit("dead")},
     ("", "ntpsec")),
    # The lab's containers: timesyncd installed, not running (ConditionVirtualization): kept.
    ("auto-keeps-installed-timesyncd-in-a-container", "auto", "Debian", {"systemd-timesyncd.service": unit("dead")},
     ("", "systemd-timesyncd")),
    ("auto-ignores-not-found-and-masked-units", "auto", "Debian",
     {"ntp.service": unit("dead", "not-found"), "openntpd.service": unit("dead", "masked")},
     ("systemd-timesyncd", "systemd-timesyncd")),
    ("auto-installs-timesyncd-when-none", "auto", "Debian", {}, ("systemd-timesyncd", "systemd-timesyncd")),
    ("auto-installs-chrony-on-rhel-when-none", "auto", "RedHat", {}, ("chrony", "chronyd")),
    ("explicit-chrony", "chrony", "Debian", {"ntpsec.service": unit("running")}, ("chrony", "chrony")),
    ("explicit-timesyncd", "timesyncd", "RedHat", {}, ("systemd-timesyncd", "systemd-timesyncd")),
]


@pytest.mark.parametrize("setting,os_family,services,expected", [pytest.param(*c[1:], id=c[0]) for c in CASES])
def test_time_sync_plan(setting, os_family, services, expected):
    assert plan(setting, services, os_family) == expected
