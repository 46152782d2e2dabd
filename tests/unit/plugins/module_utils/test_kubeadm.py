# -*- coding: utf-8 -*-
# Copyright (c) 2026, the kubeha.cluster authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import re

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ansible_collections.kubeha.cluster.plugins.module_utils import _kubeadm as k
from kubeha_testlib import NOW, openssl_pin, token_object, token_stream

KEY = "00112233445566778899aabbccddeeff" * 2
UTC = datetime.timezone.utc


# --- durations and timestamps ----------------------------------------------------------------------------

@pytest.mark.parametrize("text, seconds", [
    ("1h", 3600), ("30m", 1800), ("1h30m", 5400), ("90s", 90), ("2h0m0s", 7200), ("1.5h", 5400),
    ("3600", 3600), (3600, 3600), ("0", 0), ("0s", 0), (" 45m ", 2700),
])
def test_parse_duration(text, seconds):
    assert k.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "h", "1d", "-1h", "1h-5m", "ten", "1 h", "1hh"])
def test_parse_duration_rejects(text):
    with pytest.raises(ValueError, match="ttl .* is not a duration"):
        k.parse_duration(text, "ttl")


@pytest.mark.parametrize("seconds, text", [(0, "0s"), (59, "59s"), (60, "1m0s"), (3600, "1h0m0s"), (5430, "1h30m30s")])
def test_format_duration(seconds, text):
    assert k.format_duration(seconds) == text


@pytest.mark.parametrize("text, expected", [
    ("2026-11-26T12:00:00Z", datetime.datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)),
    ("2026-11-26T20:00:00+08:00", datetime.datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)),
    ("2026-11-26T07:30:00-04:30", datetime.datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)),
    ("2026-11-26T12:00:00.123456789Z", datetime.datetime(2026, 11, 26, 12, 0, 0, 123456, tzinfo=UTC)),
])
def test_parse_rfc3339_any_offset(text, expected):
    assert k.parse_rfc3339(text) == expected


def test_parse_rfc3339_rejects_garbage():
    with pytest.raises(ValueError):
        k.parse_rfc3339("tomorrow")


# --- token list stream ------------------------------------------------------------------------------------

@pytest.mark.parametrize("output", ["", "\n", "   \n\n"])
def test_stream_with_no_tokens(output):
    assert k.parse_token_list(output) == []


def test_stream_with_one_token():
    [token] = k.parse_token_list(token_stream(token_object("abcdef.0123456789abcdef", "join", 600)))
    assert (token.token, token.token_id, token.description) == ("abcdef.0123456789abcdef", "abcdef", "join")
    assert token.expires == NOW + datetime.timedelta(seconds=600)
    assert token.usages == ["authentication", "signing"]
    assert token.groups == ["system:bootstrappers:kubeadm:default-node-token"]


def test_stream_with_many_tokens_both_output_apis():
    objects = [token_object("aaaaaa.0123456789abcdef", "one", 100, api="v1alpha2"),
               token_object("bbbbbb.0123456789abcdef", "two", 200, api="v1alpha3"),
               token_object("cccccc.0123456789abcdef", k.PROXY_TOKEN_DESCRIPTION, 7200, usages=(), groups=())]
    output = token_stream(*objects)
    assert output.count("\n}\n{") == 2, "kubeadm's format: objects back to back, not an array"
    tokens = k.parse_token_list(output)
    assert [t.token_id for t in tokens] == ["aaaaaa", "bbbbbb", "cccccc"]
    assert tokens[2].usages == [] and tokens[2].groups == []


def test_stream_with_expired_and_non_expiring_tokens():
    expired, forever = k.parse_token_list(token_stream(
        token_object("aaaaaa.0123456789abcdef", "old", -3600), token_object("bbbbbb.0123456789abcdef", "x", None)))
    assert expired.seconds_left(NOW) == -3600
    assert forever.expires is None and forever.seconds_left(NOW) is None
    assert forever.public(NOW) == {"token_id": "bbbbbb", "description": "x", "expires": None, "expires_in": None,
                                   "usages": ["authentication", "signing"],
                                   "groups": ["system:bootstrappers:kubeadm:default-node-token"]}


def test_expiry_arithmetic_at_the_boundary():
    [token] = k.parse_token_list(token_stream(token_object("abcdef.0123456789abcdef", "x", 1800)))
    assert token.seconds_left(NOW) == 1800
    assert token.seconds_left(NOW + datetime.timedelta(seconds=1)) == 1799
    assert token.seconds_left(NOW + datetime.timedelta(seconds=1800)) == 0


