# -*- coding: utf-8 -*-
# Copyright (c) 2026, the kubeha.cluster authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Check an offline bundle's files against its manifest.json (run on the controller by the preflight role).

Usage: python bundle_checksums.py BUNDLE_DIR
Prints a JSON list of the components whose file is missing or whose sha256 differs from the manifest's, each as
{"path": ..., "problem": ...}; exits 0 whenever it could read the manifest (the role turns the list into a message).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os
import sys


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def main():
    bundle = sys.argv[1]
    with open(os.path.join(bundle, "manifest.json")) as stream:
        manifest = json.load(stream)
    problems = []
    for component in manifest.get("components", []):
        path = component.get("path", "")
        full = os.path.join(bundle, path)
        want = str(component.get("sha256", "")).lower().replace("sha256:", "")
        if not os.path.isfile(full):
            problems.append({"path": path, "problem": "missing"})
        elif not want:
            problems.append({"path": path, "problem": "no sha256 in the manifest"})
        elif sha256_of(full) != want:
            problems.append({"path": path, "problem": "sha256 differs from the manifest"})
    print(json.dumps(problems))


if __name__ == "__main__":
    main()
