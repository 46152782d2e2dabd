# -*- coding: utf-8 -*-
# Copyright (c) 2026, the kubeha.cluster authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Shared code of the filters missing_packages and package_query_argv: which of the wanted packages a host lacks,
from a read-only query of its package database (dpkg-query on the Debian family, rpm on the RHEL family)."""

from __future__ import annotations

import fnmatch

from ansible.errors import AnsibleFilterError


def _split_debian(spec):
    """'name[:arch][=version-glob]' -> (name, version glob or None)."""
    name, sep, version = spec.partition("=")
    name = name.split(":", 1)[0]
    return name, (version if sep else None)


def missing_packages(probe, wanted, family="Debian"):
    """Return the entries of ``wanted`` that the host does not have, in their order.

    ``probe`` is the stdout (or its lines) of
    ``dpkg-query -W -f '${Package} ${Version} ${db:Status-Status}\\n' NAME...`` (family Debian: an entry is
    ``name``, ``name:arch`` or ``name=version`` where version may hold ``*`` globs, as the apt module accepts) or
    ``rpm -q SPEC...`` (family RedHat: an entry is whatever rpm -q accepts; rpm prints
    ``package SPEC is not installed`` for each missing one).
    """
    if isinstance(probe, str):
        lines = probe.splitlines()
    elif isinstance(probe, (list, tuple)):
        lines = [str(line) for line in probe]
    else:
        raise AnsibleFilterError("missing_packages: the probe must be a string or a list of lines, not %s" % type(probe).__name__)
    if not isinstance(wanted, (list, tuple)):
        raise AnsibleFilterError("missing_packages: the wanted packages must be a list, not %s" % type(wanted).__name__)
    wanted = [str(w) for w in wanted]

    if family == "RedHat":
        absent = set()
        for line in lines:
            words = line.split()
            if len(words) >= 5 and words[0] == "package" and words[-3:] == ["is", "not", "installed"]:
                absent.add(" ".join(words[1:-3]))
        return [w for w in wanted if w in absent]

    if family != "Debian":
        raise AnsibleFilterError("missing_packages: family must be Debian or RedHat, not %s" % family)
    installed = {}
    for line in lines:
        words = line.split()
        # "<package> <version> installed"; other states (config-files, half-installed, not-installed) are missing.
        if len(words) == 3 and words[2] == "installed":
            installed.setdefault(words[0], []).append(words[1])
    missing = []
    for w in wanted:
        name, version = _split_debian(w)
        versions = installed.get(name, [])
        if not versions or (version is not None and not any(fnmatch.fnmatchcase(v, version) for v in versions)):
            missing.append(w)
    return missing


def package_query_argv(wanted, family="Debian"):
    """The read-only command (argv) whose output missing_packages reads, for the wanted packages."""
    if not isinstance(wanted, (list, tuple)):
        raise AnsibleFilterError("package_query_argv: the wanted packages must be a list, not %s" % type(wanted).__name__)
    if family == "Debian":
        # dpkg-query takes names only: drop version pins and architecture qualifiers (missing_packages uses them).
        names = []
        for w in wanted:
            name = _split_debian(str(w))[0]
            if name not in names:
                names.append(name)
        return ["dpkg-query", "-W", "-f", "${Package} ${Version} ${db:Status-Status}\n"] + names
    if family == "RedHat":
        return ["rpm", "-q"] + [str(w) for w in wanted]
    raise AnsibleFilterError("package_query_argv: family must be Debian or RedHat, not %s" % family)
