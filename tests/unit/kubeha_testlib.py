# -*- coding: utf-8 -*-
# Copyright (c) 2026, the kubeha.cluster authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test data shared by the unit tests: kubeadm's token list output, certificates, the openssl cross-check."""

from __future__ import annotations


import datetime
import json
import shutil
import subprocess
from pathlib import Path

import yaml

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

KUBEADM = "/usr/bin/kubeadm"
KUBECTL = "/usr/bin/kubectl"
NOW = datetime.datetime(2026, 11, 26, 12, 0, 0, tzinfo=datetime.timezone.utc)
# An admin kubeconfig as kubeadm writes it (the credentials left out): the modules read its server.
KUBECONFIG_TEXT = """apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: AAAA
    server: https://192.0.2.10:8443
  name: kubernetes
contexts:
- context:
    cluster: kubernetes
    user: kubernetes-admin
  name: kubernetes-admin@kubernetes
current-context: kubernetes-admin@kubernetes
users:
- name: kubernetes-admin
  user: {}
"""


def rfc3339(delta_seconds, now=NOW):
    return (now + datetime.timedelta(seconds=delta_seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def token_object(token, description=None, expires_in=3600, usages=("authentication", "signing"),
                 groups=("system:bootstrappers:kubeadm:default-node-token",), api="v1alpha2"):
    """One object as kubeadm token list -o json prints it (omitempty fields left out)."""
    obj = {"kind": "BootstrapToken", "apiVersion": "output.kubeadm.k8s.io/%s" % api, "token": token}
    if description:
        obj["description"] = description
    if expires_in is not None:
        obj["expires"] = rfc3339(expires_in)
    if usages:
        obj["usages"] = sorted(usages)
    if groups:
        obj["groups"] = list(groups)
    return obj


def token_stream(*objects):
    """kubeadm's JSON printer: one 4-space indented object per token, each followed by a newline."""
    return "".join(json.dumps(obj, indent=4) + "\n" for obj in objects)


def make_ca(key, name="kubernetes"):
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    return (x509.CertificateBuilder()
            .subject_name(subject).issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOW - datetime.timedelta(days=1))
            .not_valid_after(NOW + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def openssl_pin(pem_bytes, tmp_path):
    """What the kubeadm docs' (algorithm-agnostic) openssl pipeline prints for one certificate."""
    openssl = shutil.which("openssl")
    assert openssl, "the openssl command is needed to cross-check the CA hashes (apt-get install openssl)"
    path = tmp_path / "one.crt"
    path.write_bytes(pem_bytes)
    pub = subprocess.run([openssl, "x509", "-in", str(path), "-noout", "-pubkey"], check=True, capture_output=True).stdout
    der = subprocess.run([openssl, "pkey", "-pubin", "-outform", "der"], input=pub, check=True, capture_output=True).stdout
    out = subprocess.run([openssl, "dgst", "-sha256", "-hex"], input=der, check=True, capture_output=True).stdout
    return "sha256:" + out.decode().strip().split()[-1]


# The collection's roles, and one of a role's YAML files (defaults/main.yml, vars/main.yml) as a dict: the unit tests
# that render role variables with Ansible's templar start from these.
ROLES = Path(__file__).resolve().parents[2] / "roles"


def load_role_file(role, kind="defaults"):
    return yaml.safe_load((ROLES / role / kind / "main.yml").read_text())
