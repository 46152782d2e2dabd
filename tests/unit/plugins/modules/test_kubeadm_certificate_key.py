# -*- coding: utf-8 -*-
# Copyright (c) 2026, the kubeha.cluster authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import base64
import json
import os
import re

import pytest

from ansible_collections.kubeha.cluster.plugins.module_utils import _kubeadm
from ansible_collections.kubeha.cluster.plugins.modules import kubeadm_certificate_key
from kubeha_testlib import KUBEADM, KUBECTL, rfc3339

KEY = "0123456789abcdef" * 4
OTHER_KEY = "fedcba9876543210" * 4
OWNER = "prx123"
PKI_FILES = {
    "ca.crt": b"-----BEGIN CERTIFICATE-----\ncluster CA\n-----END CERTIFICATE-----\n",
    "ca.key": b"-----BEGIN RSA PRIVATE KEY-----\nCA key\n-----END RSA PRIVATE KEY-----\n",
    "front-proxy-ca.crt": b"front proxy CA",
    "front-proxy-ca.key": b"front proxy CA key",
    "sa.pub": b"service account public key",
    "sa.key": b"service account private key",
    "etcd/ca.crt": b"etcd CA",
    "etcd/ca.key": b"etcd CA key",
}


@pytest.fixture
def host(tmp_path):
    kubeconfig = tmp_path / "admin.conf"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\n")
    pki = tmp_path / "pki"
    for name, content in PKI_FILES.items():
        (pki / name).parent.mkdir(parents=True, exist_ok=True)
        (pki / name).write_bytes(content)
    return dict(kubeconfig=str(kubeconfig), pki_dir=str(pki))


def args(host, **extra):
    base = dict(cri_socket="unix:///var/run/cri-dockerd.sock")
    base.update(host)
    base.update(extra)
    return base


def certs_secret(key=KEY, files=None, owner=OWNER, empty=()):
    """kubectl's JSON for a kubeadm-certs secret encrypted as kubeadm does it."""
    files = PKI_FILES if files is None else files
    data = {}
    for name, content in files.items():
        blob = b"" if name in empty else _kubeadm.encrypt_kubeadm_data(content, key)
        data[name.replace("/", "-")] = base64.b64encode(blob).decode()
    secret = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "data": data,
              "metadata": {"name": "kubeadm-certs", "namespace": "kube-system"}}
    if owner:
        secret["metadata"]["ownerReferences"] = [{
            "apiVersion": "v1", "kind": "Secret", "name": "bootstrap-token-" + owner, "uid": "x",
            "controller": True, "blockOwnerDeletion": True}]
    return json.dumps(secret)


def token_secret(token_id=OWNER, expires_in=7000):
    data = {"token-id": token_id, "token-secret": "0123456789abcdef",
            "description": _kubeadm.PROXY_TOKEN_DESCRIPTION}
    if expires_in is not None:
        data["expiration"] = rfc3339(expires_in)
    encoded = dict((k, base64.b64encode(v.encode()).decode()) for k, v in data.items())
    return json.dumps({"apiVersion": "v1", "kind": "Secret", "type": "bootstrap.kubernetes.io/token",
                       "metadata": {"name": "bootstrap-token-" + token_id}, "data": encoded})


def get_argv(host, name):
    return [KUBECTL, "--kubeconfig", host["kubeconfig"], "--request-timeout", "30s", "-n", "kube-system",
            "get", "secret", name, "-o", "json"]


NOT_FOUND = (1, "", 'Error from server (NotFound): secrets "x" not found\n')


def expect_state(commands, host, secret=None, owner=OWNER, owner_secret=None):
    commands.expect(get_argv(host, "kubeadm-certs"), (0, secret, "") if secret else NOT_FOUND)
    if secret and owner:
        commands.expect(get_argv(host, "bootstrap-token-" + owner), (0, owner_secret, "") if owner_secret else NOT_FOUND)


def expect_upload(commands, host, version="v1.25.0", new_owner="new456"):
    """version, upload-certs (recording the config), then the re-read of the new secret and its owner."""
    seen = {}

    def on_upload(call):
        seen["call"] = call
        seen["docs"] = call.config_documents()
        return 0, '[upload-certs] Storing the certificates in Secret "kubeadm-certs" in the "kube-system" Namespace\n', ""

    commands.expect([KUBEADM, "version", "-o", "short"], (0, version + "\n", ""))
    commands.expect([KUBEADM, "init", "phase", "upload-certs", "--upload-certs", "--skip-certificate-key-print",
                     "--kubeconfig", host["kubeconfig"], "--config"], on_upload)
    commands.expect(get_argv(host, "kubeadm-certs"),
                    lambda call: (0, certs_secret(seen["docs"][0]["certificateKey"], owner=new_owner), ""))
    commands.expect(get_argv(host, "bootstrap-token-" + new_owner), (0, token_secret(new_owner, 7200), ""))
    return seen


