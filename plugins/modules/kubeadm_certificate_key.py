#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright (c) 2026, the kubeha.cluster authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: kubeadm_certificate_key
short_description: Manage the kubeadm-certs secret that control-plane joins download their certificates from
version_added: 0.1.0
description:
  - Treats the C(kube-system/kubeadm-certs) secret, which C(kubeadm join --control-plane --certificate-key) decrypts
    the cluster's CA and service-account keys from, as a resource.
  - With O(state=present) the secret is kept when it exists, every entry decrypts (AES-GCM) with O(certificate_key),
    the decrypted files equal the local PKI, and the bootstrap token that owns the secret (kubeadm deletes the secret
    when that token expires, two hours after an upload) has at least O(min_ttl) left. Otherwise the certificates are
    uploaded afresh with C(kubeadm init phase upload-certs --upload-certs), with O(certificate_key) or with a new key.
  - With O(state=absent) the secret and the token that owns it are deleted.
  - The key reaches kubeadm in a private configuration file (mode 0600, removed afterwards), never on a command line.
    That file also names the CRI socket and the local kubeadm version, so kubeadm neither probes for a container
    runtime (which fails on Docker hosts) nor looks up a Kubernetes version on the internet.
  - Runs on a control-plane host with an admin kubeconfig, usually with C(become).
author:
  - kubeha.cluster authors (@kubeha)
requirements:
  - kubeadm and kubectl on the host.
  - The Python C(cryptography) package on the host to verify an existing secret. Without it the module cannot tell
    whether the secret still fits, so it uploads afresh every time and says so in a warning.
extends_documentation_fragment:
  - kubeha.cluster.kubeadm
attributes:
  check_mode:
    support: full
    description: Reports whether the certificates would be uploaded or deleted, and changes nothing.
  diff_mode:
    support: full
    description: Shows whether the secret exists, the token that owns it and its expiry, before and after.
  idempotent:
    support: partial
    description:
      - A C(kubeadm-certs) secret that still decrypts with the key, matches the local certificates and has at least
        O(min_ttl) left is kept, so a second run reports no change.
      - Without the Python C(cryptography) package on the host the secret cannot be verified and is uploaded afresh
        on every run (a warning says so).
options:
  state:
    description:
      - V(present) makes sure a usable secret exists, V(absent) deletes it and the token that owns it.
    type: str
    choices: [present, absent]
    default: present
  certificate_key:
    description:
      - The AES-256 key, as 64 hexadecimal characters (what C(kubeadm certs certificate-key) prints).
      - When omitted, an existing secret cannot be checked (its key is not recoverable by design), so the certificates
        are uploaded afresh with a new key made of 32 random bytes from the operating system's random source.
      - Pass the key returned by an earlier run of this module to keep an existing secret. Because this option is
        C(no_log), Ansible masks a key given here wherever it appears in the result, RV(certificate_key) included.
    type: str
  min_ttl:
    description:
      - An existing secret is kept only when the token that owns it has at least this much left, as a number of
        seconds or a Go duration such as V(45m). kubeadm gives the token two hours; it cannot be made longer.
    type: str
    default: 30m
  kubectl_path:
    description:
      - Path to the kubectl binary, which reads and deletes the secret. Looked up like O(kubeadm_path) by default.
    type: path
  pki_dir:
    description:
      - The certificates directory of this control-plane node (C(ClusterConfiguration.certificatesDir)). Its CA and
        service-account files are what kubeadm uploads and what an existing secret is compared with.
    type: path
    default: /etc/kubernetes/pki
  external_etcd:
    description:
      - Whether the cluster uses an external etcd. kubeadm then uploads the etcd client files named by
        O(etcd_ca_file), O(etcd_cert_file) and O(etcd_key_file) instead of the stacked etcd CA.
    type: bool
    default: false
  etcd_ca_file:
    description: With O(external_etcd=true), the external etcd CA (C(etcd.external.caFile)).
    type: path
    default: /etc/kubernetes/pki/etcd/ca.crt
  etcd_cert_file:
    description: With O(external_etcd=true), the API server's etcd client certificate (C(etcd.external.certFile)).
    type: path
    default: /etc/kubernetes/pki/apiserver-etcd-client.crt
  etcd_key_file:
    description: With O(external_etcd=true), the API server's etcd client key (C(etcd.external.keyFile)).
    type: path
    default: /etc/kubernetes/pki/apiserver-etcd-client.key
notes:
  - The returned RV(certificate_key), together with any way to read the secret (a join token of the default group
    can), gives away the cluster's CA keys. Register it with C(no_log=true), use it only for the control-plane joins
    that follow, and delete the secret (O(state=absent)) as soon as they are done.
