# -*- coding: utf-8 -*-
# Copyright (c) 2026, the kubeha.cluster authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The modules against kubeadm 1.25's own output: the files under fixtures/ (fixtures/README.md says where they come
from and what a capture must contain). The other module tests build kubeadm's output themselves; these check the
parsing and the decisions against output the test code did not write."""

from __future__ import annotations

import base64
import datetime
import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ansible_collections.kubeha.cluster.plugins.module_utils import _kubeadm
from ansible_collections.kubeha.cluster.plugins.modules import kubeadm_certificate_key, kubeadm_token
from kubeha_testlib import KUBEADM, KUBECONFIG_TEXT, KUBECTL, NOW, rfc3339

FIXTURES = Path(__file__).resolve().parent / "fixtures"
JOIN_DESCRIPTION = "kubeha fixture join"
DEFAULT_GROUP = "system:bootstrappers:kubeadm:default-node-token"
# kubeadm-certs of a control plane with stacked etcd (kubeadm's certsToTransfer, "/" turned into "-").
STACKED_ETCD_ENTRIES = {"ca.crt", "ca.key", "front-proxy-ca.crt", "front-proxy-ca.key", "sa.key", "sa.pub",
                        "etcd-ca.crt", "etcd-ca.key"}


def fixture_text(name):
    """A fixture file's text; a missing file fails the test (the captures are part of the suite, not optional)."""
    path = FIXTURES / name
    assert path.is_file(), "fixture %s is missing: see %s" % (path, FIXTURES / "README.md")
    return path.read_text()


@pytest.fixture(scope="module")
def token_list():
    return fixture_text("kubeadm-token-list.json")


@pytest.fixture(scope="module")
def certs_secret():
    return json.loads(fixture_text("kubeadm-certs-secret.json"))


@pytest.fixture(scope="module")
def certs_key():
    return fixture_text("kubeadm-certs-secret.key").strip()


@pytest.fixture(scope="module")
def certs_files(certs_secret, certs_key):
    """The decrypted kubeadm-certs entries, as the control plane that uploaded them has them on disk."""
    return {name: _kubeadm.decrypt_kubeadm_data(base64.b64decode(blob), certs_key)
            for name, blob in certs_secret["data"].items()}


def the_token(tokens, description):
    found = [t for t in tokens if t.description == description]
    assert len(found) == 1, "expected one token described %r in the capture, found %d" % (description, len(found))
    return found[0]


# --- kubeadm token list -o json ---------------------------------------------------------------------------

def test_every_printed_token_is_parsed(token_list):
    tokens = _kubeadm.parse_token_list(token_list)
    assert tokens and len(tokens) == token_list.count('"kind": "BootstrapToken"')
    for token in tokens:
        assert token.token_id == token.token[:6] and token.token in token_list
        assert token.expires is not None and token.expires.tzinfo is not None
        assert set(token.usages) <= {"authentication", "signing"}


def test_the_captured_join_and_proxy_tokens_read_as_kubeadm_made_them(token_list, certs_secret):
    tokens = _kubeadm.parse_token_list(token_list)
    join = the_token(tokens, JOIN_DESCRIPTION)
    assert (join.usages, join.groups) == (["authentication", "signing"], [DEFAULT_GROUP])
    proxy = the_token(tokens, _kubeadm.PROXY_TOKEN_DESCRIPTION)
    assert (proxy.usages, proxy.groups) == ([], [])
    # The proxy token of upload-certs lives as long as the kubeadm-certs secret it owns: two hours (kubeadm 1.25;
    # the generated fixture had assumed one, the real capture says two).
    created = _kubeadm.parse_rfc3339(certs_secret["metadata"]["creationTimestamp"])
    assert abs((proxy.expires - created).total_seconds() - 7200) < 120, (proxy.expires, created)


def token_host(tmp_path, certs_files):
    kubeconfig = tmp_path / "admin.conf"
    kubeconfig.write_text(KUBECONFIG_TEXT)
    ca = tmp_path / "ca.crt"
    ca.write_bytes(certs_files["ca.crt"])
    return dict(kubeconfig=str(kubeconfig), ca_cert_path=str(ca), description=JOIN_DESCRIPTION,
                cri_socket="unix:///var/run/cri-dockerd.sock")


def list_argv(host):
    return [KUBEADM, "token", "list", "-o", "json", "--kubeconfig", host["kubeconfig"]]


def test_module_reuses_the_captured_join_token_while_enough_life_is_left(
        run_module, commands, tmp_path, token_list, certs_files):
    host = token_host(tmp_path, certs_files)
    join = the_token(_kubeadm.parse_token_list(token_list), JOIN_DESCRIPTION)
    commands.expect(list_argv(host), (0, token_list, ""))
    result = run_module(kubeadm_token, host, now=join.expires - datetime.timedelta(minutes=45))
    commands.done()
    assert (result["changed"], result["action"]) == (False, "reused")
    assert (result["token"], result["token_id"], result["expires_in"]) == (join.token, join.token_id, 45 * 60)
    assert result["ca_cert_hashes"] == _kubeadm.ca_cert_hashes(certs_files["ca.crt"])