# --- present: keep versus upload --------------------------------------------------------------------------

def test_keeps_a_secret_that_decrypts_matches_and_lives_long_enough(run_module, commands, host):
    expect_state(commands, host, certs_secret(), owner_secret=token_secret(expires_in=3600))
    result = run_module(kubeadm_certificate_key, args(host, certificate_key=KEY))
    commands.done()
    assert (result["changed"], result["action"], result["reason"]) == (False, "kept", None)
    assert result["certificate_key"] == KEY
    assert (result["proxy_token_id"], result["expires"], result["expires_in"]) == (OWNER, "2026-11-26T13:00:00Z", 3600)


def test_uppercase_key_is_normalised(run_module, commands, host):
    expect_state(commands, host, certs_secret(), owner_secret=token_secret())
    result = run_module(kubeadm_certificate_key, args(host, certificate_key=KEY.upper()))
    assert (result["changed"], result["certificate_key"]) == (False, KEY)


def test_boundary_exactly_min_ttl_left_is_kept(run_module, commands, host):
    expect_state(commands, host, certs_secret(), owner_secret=token_secret(expires_in=1800))
    assert run_module(kubeadm_certificate_key, args(host, certificate_key=KEY, min_ttl="30m"))["changed"] is False


def test_boundary_one_second_short_uploads(run_module, commands, host):
    expect_state(commands, host, certs_secret(), owner_secret=token_secret(expires_in=1799))
    seen = expect_upload(commands, host)
    result = run_module(kubeadm_certificate_key, args(host, certificate_key=KEY, min_ttl="30m"))
    commands.done()
    assert (result["changed"], result["action"]) == (True, "uploaded")
    assert "less than min_ttl 30m0s" in result["reason"]
    assert seen["docs"][0]["certificateKey"] == KEY
    assert (result["proxy_token_id"], result["expires_in"]) == ("new456", 7200)


def test_upload_passes_the_key_only_in_a_private_config_file(run_module, commands, host):
    expect_state(commands, host)
    seen = expect_upload(commands, host)
    result = run_module(kubeadm_certificate_key, args(host, certificate_key=KEY))
    commands.done()
    assert result["reason"] == "the secret does not exist"
    call = seen["call"]
    assert call.config_mode == 0o600
    assert not os.path.exists(call.config_path)
    assert all(KEY not in " ".join(c.argv) for c in commands.calls)
    init, cluster = seen["docs"]
    assert init == {"apiVersion": "kubeadm.k8s.io/v1beta3", "kind": "InitConfiguration", "certificateKey": KEY,
                    "nodeRegistration": {"criSocket": "unix:///var/run/cri-dockerd.sock"}}
    assert cluster == {"apiVersion": "kubeadm.k8s.io/v1beta3", "kind": "ClusterConfiguration",
                       "kubernetesVersion": "v1.25.0", "certificatesDir": host["pki_dir"]}


def test_upload_without_a_key_generates_one(run_module, commands, host):
    expect_state(commands, host)
    seen = expect_upload(commands, host)
    result = run_module(kubeadm_certificate_key, args(host))
    assert re.match(r"\A[0-9a-f]{64}\Z", result["certificate_key"])
    assert seen["docs"][0]["certificateKey"] == result["certificate_key"]


def test_existing_secret_without_a_key_is_uploaded_afresh(run_module, commands, host):
    expect_state(commands, host, certs_secret(), owner_secret=token_secret())
    seen = expect_upload(commands, host)
    result = run_module(kubeadm_certificate_key, args(host))
    assert result["action"] == "uploaded" and "cannot be recovered" in result["reason"]
    assert result["certificate_key"] == seen["docs"][0]["certificateKey"] != KEY


def test_wrong_key_is_detected_and_uploaded_with_the_given_key(run_module, commands, host):
    expect_state(commands, host, certs_secret(key=OTHER_KEY), owner_secret=token_secret())
    seen = expect_upload(commands, host)
    result = run_module(kubeadm_certificate_key, args(host, certificate_key=KEY))
    assert result["reason"] == "the secret does not decrypt with the given certificate_key"
    assert seen["docs"][0]["certificateKey"] == KEY


def test_secret_differing_from_the_local_pki_is_uploaded(run_module, commands, host):
    stale = dict(PKI_FILES, **{"ca.key": b"the CA key before a rotation"})
    expect_state(commands, host, certs_secret(files=stale), owner_secret=token_secret())
    expect_upload(commands, host)
    result = run_module(kubeadm_certificate_key, args(host, certificate_key=KEY))
    assert result["reason"] == "the secret's ca.key differs from the local PKI"