seealso:
  - module: kubeha.cluster.kubeadm_token
  - name: kubeadm init phase upload-certs
    description: The kubeadm phase this module runs.
    link: https://kubernetes.io/docs/reference/setup-tools/kubeadm/kubeadm-init-phase/#cmd-phase-upload-certs
"""

EXAMPLES = r"""
- name: Upload the control-plane certificates for the joins that follow
  kubeha.cluster.kubeadm_certificate_key:
    cri_socket: unix:///var/run/cri-dockerd.sock
    min_ttl: 45m
  register: certificate_key
  no_log: true
  become: true

- name: Keep the secret on later runs while it still fits (pass the key back)
  kubeha.cluster.kubeadm_certificate_key:
    certificate_key: "{{ certificate_key.certificate_key }}"
    cri_socket: unix:///var/run/cri-dockerd.sock
  no_log: true
  become: true

- name: Remove the secret once the last control plane has joined
  kubeha.cluster.kubeadm_certificate_key:
    state: absent
  become: true
"""

RETURN = r"""
certificate_key:
  description:
    - The key the secret is encrypted with, 64 hexadecimal characters. Secret - register it with C(no_log=true).
    - V(null) with O(state=absent), and in check mode when a new key would be generated.
  returned: always
  type: str
  sample: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
expires:
  description:
    - When the secret goes away (the expiry of the token that owns it), RFC 3339 in UTC.
    - V(null) when there is no secret (check mode before an upload, O(state=absent)).
  returned: always
  type: str
  sample: "2026-11-26T17:00:00Z"
expires_in:
  description: Seconds until the secret goes away, when there is one.
  returned: always
  type: int
  sample: 7199
proxy_token_id:
  description: Id of the bootstrap token that owns the secret (deleting it deletes the secret).
  returned: always
  type: str
  sample: jgqg88
action:
  description: What the module did (or would do in check mode).
  returned: always
  type: str
  choices: [kept, uploaded, deleted, none]
  sample: kept
reason:
  description: Why the certificates were (or would be) uploaded; V(null) when the secret was kept.
  returned: always
  type: str
  sample: the secret's ca.crt differs from the local PKI
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kubeha.cluster.plugins.module_utils._kubeadm import (
    BOOTSTRAP_TOKEN_SECRET_PREFIX,
    CERTIFICATE_KEY_RE,
    HAS_CRYPTOGRAPHY,
    KUBEADM_CERTS_SECRET,
    Kube,
    KubeadmError,
    WrongKeyError,
    format_duration,
    format_rfc3339,
    generate_certificate_key,
    kubeadm_certs_files,
    kubeadm_argument_spec,
    kubeadm_config_api,
    owner_token_id,
    parse_duration,
    pick_cri_socket,
    read_local_pki,
    token_secret_expiry,
    utcnow,
    verify_kubeadm_certs,
)


def read_state(kube):
    """The kubeadm-certs secret, the id of the token owning it and that token's expiry (any may be None)."""
    secret = kube.kubectl_get("secret", KUBEADM_CERTS_SECRET)
    token_id = owner_token_id(secret) if secret else None
    owner = kube.kubectl_get("secret", BOOTSTRAP_TOKEN_SECRET_PREFIX + token_id) if token_id else None
    expires = token_secret_expiry(owner) if owner else None
    return secret, (token_id if owner else None), expires


def why_upload(module, kube, secret, owner_id, expires, key, min_ttl, now):
    """None when the existing secret can be kept, else the reason to upload afresh."""
    params = module.params
    if secret is None:
        return "the secret does not exist"
    if owner_id is None:
        return "the token that owns the secret is gone, so the secret is about to be deleted"
    if expires is not None and int((expires - now).total_seconds()) < min_ttl:
        return "the secret expires in %s, less than min_ttl %s" % (
            format_duration(max(0, int((expires - now).total_seconds()))), format_duration(min_ttl))
    if key is None:
        return "no certificate_key was given, and the key of the existing secret cannot be recovered"
    if not HAS_CRYPTOGRAPHY:
        module.warn("the Python cryptography package is missing on this host, so the existing kubeadm-certs secret "
                    "cannot be verified and the certificates are uploaded afresh; install python3-cryptography to "
                    "make this task idempotent")
        return "the secret cannot be verified without the Python cryptography package"
    external = None
    if params["external_etcd"]:
        external = dict(ca_file=params["etcd_ca_file"], cert_file=params["etcd_cert_file"],
                        key_file=params["etcd_key_file"])
    try:
        local = read_local_pki(kubeadm_certs_files(params["pki_dir"], external))
        return verify_kubeadm_certs(secret, key, local)
    except WrongKeyError:
        return "the secret does not decrypt with the given certificate_key"
    except KubeadmError as exc:
        module.fail_json(msg=str(exc))


