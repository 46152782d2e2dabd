# -*- coding: utf-8 -*-
# Copyright (c) 2026, the kubeha.cluster authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import os
import re

import pytest

from ansible_collections.kubeha.cluster.plugins.module_utils import _kubeadm
from ansible_collections.kubeha.cluster.plugins.modules import kubeadm_token
from kubeha_testlib import KUBEADM, KUBECONFIG_TEXT, token_object, token_stream


DESC = "kubeha worker join"
GROUP = "system:bootstrappers:kubeadm:default-node-token"
PROXY = token_object("prx123.0123456789abcdef", description=_kubeadm.PROXY_TOKEN_DESCRIPTION, expires_in=7000,
                     usages=(), groups=())


@pytest.fixture
def host(tmp_path, rsa_ca):
    """A control-plane host: admin.conf and the CA bundle."""
    kubeconfig = tmp_path / "admin.conf"
    kubeconfig.write_text(KUBECONFIG_TEXT)
    ca = tmp_path / "ca.crt"
    ca.write_bytes(rsa_ca)
    return dict(kubeconfig=str(kubeconfig), ca_cert_path=str(ca))


def args(host, **extra):
    base = dict(description=DESC, cri_socket="unix:///var/run/cri-dockerd.sock")
    base.update(host)
    base.update(extra)
    return base


def list_argv(host):
    return [KUBEADM, "token", "list", "-o", "json", "--kubeconfig", host["kubeconfig"]]


def expect_create(commands, host, version="v1.25.0", listed_after=()):
    """version, create (answering with the token from the config file), then the list that shows it."""
    created = {}

    def on_create(call):
        doc = call.config_documents()[0]
        created["token"] = doc["bootstrapTokens"][0]["token"]
        created["ttl"] = doc["bootstrapTokens"][0]["ttl"]
        return 0, created["token"] + "\n", ""

    def on_list(call):
        seconds = int(created["ttl"].rstrip("s"))
        return 0, token_stream(*(list(listed_after) + [token_object(created["token"], DESC, seconds)])), ""

    commands.expect([KUBEADM, "version", "-o", "short"], (0, version + "\n", ""))
    commands.expect([KUBEADM, "token", "create", "--kubeconfig", host["kubeconfig"], "--config"], on_create)
    commands.expect(list_argv(host), on_list)
    return created


# --- present: reuse versus create -------------------------------------------------------------------------

def test_reuses_a_live_matching_token(run_module, commands, host, rsa_ca):
    live = token_object("abcdef.0123456789abcdef", DESC, expires_in=45 * 60)
    commands.expect(list_argv(host), (0, token_stream(PROXY, live), ""))
    result = run_module(kubeadm_token, args(host))
    commands.done()
    assert result["changed"] is False
    assert result["action"] == "reused"
    assert result["token"] == "abcdef.0123456789abcdef"
    assert result["token_id"] == "abcdef"
    assert result["expires"] == "2026-11-26T12:45:00Z"
    assert result["expires_in"] == 45 * 60
    assert result["api_server_endpoint"] == "192.0.2.10:8443"
    assert len(result["ca_cert_hashes"]) == 1
    assert re.match(r"\Asha256:[0-9a-f]{64}\Z", result["ca_cert_hashes"][0])


def test_reuse_boundary_exactly_min_ttl_left_is_reused(run_module, commands, host):
    live = token_object("abcdef.0123456789abcdef", DESC, expires_in=30 * 60)
    commands.expect(list_argv(host), (0, token_stream(live), ""))
    result = run_module(kubeadm_token, args(host, min_ttl="30m"))
    assert (result["changed"], result["action"], result["expires_in"]) == (False, "reused", 1800)


def test_reuse_boundary_one_second_short_creates(run_module, commands, host):
    short = token_object("abcdef.0123456789abcdef", DESC, expires_in=30 * 60 - 1)
    commands.expect(list_argv(host), (0, token_stream(short), ""))
    created = expect_create(commands, host, listed_after=[short])
    result = run_module(kubeadm_token, args(host, min_ttl="30m"))
    commands.done()
    assert (result["changed"], result["action"]) == (True, "created")
    assert result["token"] == created["token"] != "abcdef.0123456789abcdef"
    assert not any(call.argv[1:3] == ["token", "delete"] for call in commands.calls), "the old token is left to expire"