def test_secret_missing_an_entry_is_uploaded(run_module, commands, host):
    partial = dict((k, v) for k, v in PKI_FILES.items() if k != "sa.key")
    expect_state(commands, host, certs_secret(files=partial), owner_secret=token_secret())
    expect_upload(commands, host)
    assert run_module(kubeadm_certificate_key, args(host, certificate_key=KEY))["reason"] == "the secret has no entry sa.key"


def test_empty_entry_matches_a_missing_local_file(run_module, commands, host):
    os.remove(os.path.join(host["pki_dir"], "etcd", "ca.key"))
    expect_state(commands, host, certs_secret(empty=("etcd/ca.key",)), owner_secret=token_secret())
    assert run_module(kubeadm_certificate_key, args(host, certificate_key=KEY))["changed"] is False


def test_secret_whose_owner_token_is_gone_is_uploaded(run_module, commands, host):
    expect_state(commands, host, certs_secret())
    expect_upload(commands, host)
    result = run_module(kubeadm_certificate_key, args(host, certificate_key=KEY))
    assert "the token that owns the secret is gone" in result["reason"]


def test_without_cryptography_it_uploads_and_warns(run_module, commands, host, monkeypatch, warnings):
    monkeypatch.setattr(kubeadm_certificate_key, "HAS_CRYPTOGRAPHY", False)
    expect_state(commands, host, certs_secret(), owner_secret=token_secret())
    expect_upload(commands, host)
    result = run_module(kubeadm_certificate_key, args(host, certificate_key=KEY))
    assert result["changed"] is True and "cryptography" in result["reason"]
    assert any("cryptography package is missing" in w for w in warnings)


def test_external_etcd_files_are_compared_and_configured(run_module, commands, host, tmp_path):
    ext = {"external-etcd-ca.crt": b"ext CA", "external-etcd.crt": b"ext cert", "external-etcd.key": b"ext key"}
    paths = {}
    for name, content in ext.items():
        paths[name] = tmp_path / name
        paths[name].write_bytes(content)
    files = dict((k, v) for k, v in PKI_FILES.items() if not k.startswith("etcd/"))
    files.update(ext)
    extra = dict(certificate_key=KEY, external_etcd=True, etcd_ca_file=str(paths["external-etcd-ca.crt"]),
                 etcd_cert_file=str(paths["external-etcd.crt"]), etcd_key_file=str(paths["external-etcd.key"]))
    expect_state(commands, host, certs_secret(files=files), owner_secret=token_secret())
    assert run_module(kubeadm_certificate_key, args(host, **extra))["changed"] is False

    commands.expect(get_argv(host, "kubeadm-certs"), NOT_FOUND)
    seen = expect_upload(commands, host)
    run_module(kubeadm_certificate_key, args(host, **extra))
    assert seen["docs"][1]["etcd"]["external"]["caFile"] == str(paths["external-etcd-ca.crt"])
    assert seen["docs"][1]["etcd"]["external"]["keyFile"] == str(paths["external-etcd.key"])


def test_kubeadm_1_31_gets_a_v1beta4_config(run_module, commands, host):
    expect_state(commands, host)
    seen = expect_upload(commands, host, version="v1.31.0")
    run_module(kubeadm_certificate_key, args(host, certificate_key=KEY))
    assert [d["apiVersion"] for d in seen["docs"]] == ["kubeadm.k8s.io/v1beta4"] * 2


# --- check mode and diff ---------------------------------------------------------------------------------

def test_check_mode_upload_changes_nothing(run_module, commands, host):
    expect_state(commands, host, certs_secret(key=OTHER_KEY), owner_secret=token_secret())
    result = run_module(kubeadm_certificate_key, args(host, certificate_key=KEY), check_mode=True, diff=True)
    commands.done()
    assert len(commands.calls) == 2
    assert (result["changed"], result["action"], result["certificate_key"]) == (True, "uploaded", KEY)
    assert result["diff"]["before"] == {"secret": "present", "proxy_token_id": OWNER, "expires": "2026-11-26T13:56:40Z"}
    assert result["diff"]["after"]["proxy_token_id"] == "(new)"


def test_check_mode_without_a_key_returns_no_key(run_module, commands, host):
    expect_state(commands, host)
    result = run_module(kubeadm_certificate_key, args(host), check_mode=True)
    assert (result["changed"], result["certificate_key"], result["expires"]) == (True, None, None)


def test_check_mode_keep(run_module, commands, host):
    expect_state(commands, host, certs_secret(), owner_secret=token_secret())
    result = run_module(kubeadm_certificate_key, args(host, certificate_key=KEY), check_mode=True, diff=True)
    assert result["changed"] is False and result["diff"]["before"] == result["diff"]["after"]


