"""Unit tests of the config_drift and x509_sans filters (no Ansible run: plain functions)."""

from __future__ import annotations

import datetime
import ipaddress

import pytest
from ansible.errors import AnsibleFilterError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.kubeha.cluster.plugins.filter.config_drift import config_drift
from ansible_collections.kubeha.cluster.plugins.filter.x509_sans import x509_sans

# What kubeadm 1.25 stores in the kubeadm-config ConfigMap after init (abridged from the lab).
RUNNING = {
    "apiServer": {"certSANs": ["172.28.0.10", "cp1", "cp2"], "extraArgs": {"authorization-mode": "Node,RBAC"},
                  "timeoutForControlPlane": "4m0s"},
    "clusterName": "kubernetes",
    "controlPlaneEndpoint": "172.28.0.10:8443",
    "kubernetesVersion": "v1.25.0",
    "networking": {"dnsDomain": "cluster.local", "podSubnet": "10.244.0.0/16", "serviceSubnet": "10.96.0.0/12"},
}


def test_no_drift_when_the_wanted_settings_run():
    wanted = {"kubernetesVersion": "v1.25.0", "networking": {"podSubnet": "10.244.0.0/16"},
              "apiServer": {"certSANs": ["cp2", "cp1", "172.28.0.10"]}}
    assert config_drift(wanted, RUNNING) == []


def test_settings_kubeadm_added_are_not_drift_but_changed_ones_are():
    wanted = {"kubernetesVersion": "v1.26.3", "networking": {"podSubnet": "10.32.0.0/16"}}
    assert config_drift(wanted, RUNNING) == ["kubernetesVersion", "networking.podSubnet"]


def test_details_give_the_wanted_and_the_running_value():
    wanted = {"kubernetesVersion": "v1.26.3", "networking": {"podSubnet": "10.32.0.0/16"}, "apiServer": {"x": "1"}}
    assert config_drift(wanted, RUNNING, details=True) == [
        {"path": "apiServer.x", "wanted": "1", "current": None},
        {"path": "kubernetesVersion", "wanted": "v1.26.3", "current": "v1.25.0"},
        {"path": "networking.podSubnet", "wanted": "10.32.0.0/16", "current": "10.244.0.0/16"},
    ]


def test_a_new_san_and_a_new_extra_arg_are_drift():
    wanted = {"apiServer": {"certSANs": ["172.28.0.10", "cp1", "cp2", "api.drift.test"],
                            "extraArgs": {"profiling": "false"}}}
    assert config_drift(wanted, RUNNING) == ["apiServer.certSANs", "apiServer.extraArgs.profiling"]


def test_empty_wanted_values_match_settings_kubeadm_left_out():
    assert config_drift({"scheduler": {}, "etcd": {"local": {"extraArgs": {}}}}, {"etcd": {"local": {}}}) == []


def test_a_null_wanted_value_asks_for_the_setting_to_be_absent():
    wanted = {"apiServer": {"extraArgs": {"authorization-mode": None, "profiling": None}, "extraVolumes": []},
              "scheduler": {"extraArgs": {"profiling": None}}}
    assert config_drift(wanted, RUNNING) == ["apiServer.extraArgs.authorization-mode"]
    assert config_drift(wanted, RUNNING, details=True)[0] == {
        "path": "apiServer.extraArgs.authorization-mode", "wanted": None, "current": "Node,RBAC"}
    volumes = [{"name": "audit-log", "hostPath": "/var/log/kubernetes/audit", "mountPath": "/var/log/kubernetes/audit"}]
    assert config_drift(wanted, {"apiServer": {"extraVolumes": volumes}}) == ["apiServer.extraVolumes"]


def test_numbers_and_strings_that_print_the_same_are_equal_but_booleans_are_not_strings():
    assert config_drift({"port": 8443}, {"port": "8443"}) == []
    assert config_drift({"enabled": True}, {"enabled": "true"}) == ["enabled"]


def test_ordered_lists_and_lists_of_dicts():
    assert config_drift({"a": ["x", "y"]}, {"a": ["y", "x"]}, unordered=False) == ["a"]
    wanted = {"extraVolumes": [{"name": "audit", "hostPath": "/var/log/audit"}]}
    assert config_drift(wanted, {"extraVolumes": [{"name": "audit", "hostPath": "/var/log/other"}]}) == ["extraVolumes"]
    assert config_drift(wanted, {"extraVolumes": [{"name": "audit", "hostPath": "/var/log/audit", "x": 1}]}) == []


def test_type_changes_are_drift():
    assert config_drift({"a": {"b": 1}}, {"a": "text"}) == ["a"]
    assert config_drift({"a": ["x"]}, {"a": "x"}) == ["a"]


def test_refuses_what_is_not_a_dictionary():
    with pytest.raises(AnsibleFilterError, match="must be dictionaries"):
        config_drift("a", {})


def _certificate(sans):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")])
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
               .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1)))
    if sans is not None:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()


def test_x509_sans_reads_dns_names_then_addresses():
    pem = _certificate([x509.DNSName("kubernetes"), x509.IPAddress(ipaddress.ip_address("172.28.0.10")),
                        x509.DNSName("api.drift.test")])
    assert x509_sans(pem) == ["kubernetes", "api.drift.test", "172.28.0.10"]


def test_x509_sans_of_a_certificate_without_names_and_of_garbage():
    assert x509_sans(_certificate(None)) == []
    with pytest.raises(AnsibleFilterError, match="not a PEM certificate"):
        x509_sans("not a certificate")


def test_go_durations_of_the_same_length_are_equal():
    # Kubernetes stores durations canonically: the inventory's 1h7m comes back as 1h7m0s (kube-proxy's conntrack).
    wanted = {"conntrack": {"tcpCloseWaitTimeout": "1h7m", "tcpEstablishedTimeout": "24h", "min": "90s"}}
    current = {"conntrack": {"tcpCloseWaitTimeout": "1h7m0s", "tcpEstablishedTimeout": "24h0m0s", "min": "1m30s"}}
    assert config_drift(wanted, current) == []
    assert config_drift({"conntrack": {"tcpCloseWaitTimeout": "1h8m"}}, current) == ["conntrack.tcpCloseWaitTimeout"]
    # Not durations: compared as text.
    assert config_drift({"mode": "1h"}, {"mode": "1h"}) == []
    assert config_drift({"name": "10m-pods"}, {"name": "600s-pods"}) == ["name"]