def test_creates_through_a_private_config_file(run_module, commands, host):
    commands.expect(list_argv(host), (0, "", ""))
    created = expect_create(commands, host)
    result = run_module(kubeadm_token, args(host, ttl="2h", min_ttl="45m"))
    commands.done()
    assert result["changed"] is True
    assert result["token"] == created["token"]
    assert re.match(r"\A[a-z0-9]{6}\.[a-z0-9]{16}\Z", created["token"])
    assert result["token_id"] == created["token"].split(".")[0]
    assert result["expires_in"] == 7200 and result["expires"] == "2026-11-26T14:00:00Z"

    create = commands.calls[2]
    assert create.config_mode == 0o600
    assert not os.path.exists(create.config_path), "the config file holding the token must be removed"
    for call in commands.calls:
        assert created["token"] not in " ".join(call.argv), "the token must never be on a command line"
        assert created["token"].split(".")[1] not in " ".join(call.argv)
    init, cluster = create.config_documents()
    assert init["apiVersion"] == "kubeadm.k8s.io/v1beta3"
    assert init["kind"] == "InitConfiguration"
    assert init["nodeRegistration"] == {"criSocket": "unix:///var/run/cri-dockerd.sock"}
    assert init["bootstrapTokens"] == [{
        "token": created["token"], "description": DESC, "ttl": "7200s",
        "usages": ["authentication", "signing"], "groups": [GROUP]}]
    assert cluster == {"apiVersion": "kubeadm.k8s.io/v1beta3", "kind": "ClusterConfiguration",
                       "kubernetesVersion": "v1.25.0"}


def test_kubeadm_1_31_gets_a_v1beta4_config_and_v1alpha3_output_parses(run_module, commands, host):
    commands.expect(list_argv(host), (0, "", ""))
    created = {}

    def on_create(call):
        created["docs"] = call.config_documents()
        created["token"] = created["docs"][0]["bootstrapTokens"][0]["token"]
        return 0, "", ""

    commands.expect([KUBEADM, "version", "-o", "short"], (0, "v1.31.2\n", ""))
    commands.expect([KUBEADM, "token", "create"], on_create)
    commands.expect(list_argv(host), lambda call: (0, token_stream(
        token_object(created["token"], DESC, 3600, api="v1alpha3")), ""))
    result = run_module(kubeadm_token, args(host))
    assert result["token"] == created["token"]
    assert [d["apiVersion"] for d in created["docs"]] == ["kubeadm.k8s.io/v1beta4"] * 2
    assert created["docs"][1]["kubernetesVersion"] == "v1.31.2"


def test_expired_matching_token_is_not_reused(run_module, commands, host):
    expired = token_object("old111.0123456789abcdef", DESC, expires_in=-600)
    commands.expect(list_argv(host), (0, token_stream(expired), ""))
    created = expect_create(commands, host, listed_after=[expired])
    result = run_module(kubeadm_token, args(host))
    assert result["action"] == "created" and result["token"] == created["token"]


def test_token_with_other_usages_or_groups_is_not_reused(run_module, commands, host):
    signing_only = token_object("aaaaaa.0123456789abcdef", DESC, 3000, usages=("signing",), groups=())
    other_group = token_object("bbbbbb.0123456789abcdef", DESC, 3000, groups=("system:bootstrappers:other",))
    commands.expect(list_argv(host), (0, token_stream(signing_only, other_group), ""))
    expect_create(commands, host)
    assert run_module(kubeadm_token, args(host))["action"] == "created"


def test_token_with_other_description_is_ignored(run_module, commands, host):
    other = token_object("cccccc.0123456789abcdef", "someone else's token", 3000)
    commands.expect(list_argv(host), (0, token_stream(other, PROXY), ""))
    expect_create(commands, host)
    assert run_module(kubeadm_token, args(host))["action"] == "created"


