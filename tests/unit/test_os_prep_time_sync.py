# -*- coding: utf-8 -*-
# Copyright (c) 2026, the kubeha.cluster authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""os_prep_time_sync: which package os_prep installs and which service it enables, for the services a host has.

The role's own vars (roles/os_prep/vars/main.yml) are rendered with Ansible's templar on the facts service_facts
would report; tasks/time.yml installs _os_prep_time_package (when not empty) and enables and starts
_os_prep_time_service. The rule under test: auto never replaces a time daemon the host runs or has installed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

VARS = Path(__file__).resolve().parents[2] / "roles" / "os_prep" / "vars" / "main.yml"


def unit(state="stopped", status="disabled"):
    return {"state": state, "status": status, "source": "systemd"}


def plan(setting, services, os_family="Debian"):
    variables = dict(yaml.safe_load(VARS.read_text()))
    variables.update(os_prep_time_sync=setting,
                     ansible_facts={"os_family": os_family, "services": {n: dict(u, name=n) for n, u in services.items()}})
    templar = Templar(loader=DataLoader(), variables=variables)
    return templar.template("{{ _os_prep_time_package }}").strip(), templar.template("{{ _os_prep_time_service }}").strip()


# (id, os_prep_time_sync, OS family, services, expected (package to install, service to enable and start))
CASES = [
    ("auto-keeps-running-ntpsec", "auto", "Debian",
     {"ntpsec.service": unit("running", "enabled"), "ntp.service": unit("running", "alias"),
      "systemd-timesyncd.service": unit("stopped", "not-found"), "cron.service": unit("running", "enabled")},
     ("", "ntpsec")),
    ("auto-keeps-running-chrony-on-debian", "auto", "Debian",
     {"chrony.service": unit("running", "enabled"), "systemd-timesyncd.service": unit("stopped", "disabled")},
     ("", "chrony")),
    ("auto-keeps-running-ntp-over-installed-chrony", "auto", "Debian",
     {"chrony.service": unit("stopped", "disabled"), "ntp.service": unit("running", "enabled")},
     ("", "ntp")),
    ("auto-keeps-running-openntpd", "auto", "Debian", {"openntpd.service": unit("running", "enabled")},
     ("", "openntpd")),
    ("auto-keeps-running-timesyncd", "auto", "Debian", {"systemd-timesyncd.service": unit("running", "enabled")},
     ("", "systemd-timesyncd")),
    ("auto-keeps-running-chronyd-on-rhel", "auto", "RedHat", {"chronyd.service": unit("running", "enabled")},
     ("", "chronyd")),
    ("auto-starts-installed-ntpsec", "auto", "Debian", {"ntpsec.service": unit("stopped", "disabled")},
     ("", "ntpsec")),
    ("auto-ignores-not-found-and-masked-units", "auto", "Debian",
     {"ntp.service": unit("stopped", "not-found"), "openntpd.service": unit("stopped", "masked")},
     ("systemd-timesyncd", "systemd-timesyncd")),
    ("auto-installs-timesyncd-when-none", "auto", "Debian", {"cron.service": unit("running", "enabled")},
     ("systemd-timesyncd", "systemd-timesyncd")),
    ("auto-installs-chrony-on-rhel-when-none", "auto", "RedHat", {}, ("chrony", "chronyd")),
    ("explicit-chrony", "chrony", "Debian", {"ntpsec.service": unit("running", "enabled")}, ("chrony", "chrony")),
    ("explicit-timesyncd", "timesyncd", "RedHat", {}, ("systemd-timesyncd", "systemd-timesyncd")),
]


@pytest.mark.parametrize("setting,os_family,services,expected", [pytest.param(*c[1:], id=c[0]) for c in CASES])
def test_time_sync_plan(setting, os_family, services, expected):
    assert plan(setting, services, os_family) == expected
