# -*- coding: utf-8 -*-
# Copyright (c) 2026, the kubeha.cluster authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every role's meta/argument_specs.yml (entry point main) and defaults/main.yml describe the same variables.

- every variable in defaults/main.yml is an option of the main entry point, and every option is in defaults/main.yml
  unless the spec gives it no default (a required input, or an optional one whose absence means something, such as
  a per-host override);
- an option that is in defaults/main.yml states that default in the spec, equal to the value in defaults/main.yml
  (strings compared with runs of white space collapsed, as YAML folding may differ), and the value fits the spec's
  type and choices;
- internal variables (a leading underscore) are not inputs and are left out.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROLES = Path(__file__).resolve().parents[2] / "roles"
TYPES = {"str": str, "int": int, "bool": bool, "list": list, "dict": dict, "path": str, "float": (int, float)}


def roles():
    return sorted(p.name for p in ROLES.iterdir() if (p / "defaults" / "main.yml").is_file())


def load(path):
    return yaml.safe_load(path.read_text()) or {}


def normalized(value):
    if isinstance(value, str):
        return " ".join(value.split())
    if isinstance(value, list):
        return [normalized(v) for v in value]
    if isinstance(value, dict):
        return {k: normalized(v) for k, v in value.items()}
    return value


def test_every_role_is_checked():
    assert "container_runtime" in roles() and len(roles()) >= 8, roles()


@pytest.mark.parametrize("role", roles())
def test_argument_specs_match_defaults(role):
    spec_path = ROLES / role / "meta" / "argument_specs.yml"
    assert spec_path.is_file(), f"role {role}: no meta/argument_specs.yml (every role describes its variables)"
    # Every entry point's options (a role used only through tasks_from, like membership, has no main).
    options = {}
    for entry in load(spec_path)["argument_specs"].values():
        options.update(entry.get("options") or {})
    defaults = {k: v for k, v in load(ROLES / role / "defaults" / "main.yml").items() if not k.startswith("_")}
    problems = []
    for name in sorted(set(defaults) - set(options)):
        problems.append(f"{name}: in defaults/main.yml but not in meta/argument_specs.yml")
    for name, option in sorted(options.items()):
        if name.startswith("_"):
            continue
        if not option.get("description"):
            problems.append(f"{name}: no description")
        if name not in defaults:
            if "default" in option:
                problems.append(f"{name}: meta/argument_specs.yml states a default but defaults/main.yml has none")
            continue
        value = defaults[name]
        if "default" not in option:
            problems.append(f"{name}: defaults/main.yml has {value!r} but meta/argument_specs.yml states no default")
        elif normalized(option["default"]) != normalized(value):
            problems.append(f"{name}: argument_specs default {option['default']!r} != defaults/main.yml {value!r}")
        expected = TYPES.get(option.get("type", "str"))
        if expected and value is not None and not (isinstance(value, expected) and not
                                                   (isinstance(value, bool) and option.get("type") in ("int", "float"))):
            problems.append(f"{name}: defaults/main.yml value {value!r} is not of type {option.get('type', 'str')}")
        if "choices" in option and value not in option["choices"]:
            problems.append(f"{name}: defaults/main.yml value {value!r} is not among the choices {option['choices']}")
    assert not problems, f"role {role}:\n  " + "\n  ".join(problems)