def test_non_expiring_matching_token_is_not_reused_and_warned_about(run_module, commands, host, warnings):
    forever = token_object("foreve.0123456789abcdef", DESC, expires_in=None)
    commands.expect(list_argv(host), (0, token_stream(forever), ""))
    expect_create(commands, host, listed_after=[forever])
    result = run_module(kubeadm_token, args(host))
    assert result["action"] == "created"
    assert any("foreve" in w and "never expires" in w for w in warnings)


def test_the_longest_lived_of_several_usable_tokens_wins(run_module, commands, host):
    tokens = [token_object("aaaaaa.0123456789abcdef", DESC, 2000), token_object("bbbbbb.0123456789abcdef", DESC, 3500),
              token_object("cccccc.0123456789abcdef", DESC, 2500)]
    commands.expect(list_argv(host), (0, token_stream(*tokens), ""))
    result = run_module(kubeadm_token, args(host))
    assert (result["changed"], result["token_id"]) == (False, "bbbbbb")


def test_api_server_endpoint_override(run_module, commands, host):
    live = token_object("abcdef.0123456789abcdef", DESC, 3000)
    commands.expect(list_argv(host), (0, token_stream(live), ""))
    result = run_module(kubeadm_token, args(host, api_server_endpoint="203.0.113.5:8443"))
    assert result["api_server_endpoint"] == "203.0.113.5:8443"


def test_ca_bundle_with_two_certificates_gives_two_hashes(run_module, commands, host, rsa_ca, ecdsa_ca, tmp_path):
    bundle = tmp_path / "bundle.crt"
    bundle.write_bytes(rsa_ca + ecdsa_ca)
    live = token_object("abcdef.0123456789abcdef", DESC, 3000)
    commands.expect(list_argv(host), (0, token_stream(live), ""))
    result = run_module(kubeadm_token, args(host, ca_cert_path=str(bundle)))
    assert result["ca_cert_hashes"] == _kubeadm.ca_cert_hashes(rsa_ca) + _kubeadm.ca_cert_hashes(ecdsa_ca)


def test_cri_socket_defaults_to_one_present_on_the_host(run_module, commands, host, monkeypatch):
    present = {"/var/run/cri-dockerd.sock", "/run/containerd/containerd.sock"}
    monkeypatch.setattr(_kubeadm.os.path, "exists", lambda p, real=os.path.exists: p in present or real(p))
    commands.expect(list_argv(host), (0, "", ""))
    seen = {}

    def on_create(call):
        seen["docs"] = call.config_documents()
        seen["token"] = seen["docs"][0]["bootstrapTokens"][0]["token"]
        return 0, "", ""

    commands.expect([KUBEADM, "version"], (0, "v1.25.0\n", ""))
    commands.expect([KUBEADM, "token", "create"], on_create)
    commands.expect(list_argv(host), lambda call: (0, token_stream(token_object(seen["token"], DESC)), ""))
    args_without_socket = args(host)
    del args_without_socket["cri_socket"]
    run_module(kubeadm_token, args_without_socket)
    assert seen["docs"][0]["nodeRegistration"]["criSocket"] == "unix:///var/run/cri-dockerd.sock"


# --- check mode and diff ---------------------------------------------------------------------------------

def test_check_mode_create_reports_change_and_runs_only_the_list(run_module, commands, host):
    commands.expect(list_argv(host), (0, "", ""))
    result = run_module(kubeadm_token, args(host), check_mode=True, diff=True)
    commands.done()
    assert len(commands.calls) == 1
    assert (result["changed"], result["action"], result["token"], result["expires"]) == (True, "created", None, None)
    assert result["diff"]["before"] == {"tokens": []}
    assert result["diff"]["after"]["tokens"][0]["token_id"] == "(new)"


def test_check_mode_reuse_reports_no_change(run_module, commands, host):
    live = token_object("abcdef.0123456789abcdef", DESC, 3000)
    commands.expect(list_argv(host), (0, token_stream(live), ""))
    result = run_module(kubeadm_token, args(host), check_mode=True)
    assert (result["changed"], result["token"]) == (False, "abcdef.0123456789abcdef")


