# -*- coding: utf-8 -*-
# Copyright (c) 2026, the kubeha.cluster authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Make the checkout importable as ansible_collections.kubeha.cluster when pytest runs without ansible-test."""

from __future__ import annotations

import os
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _collections_root():
    # Inside ansible-test (or any installed copy) the checkout already sits at .../ansible_collections/kubeha/cluster.
    parts = REPO_ROOT.split(os.sep)
    if parts[-3:-2] == ["ansible_collections"]:
        return os.sep.join(parts[:-3])
    # Otherwise use the committed link collections/ansible_collections/kubeha/cluster -> the checkout.
    return os.path.join(REPO_ROOT, "collections")


if _collections_root() not in sys.path:
    sys.path.insert(0, _collections_root())


import pytest  # noqa: E402  (after the sys.path set-up above)
from cryptography.hazmat.primitives.asymmetric import ec, rsa  # noqa: E402

from kubeha_testlib import make_ca, pem  # noqa: E402


@pytest.fixture(scope="session")
def rsa_ca():
    """A self-signed RSA-2048 CA certificate (PEM), like kubeadm's default CA."""
    return pem(make_ca(rsa.generate_private_key(public_exponent=65537, key_size=2048)))


@pytest.fixture(scope="session")
def ecdsa_ca():
    """A self-signed ECDSA P-256 CA certificate (PEM), like kubeadm's encryptionAlgorithm ECDSA-P256."""
    return pem(make_ca(ec.generate_private_key(ec.SECP256R1()), name="kubernetes-ecdsa"))