def test_usages_are_sorted_whatever_the_order():
    [token] = k.parse_token_list(json.dumps({"token": "abcdef.0123456789abcdef", "usages": ["signing", "authentication"]}))
    assert token.usages == ["authentication", "signing"]


def test_array_and_list_forms_are_accepted():
    one = token_object("abcdef.0123456789abcdef", "x")
    assert len(k.parse_token_list(json.dumps([one, one]))) == 2
    assert len(k.parse_token_list(json.dumps({"kind": "List", "items": [one]}))) == 1


def test_malformed_stream_fails_without_echoing_secrets():
    with pytest.raises(ValueError) as exc:
        k.parse_token_list(token_stream(token_object("abcdef.0123456789abcdef", "x")) + '{"token": "zzzzzz.01234567')
    assert "malformed JSON" in str(exc.value) and "01234567" not in str(exc.value)


@pytest.mark.parametrize("obj, message", [
    ({"kind": "Images", "images": []}, "kind 'Images'"),
    ({"token": "ABCDEF.0123456789abcdef"}, "not of the form"),
    ({"token": "abcdef"}, "not of the form"),
    ("just a string", "expected a JSON object"),
])
def test_unexpected_objects_are_rejected(obj, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        k.parse_token_list(json.dumps(obj))


def test_generated_tokens_and_keys_have_kubeadm_formats_and_differ():
    tokens = set(k.generate_token() for dummy in range(50))
    assert len(tokens) == 50 and all(k.TOKEN_RE.match(t) for t in tokens)
    keys = set(k.generate_certificate_key() for dummy in range(50))
    assert len(keys) == 50 and all(re.match(r"\A[0-9a-f]{64}\Z", key) for key in keys)


@pytest.mark.parametrize("groups, usages, problems", [
    (["system:bootstrappers:kubeadm:default-node-token"], ["authentication"], 0),
    (["system:bootstrappers:a-b:c1"], ["authentication", "signing"], 0),
    (["system:bootstrappers:"], ["authentication"], 1),
    (["system:masters"], ["authentication"], 1),
    (["system:bootstrappers:x"], ["signing"], 1),
    ([], ["signing"], 0),
])
def test_validate_groups(groups, usages, problems):
    assert len(k.validate_groups(groups, usages)) == problems


# --- CA certificate hashes --------------------------------------------------------------------------------

def python_pin(pem):
    cert = x509.load_pem_x509_certificate(pem)
    spki = cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return "sha256:" + hashlib.sha256(spki).hexdigest()


def test_ca_hash_rsa_matches_openssl(rsa_ca, tmp_path):
    assert k.ca_cert_hashes(rsa_ca) == [openssl_pin(rsa_ca, tmp_path)] == [python_pin(rsa_ca)]


def test_ca_hash_ecdsa_matches_openssl(ecdsa_ca, tmp_path):
    assert k.ca_cert_hashes(ecdsa_ca) == [openssl_pin(ecdsa_ca, tmp_path)] == [python_pin(ecdsa_ca)]


def test_ca_bundle_with_two_certificates(rsa_ca, ecdsa_ca, tmp_path):
    hashes = k.ca_cert_hashes(rsa_ca + b"\n" + ecdsa_ca)
    assert hashes == [openssl_pin(rsa_ca, tmp_path), openssl_pin(ecdsa_ca, tmp_path)]
    assert hashes[0] != hashes[1]


def test_ca_hash_accepts_text_and_ignores_surrounding_text(rsa_ca):
    assert k.ca_cert_hashes("# the cluster CA\n" + rsa_ca.decode()) == [python_pin(rsa_ca)]


@pytest.mark.parametrize("pem, message", [
    (b"", "no PEM certificate found"),
    (b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "no PEM certificate found"),
    (b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n", "certificate 1 of the bundle is malformed"),
    (b"-----BEGIN CERTIFICATE-----\nMAMCAQE=\n-----END CERTIFICATE-----\n", "certificate 1 of the bundle is malformed"),
])
def test_ca_hash_rejects_bad_input(pem, message):
    with pytest.raises(ValueError, match=message):
        k.ca_cert_hashes(pem)


def test_second_certificate_truncated_is_named(rsa_ca):
    body = b"".join(rsa_ca.split(b"\n")[1:-2])
    truncated = b"-----BEGIN CERTIFICATE-----\n" + base64.b64encode(base64.b64decode(body)[:200]) + b"\n-----END CERTIFICATE-----\n"
    with pytest.raises(ValueError, match="certificate 2 of the bundle is malformed"):
        k.ca_cert_hashes(rsa_ca + truncated)


# --- kubeadm-certs AES-GCM --------------------------------------------------------------------------------

def test_round_trip_and_layout():
    nonce = bytes(range(12))
    blob = k.encrypt_kubeadm_data(b"-----BEGIN CERTIFICATE-----\n", KEY, nonce=nonce)
    assert blob[:12] == nonce and len(blob) == 12 + 28 + 16
    assert k.decrypt_kubeadm_data(blob, KEY) == b"-----BEGIN CERTIFICATE-----\n"
    assert k.decrypt_kubeadm_data(k.encrypt_kubeadm_data(b"", KEY), KEY) == b""


def test_layout_matches_kubeadm_seal_nonce_prefix():
    """Go's gcm.Seal(nonce, nonce, data, nil): nonce || ciphertext || tag, AES-256, no additional data."""
    key = bytes.fromhex(KEY)
    nonce = b"\x01" * 12
    sealed = nonce + AESGCM(key).encrypt(nonce, b"sa.key contents", None)
    assert k.decrypt_kubeadm_data(sealed, KEY) == b"sa.key contents"
    assert k.encrypt_kubeadm_data(b"sa.key contents", KEY, nonce=nonce) == sealed


def test_fresh_nonce_every_time():
    assert k.encrypt_kubeadm_data(b"x", KEY) != k.encrypt_kubeadm_data(b"x", KEY)


def test_wrong_key_is_detected():
    blob = k.encrypt_kubeadm_data(b"ca.key", KEY)
    with pytest.raises(k.WrongKeyError):
        k.decrypt_kubeadm_data(blob, "ff" * 32)


def test_tampered_or_truncated_data_is_detected():
    blob = bytearray(k.encrypt_kubeadm_data(b"ca.key", KEY))
    blob[15] ^= 1
    with pytest.raises(k.WrongKeyError):
        k.decrypt_kubeadm_data(bytes(blob), KEY)
    with pytest.raises(k.WrongKeyError):
        k.decrypt_kubeadm_data(b"short", KEY)


@pytest.mark.parametrize("key", ["", "abc", "zz" * 32, "00" * 16])
def test_bad_keys_are_rejected(key):
    with pytest.raises(ValueError, match="64 hexadecimal"):
        k.decrypt_kubeadm_data(b"\0" * 40, key)


def secret_for(files, key=KEY, owner="abc123"):
    data = dict((name, base64.b64encode(k.encrypt_kubeadm_data(content, key) if content else b"").decode())
                for name, content in files.items())
    return {"metadata": {"name": "kubeadm-certs", "ownerReferences": [
        {"apiVersion": "v1", "kind": "Secret", "name": "bootstrap-token-" + owner, "controller": True}]}, "data": data}


def test_verify_kubeadm_certs():
    local = {"ca.crt": b"CA", "ca.key": b"KEY", "etcd-ca.key": b""}
    assert k.verify_kubeadm_certs(secret_for(local), KEY, local) is None
    assert k.verify_kubeadm_certs(secret_for(dict(local, **{"ca.crt": b"OLD"})), KEY, local) == \
        "the secret's ca.crt differs from the local PKI"
    assert k.verify_kubeadm_certs(secret_for({"ca.crt": b"CA"}), KEY, local) == "the secret has no entry ca.key"
    with pytest.raises(k.WrongKeyError):
        k.verify_kubeadm_certs(secret_for(local, key="ab" * 32), KEY, local)


def test_kubeadm_certs_files_follow_kubeadm():
    stacked = k.kubeadm_certs_files("/pki")
    assert sorted(stacked) == ["ca.crt", "ca.key", "etcd-ca.crt", "etcd-ca.key", "front-proxy-ca.crt",
                               "front-proxy-ca.key", "sa.key", "sa.pub"]
    assert stacked["etcd-ca.key"] == "/pki/etcd/ca.key"
    external = k.kubeadm_certs_files("/pki", dict(ca_file="/e/ca", cert_file="/e/c", key_file="/e/k"))
    assert "etcd-ca.crt" not in external and external["external-etcd.key"] == "/e/k"


def test_owner_token_and_expiry():
    secret = secret_for({})
    assert k.owner_token_id(secret) == "abc123"
    assert k.owner_token_id({"metadata": {}}) is None
    assert k.owner_token_id({"metadata": {"ownerReferences": [{"kind": "ConfigMap", "name": "bootstrap-token-abc123"}]}}) is None
    owner = {"metadata": {"name": "bootstrap-token-abc123"},
             "data": {"expiration": base64.b64encode(b"2026-11-26T14:00:00Z").decode()}}
    assert k.token_secret_expiry(owner) == NOW + datetime.timedelta(hours=2)
    assert k.token_secret_expiry({"data": {}}) is None
    with pytest.raises(k.KubeadmError, match="malformed expiration"):
        k.token_secret_expiry({"metadata": {"name": "x"}, "data": {"expiration": base64.b64encode(b"soon").decode()}})


# --- kubeadm configuration and environment ----------------------------------------------------------------

@pytest.mark.parametrize("text, api", [
    ("v1.21.14", "kubeadm.k8s.io/v1beta2"), ("v1.22.0", "kubeadm.k8s.io/v1beta3"), ("v1.25.0\n", "kubeadm.k8s.io/v1beta3"),
    ("v1.30.9", "kubeadm.k8s.io/v1beta3"), ("v1.31.0", "kubeadm.k8s.io/v1beta4"), ("v1.35.0-rc.1", "kubeadm.k8s.io/v1beta4"),
])
def test_config_api_per_kubeadm_version(text, api):
    assert k.kubeadm_config_api(k.parse_kubeadm_version(text)) == api


def test_unparsable_version():
    with pytest.raises(ValueError, match="cannot parse kubeadm version"):
        k.parse_kubeadm_version("kubeadm: command not found")


def test_rendered_config_is_multi_document_yaml():
    docs = [{"kind": "InitConfiguration", "bootstrapTokens": [{"description": "quote \" colon: # hash"}]},
            {"kind": "ClusterConfiguration", "kubernetesVersion": "v1.25.0"}]
    assert [d for d in yaml.safe_load_all(k.render_kubeadm_config(docs)) if d] == docs


def test_pick_cri_socket():
    assert k.pick_cri_socket("unix:///run/x.sock") == "unix:///run/x.sock"
    assert k.pick_cri_socket("/run/x.sock") == "unix:///run/x.sock"
    both = {"/var/run/cri-dockerd.sock", "/run/containerd/containerd.sock"}
    assert k.pick_cri_socket(None, exists=both.__contains__) == "unix:///var/run/cri-dockerd.sock"
    assert k.pick_cri_socket(None, exists={"/run/containerd/containerd.sock"}.__contains__) == \
        "unix:///run/containerd/containerd.sock"
    assert k.pick_cri_socket(None, exists=lambda p: False) == "unix:///var/run/cri-dockerd.sock"


KUBECONFIG = """apiVersion: v1
clusters:
- cluster: {server: "https://10.0.0.1:6443"}
  name: other
- cluster: {server: "https://192.0.2.10:8443/"}
  name: kubernetes
contexts:
- context: {cluster: kubernetes, user: admin}
  name: admin@kubernetes
current-context: admin@kubernetes
"""


def test_kubeconfig_server_follows_the_current_context():
    assert k.kubeconfig_server(KUBECONFIG) == "192.0.2.10:8443"


def test_kubeconfig_server_without_yaml(monkeypatch):
    monkeypatch.setattr(k, "HAS_YAML", False)
    assert k.kubeconfig_server("clusters:\n- cluster:\n    server: https://192.0.2.10:6443\n") == "192.0.2.10:6443"
    with pytest.raises(k.KubeadmError, match="set api_server_endpoint"):
        k.kubeconfig_server(KUBECONFIG)


def test_kubeconfig_without_server():
    with pytest.raises(k.KubeadmError, match="set api_server_endpoint"):
        k.kubeconfig_server("apiVersion: v1\nkind: Config\n")


@pytest.mark.parametrize("stderr, hint", [
    ("The connection to the server 192.0.2.10:8443 was refused - did you specify the right host or port?", "not reachable"),
    ("Unable to connect to the server: dial tcp 192.0.2.10:8443: i/o timeout", "not reachable"),
    ("error: You must be logged in to the server (Unauthorized)", "credentials"),
    ("x509: certificate has expired or is not yet valid", "credentials"),
    ("something else", "See stderr for the whole error output"),
    ("", "no error output. It printed no error; run the same command by hand"),
])
def test_explain_failure(stderr, hint):
    message = k.explain_failure("kubeadm token list", 1, stderr, "/etc/kubernetes/admin.conf")
    assert message.startswith("kubeadm token list failed (rc=1)") and hint in message


def test_ca_hash_without_cryptography_names_the_package(rsa_ca, monkeypatch):
    monkeypatch.setattr(k, "HAS_CRYPTOGRAPHY", False)
    with pytest.raises(ValueError, match="python3-cryptography"):
        k.ca_cert_hashes(rsa_ca)