def test_diff_never_shows_the_secret(run_module, commands, host):
    live = token_object("abcdef.0123456789abcdef", DESC, 3000)
    commands.expect(list_argv(host), (0, token_stream(live), ""))
    result = run_module(kubeadm_token, args(host), diff=True)
    assert result["diff"]["before"] == result["diff"]["after"]
    assert "0123456789abcdef" not in repr(result["diff"])
    assert result["diff"]["before"]["tokens"][0]["token_id"] == "abcdef"


# --- absent -----------------------------------------------------------------------------------------------

def test_absent_deletes_every_matching_token_by_id(run_module, commands, host):
    mine = [token_object("aaaaaa.0123456789abcdef", DESC, 3000),
            token_object("bbbbbb.0123456789abcdef", DESC, -100, usages=("signing",), groups=())]
    other = token_object("cccccc.0123456789abcdef", "other", 3000)
    commands.expect(list_argv(host), (0, token_stream(mine[0], other, PROXY, mine[1]), ""))
    commands.expect([KUBEADM, "token", "delete", "aaaaaa", "--kubeconfig", host["kubeconfig"]],
                    (0, 'bootstrap token "aaaaaa" deleted\n', ""))
    commands.expect([KUBEADM, "token", "delete", "bbbbbb", "--kubeconfig", host["kubeconfig"]],
                    (0, 'bootstrap token "bbbbbb" deleted\n', ""))
    result = run_module(kubeadm_token, args(host, state="absent"), diff=True)
    commands.done()
    assert (result["changed"], result["action"], result["deleted"]) == (True, "deleted", ["aaaaaa", "bbbbbb"])
    assert result["diff"]["after"] == {"tokens": []}
    assert "ca_cert_hashes" not in result


@pytest.mark.parametrize("check_mode", [False, True])
def test_absent_with_nothing_matching_is_not_an_error(run_module, commands, host, check_mode):
    commands.expect(list_argv(host), (0, token_stream(PROXY), ""))
    result = run_module(kubeadm_token, args(host, state="absent"), check_mode=check_mode)
    commands.done()
    assert (result["changed"], result["action"], result["deleted"]) == (False, "none", [])
    assert len(commands.calls) == 1


def test_absent_with_no_tokens_at_all(run_module, commands, host):
    commands.expect(list_argv(host), (0, "", ""))
    assert run_module(kubeadm_token, args(host, state="absent"))["changed"] is False


def test_absent_check_mode_deletes_nothing(run_module, commands, host):
    commands.expect(list_argv(host), (0, token_stream(token_object("aaaaaa.0123456789abcdef", DESC)), ""))
    result = run_module(kubeadm_token, args(host, state="absent"), check_mode=True)
    commands.done()
    assert (result["changed"], result["deleted"]) == (True, ["aaaaaa"])
    assert len(commands.calls) == 1


def test_absent_tolerates_a_token_deleted_meanwhile(run_module, commands, host):
    commands.expect(list_argv(host), (0, token_stream(token_object("aaaaaa.0123456789abcdef", DESC)), ""))
    commands.expect([KUBEADM, "token", "delete", "aaaaaa"], (1, "", 'failed to delete bootstrap token "aaaaaa": '
                                                             'secrets "bootstrap-token-aaaaaa" not found'))
    assert run_module(kubeadm_token, args(host, state="absent"))["changed"] is True


# --- failures that say what is wrong and how to fix it ----------------------------------------------------

@pytest.mark.parametrize("extra, message", [
    (dict(ttl="0"), "never expires"),
    (dict(ttl="0s"), "never expires"),
    (dict(ttl="ten minutes"), "ttl 'ten minutes' is not a duration"),
    (dict(min_ttl="-5m"), "min_ttl '-5m' is not a duration"),
    (dict(ttl="30m", min_ttl="30m"), "min_ttl (30m0s) must be shorter than ttl (30m0s)"),
    (dict(groups=["system:nodes"]), "group 'system:nodes' does not match"),
    (dict(usages=["signing"]), "groups can only be given when usages include authentication"),
    (dict(usages=[]), "usages must not be empty"),
    (dict(description=" "), "description must not be empty"),
    (dict(description=_kubeadm.PROXY_TOKEN_DESCRIPTION), "kubeadm_certificate_key"),
])
def test_bad_input_fails_before_running_anything(run_module, commands, host, extra, message):
    result = run_module(kubeadm_token, args(host, **extra))
    assert result["failed"] is True
    assert message in result["msg"]
    assert commands.calls == []