def upload(module, kube, key):
    """Run kubeadm's upload-certs phase with the key in a 0600 config file."""
    params = module.params
    api = kubeadm_config_api(kube.version())
    init = {
        "apiVersion": api,
        "kind": "InitConfiguration",
        "certificateKey": key,
        "nodeRegistration": {"criSocket": pick_cri_socket(params["cri_socket"])},
    }
    cluster = {
        "apiVersion": api,
        "kind": "ClusterConfiguration",
        "kubernetesVersion": kube.version_string(),
        "certificatesDir": params["pki_dir"],
    }
    if params["external_etcd"]:
        cluster["etcd"] = {"external": {
            "endpoints": ["https://127.0.0.1:2379"],  # required by validation, not used by upload-certs
            "caFile": params["etcd_ca_file"],
            "certFile": params["etcd_cert_file"],
            "keyFile": params["etcd_key_file"],
        }}
    kube.run_with_config(
        [kube.kubeadm, "init", "phase", "upload-certs", "--upload-certs", "--skip-certificate-key-print",
         "--kubeconfig", kube.kubeconfig],
        [init, cluster], "kubeadm init phase upload-certs")


def describe(secret, owner_id, expires):
    return dict(secret="present" if secret else "absent", proxy_token_id=owner_id, expires=format_rfc3339(expires))


def main():
    module = AnsibleModule(
        argument_spec=kubeadm_argument_spec(
            state=dict(type="str", default="present", choices=["present", "absent"]),
            certificate_key=dict(type="str", no_log=True),
            min_ttl=dict(type="str", default="30m"),
            kubectl_path=dict(type="path"),
            pki_dir=dict(type="path", default="/etc/kubernetes/pki"),
            external_etcd=dict(type="bool", default=False),
            etcd_ca_file=dict(type="path", default="/etc/kubernetes/pki/etcd/ca.crt"),
            etcd_cert_file=dict(type="path", default="/etc/kubernetes/pki/apiserver-etcd-client.crt"),
            etcd_key_file=dict(type="path", default="/etc/kubernetes/pki/apiserver-etcd-client.key"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    try:
        min_ttl = parse_duration(params["min_ttl"], "min_ttl")
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    if min_ttl >= 2 * 3600:
        module.fail_json(msg="min_ttl %s can never be met: kubeadm gives the kubeadm-certs secret two hours; use less, "
                         "such as 30m" % format_duration(min_ttl))
    key = params["certificate_key"]
    if key is not None:
        if not CERTIFICATE_KEY_RE.match(key):
            module.fail_json(msg="certificate_key must be 64 hexadecimal characters (32 bytes), as printed by "
                             "kubeadm certs certificate-key")
        key = key.lower()

    kube = Kube(module, params["kubeconfig"], kubeadm_path=params["kubeadm_path"], kubectl_path=params["kubectl_path"])
    kube.check_kubeconfig()
    now = utcnow()
    secret, owner_id, expires = read_state(kube)
    before = describe(secret, owner_id, expires)
    result = dict(changed=False, certificate_key=None, expires=None, expires_in=None, proxy_token_id=None,
                  action="none", reason=None)

    if params["state"] == "absent":
        after = describe(None, None, None)
        if secret is not None or owner_id is not None:
            result.update(changed=True, action="deleted")
            if not module.check_mode:
                names = [KUBEADM_CERTS_SECRET]
                if owner_id:
                    names.append(BOOTSTRAP_TOKEN_SECRET_PREFIX + owner_id)
                kube.kubectl_delete("secret", names)
    else:
        reason = why_upload(module, kube, secret, owner_id, expires, key, min_ttl, now)
        if reason is None:
            result.update(action="kept", certificate_key=key)
        else:
            result.update(changed=True, action="uploaded", reason=reason)
            if module.check_mode:
                result["certificate_key"] = key
                expires = owner_id = None
            else:
                key = key or generate_certificate_key()
                upload(module, kube, key)
                result["certificate_key"] = key
                now = utcnow()
                secret, owner_id, expires = read_state(kube)
                if secret is None:
                    module.fail_json(msg="kubeadm uploaded the certificates but the kubeadm-certs secret is not there: "
                                     "check the API server and run again")
        result.update(proxy_token_id=owner_id, expires=format_rfc3339(expires),
                      expires_in=int((expires - now).total_seconds()) if expires else None)
        if reason is None:
            after = before
        elif module.check_mode:
            after = dict(secret="present", proxy_token_id="(new)", expires="(in 2h0m0s)")
        else:
            after = describe(secret, owner_id, expires)
    if module._diff:
        result["diff"] = dict(before=before, after=after)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