# --- absent -----------------------------------------------------------------------------------------------

def delete_argv(host, *names):
    return [KUBECTL, "--kubeconfig", host["kubeconfig"], "--request-timeout", "30s", "-n", "kube-system",
            "delete", "secret"] + list(names) + ["--ignore-not-found"]


def test_absent_deletes_the_secret_and_its_owner_token(run_module, commands, host):
    expect_state(commands, host, certs_secret(), owner_secret=token_secret())
    commands.expect(delete_argv(host, "kubeadm-certs", "bootstrap-token-" + OWNER))
    result = run_module(kubeadm_certificate_key, args(host, state="absent"), diff=True)
    commands.done()
    assert (result["changed"], result["action"]) == (True, "deleted")
    assert result["diff"]["after"] == {"secret": "absent", "proxy_token_id": None, "expires": None}


def test_absent_without_owner_deletes_just_the_secret(run_module, commands, host):
    expect_state(commands, host, certs_secret())
    commands.expect(delete_argv(host, "kubeadm-certs"))
    assert run_module(kubeadm_certificate_key, args(host, state="absent"))["changed"] is True
    commands.done()


@pytest.mark.parametrize("check_mode", [False, True])
def test_absent_when_nothing_is_there(run_module, commands, host, check_mode):
    expect_state(commands, host)
    result = run_module(kubeadm_certificate_key, args(host, state="absent"), check_mode=check_mode)
    commands.done()
    assert (result["changed"], result["action"]) == (False, "none")


def test_absent_check_mode_deletes_nothing(run_module, commands, host):
    expect_state(commands, host, certs_secret(), owner_secret=token_secret())
    result = run_module(kubeadm_certificate_key, args(host, state="absent"), check_mode=True)
    commands.done()
    assert result["changed"] is True and len(commands.calls) == 2


# --- failures ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("extra, message", [
    (dict(certificate_key="abc"), "64 hexadecimal characters"),
    (dict(certificate_key="g" * 64), "64 hexadecimal characters"),
    (dict(min_ttl="2h"), "can never be met"),
    (dict(min_ttl="soon"), "min_ttl 'soon' is not a duration"),
])
def test_bad_input_fails_before_running_anything(run_module, commands, host, extra, message):
    result = run_module(kubeadm_certificate_key, args(host, **extra))
    assert result["failed"] is True and message in result["msg"]
    assert commands.calls == []
    assert "g" * 64 not in result["msg"]


def test_kubectl_missing(run_module, commands, host, monkeypatch):
    from ansible.module_utils import basic
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path",
                        lambda self, arg, required=False, opt_dirs=None: KUBEADM if arg == "kubeadm" else None)
    result = run_module(kubeadm_certificate_key, args(host))
    assert result["failed"] is True and "kubectl was not found" in result["msg"]


def test_api_server_unreachable(run_module, commands, host):
    commands.expect(get_argv(host, "kubeadm-certs"),
                    (1, "", "Unable to connect to the server: dial tcp 192.0.2.10:8443: i/o timeout\n"))
    result = run_module(kubeadm_certificate_key, args(host))
    assert result["failed"] is True and "not reachable" in result["msg"]


def test_unreadable_pki_file(run_module, commands, host):
    os.remove(os.path.join(host["pki_dir"], "sa.key"))
    os.mkdir(os.path.join(host["pki_dir"], "sa.key"))  # reading a directory fails even for root
    expect_state(commands, host, certs_secret(), owner_secret=token_secret())
    result = run_module(kubeadm_certificate_key, args(host, certificate_key=KEY))
    assert result["failed"] is True and "cannot read" in result["msg"] and "become" in result["msg"]


def test_upload_failure_is_reported_and_the_config_removed(run_module, commands, host):
    expect_state(commands, host)
    commands.expect([KUBEADM, "version"], (0, "v1.25.0\n", ""))
    commands.expect([KUBEADM, "init", "phase", "upload-certs"], (1, "", "error execution phase upload-certs: boom"))
    result = run_module(kubeadm_certificate_key, args(host, certificate_key=KEY))
    assert result["failed"] is True and "kubeadm init phase upload-certs failed" in result["msg"]
    assert not os.path.exists(commands.calls[-1].config_path)
    assert KEY not in repr(result)


def test_other_kubectl_errors_are_not_taken_for_a_missing_secret(run_module, commands, host):
    commands.expect(get_argv(host, "kubeadm-certs"),
                    (1, "", 'error: the server doesn\'t have a resource type "secret"; plugin "x" not found\n'))
    result = run_module(kubeadm_certificate_key, args(host, certificate_key=KEY))
    assert result["failed"] is True and "kubectl get secret kubeadm-certs failed" in result["msg"]
    assert len(commands.calls) == 1