def test_usages_outside_the_choices_are_refused(run_module, commands, host):
    result = run_module(kubeadm_token, args(host, usages=["signing", "everything"]))
    assert result["failed"] is True and "everything" in result["msg"]


def test_kubeadm_missing(run_module, commands, host, monkeypatch):
    from ansible.module_utils import basic
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, arg, required=False, opt_dirs=None: None)
    result = run_module(kubeadm_token, args(host))
    assert result["failed"] is True
    assert "kubeadm was not found" in result["msg"] and "install it" in result["msg"]


def test_kubeadm_path_not_executable(run_module, commands, host, tmp_path):
    result = run_module(kubeadm_token, args(host, kubeadm_path=str(tmp_path / "nope")))
    assert result["failed"] is True and "is not an executable file" in result["msg"]


def test_kubeconfig_missing(run_module, commands, host, tmp_path):
    result = run_module(kubeadm_token, args(host, kubeconfig=str(tmp_path / "missing.conf")))
    assert result["failed"] is True
    assert "does not exist" in result["msg"] and "control-plane host" in result["msg"]


def test_kubeconfig_unreadable(run_module, commands, host, monkeypatch):
    real_access = os.access
    monkeypatch.setattr(_kubeadm.os, "access",
                        lambda path, mode: False if path == host["kubeconfig"] else real_access(path, mode))
    result = run_module(kubeadm_token, args(host))
    assert result["failed"] is True
    assert "not readable" in result["msg"] and "become: true" in result["msg"]


def test_api_server_unreachable(run_module, commands, host):
    commands.expect(list_argv(host), (1, "", "failed to list bootstrap tokens: Get \"https://192.0.2.10:8443/api/v1/"
                                             "namespaces/kube-system/secrets\": dial tcp 192.0.2.10:8443: connect: "
                                             "connection refused"))
    result = run_module(kubeadm_token, args(host))
    assert result["failed"] is True
    assert "not reachable" in result["msg"] and "kube-apiserver" in result["msg"]


def test_credentials_refused(run_module, commands, host):
    commands.expect(list_argv(host), (1, "", "error: You must be logged in to the server (Unauthorized)"))
    result = run_module(kubeadm_token, args(host))
    assert result["failed"] is True and "credentials" in result["msg"]


def test_malformed_token_list_output_fails_without_leaking_tokens(run_module, commands, host):
    broken = token_stream(token_object("abcdef.0123456789abcdef", DESC))[:-20]
    commands.expect(list_argv(host), (0, broken, ""))
    result = run_module(kubeadm_token, args(host))
    assert result["failed"] is True
    assert "malformed JSON" in result["msg"]
    assert "0123456789abcdef" not in repr(result)


def test_ca_missing(run_module, commands, host, tmp_path):
    result = run_module(kubeadm_token, args(host, ca_cert_path=str(tmp_path / "nope.crt")))
    assert result["failed"] is True and "cannot read the cluster CA" in result["msg"]
    assert commands.calls == []


def test_ca_not_a_certificate(run_module, commands, host, tmp_path):
    bad = tmp_path / "bad.crt"
    bad.write_text("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n")
    result = run_module(kubeadm_token, args(host, ca_cert_path=str(bad)))
    assert result["failed"] is True and "is not a usable CA bundle" in result["msg"]


def test_kubeadm_create_failure_is_reported_and_the_config_removed(run_module, commands, host):
    commands.expect(list_argv(host), (0, "", ""))
    commands.expect([KUBEADM, "version"], (0, "v1.25.0\n", ""))
    commands.expect([KUBEADM, "token", "create"], (1, "", "some kubeadm error"))
    result = run_module(kubeadm_token, args(host))
    assert result["failed"] is True and "kubeadm token create failed" in result["msg"]
    assert not os.path.exists(commands.calls[2].config_path)