def test_module_replaces_the_captured_join_token_with_less_than_min_ttl_left(
        run_module, commands, tmp_path, token_list, certs_files):
    host = token_host(tmp_path, certs_files)
    join = the_token(_kubeadm.parse_token_list(token_list), JOIN_DESCRIPTION)
    commands.expect(list_argv(host), (0, token_list, ""))
    result = run_module(kubeadm_token, host, check_mode=True, diff=True,
                        now=join.expires - datetime.timedelta(minutes=29))
    commands.done()
    assert (result["changed"], result["action"]) == (True, "created")
    assert [t["token_id"] for t in result["diff"]["before"]["tokens"]] == [join.token_id]
    assert join.token.split(".")[1] not in repr(result)


def test_module_deletes_only_the_captured_tokens_with_its_description(run_module, commands, tmp_path, token_list,
                                                                      certs_files):
    host = dict(token_host(tmp_path, certs_files), state="absent")
    join = the_token(_kubeadm.parse_token_list(token_list), JOIN_DESCRIPTION)
    commands.expect(list_argv(host), (0, token_list, ""))
    commands.expect([KUBEADM, "token", "delete", join.token_id, "--kubeconfig", host["kubeconfig"]],
                    (0, 'bootstrap token "%s" deleted\n' % join.token_id, ""))
    result = run_module(kubeadm_token, host, now=join.expires - datetime.timedelta(hours=1))
    commands.done()
    assert (result["changed"], result["deleted"]) == (True, [join.token_id])


# --- the kubeadm-certs secret -----------------------------------------------------------------------------

def test_every_entry_decrypts_with_the_key_and_holds_what_kubeadm_uploads(certs_secret, certs_files):
    assert set(certs_secret["data"]) == STACKED_ETCD_ENTRIES
    assert set(certs_secret["data"]) == set(_kubeadm.kubeadm_certs_files("/etc/kubernetes/pki"))
    for ca in ("ca", "front-proxy-ca", "etcd-ca"):
        cert = x509.load_pem_x509_certificate(certs_files[ca + ".crt"])
        assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca, ca
        key = serialization.load_pem_private_key(certs_files[ca + ".key"], password=None)
        assert public_der(key.public_key()) == public_der(cert.public_key()), "%s.key does not match %s.crt" % (ca, ca)
    sa_key = serialization.load_pem_private_key(certs_files["sa.key"], password=None)
    assert public_der(sa_key.public_key()) == public_der(serialization.load_pem_public_key(certs_files["sa.pub"]))


def public_der(public_key):
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def test_another_key_does_not_decrypt_the_capture(certs_secret, certs_key):
    other = ("0" if certs_key[0] != "0" else "1") + certs_key[1:]
    with pytest.raises(_kubeadm.WrongKeyError):
        _kubeadm.decrypt_kubeadm_data(base64.b64decode(certs_secret["data"]["ca.key"]), other)


def test_the_secret_is_owned_by_the_captured_proxy_token(certs_secret, token_list):
    proxy = the_token(_kubeadm.parse_token_list(token_list), _kubeadm.PROXY_TOKEN_DESCRIPTION)
    assert _kubeadm.owner_token_id(certs_secret) == proxy.token_id


def certs_host(tmp_path, certs_files):
    """A control plane whose /etc/kubernetes/pki holds what the captured secret carries."""
    kubeconfig = tmp_path / "admin.conf"
    kubeconfig.write_text(KUBECONFIG_TEXT)
    pki = tmp_path / "pki"
    for name, path in _kubeadm.kubeadm_certs_files(str(pki)).items():
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_bytes(certs_files[name])
    return dict(kubeconfig=str(kubeconfig), pki_dir=str(pki), cri_socket="unix:///var/run/cri-dockerd.sock")


def get_argv(host, name):
    return [KUBECTL, "--kubeconfig", host["kubeconfig"], "--request-timeout", "30s", "-n", "kube-system",
            "get", "secret", name, "-o", "json"]


def owner_secret(token_id, expires_in):
    """The proxy token's secret as kubectl prints it (the module reads its expiration)."""
    data = {"token-id": token_id, "expiration": rfc3339(expires_in),
            "description": _kubeadm.PROXY_TOKEN_DESCRIPTION}
    return json.dumps({"apiVersion": "v1", "kind": "Secret", "type": "bootstrap.kubernetes.io/token",
                       "metadata": {"name": "bootstrap-token-" + token_id, "namespace": "kube-system"},
                       "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}})


@pytest.mark.parametrize("changed_file, expected_changed", [(None, False), ("sa.key", True)])
def test_module_keeps_the_captured_secret_only_while_it_matches_the_local_pki(
        run_module, commands, tmp_path, certs_secret, certs_key, certs_files, changed_file, expected_changed):
    host = certs_host(tmp_path, certs_files)
    if changed_file:
        Path(_kubeadm.kubeadm_certs_files(host["pki_dir"])[changed_file]).write_bytes(b"a rotated key\n")
    owner = _kubeadm.owner_token_id(certs_secret)
    commands.expect(get_argv(host, "kubeadm-certs"), (0, json.dumps(certs_secret), ""))
    commands.expect(get_argv(host, "bootstrap-token-" + owner), (0, owner_secret(owner, 3600), ""))
    result = run_module(kubeadm_certificate_key, dict(host, certificate_key=certs_key), check_mode=True, now=NOW)
    commands.done()
    assert result["changed"] is expected_changed
    if expected_changed:
        assert changed_file in result["reason"]
    else:
        assert (result["action"], result["proxy_token_id"], result["expires_in"]) == ("kept", owner, 3600)
