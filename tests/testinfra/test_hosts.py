# Copyright (c) 2026, the kubeha.cluster authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What site.yml leaves on every host, checked on the host itself, by inventory group.

Shared by Molecule's verify step (molecule/default, molecule/vagrant) and tools/test's e2e stage. Cluster-wide
behaviour (nodes Ready, etcd membership, the VIP, pod network, Services) is tests/e2e's, through kubectl.
"""

from __future__ import annotations

import base64
import json
import time

import pytest
import yaml

# Every Kubernetes node and every dedicated load balancer; --hosts on the command line replaces this.
testinfra_hosts = ["ansible://k8s_cluster", "ansible://kube_lb"]

KUBELET_CONF = "/etc/kubernetes/kubelet.conf"
KUBELET_CONFIG = "/var/lib/kubelet/config.yaml"
ADMIN_CONF = "/etc/kubernetes/admin.conf"
KEEPALIVED_CONF = "/etc/keepalived/keepalived.conf"
KEEPALIVED_CHECK = "/etc/keepalived/kubeha-check.sh"
HAPROXY_CFG = "/etc/haproxy/haproxy.cfg"
HAPROXY_SOCKET = "/run/haproxy/admin.sock"
KUBE_BINARIES = ("kubeadm", "kubelet", "kubectl")
# A kubeadm bootstrap token ([a-z0-9]{6}.[a-z0-9]{16}) as a word of its own.
TOKEN_RE = r"(^|[^a-z0-9])[a-z0-9]{6}\.[a-z0-9]{16}([^a-z0-9]|$)"
# Where a join configuration or token could be left: the roles' configuration directories are under /etc/kubernetes
# (control_plane_config_dir, membership_config_dir); /etc/kubeha is searched too when it exists.
CONFIG_DIRS = ("/etc/kubernetes", "/etc/kubeha")


def _listening(host, port, address=None):
    """Whether something listens on TCP port at address (or on every address, which covers it)."""
    wanted = {f"tcp://0.0.0.0:{port}", f"tcp://:::{port}"}
    if address:
        wanted.add(f"tcp://{address}:{port}")
    return bool(wanted & set(host.socket.get_listening_sockets()))


def _runtime_units(kubeha):
    runtime = kubeha.setting("kubeha_container_runtime")
    if runtime == "docker":
        return ["docker", "cri-docker"]
    if runtime == "crio":
        return ["crio"]
    return ["containerd"]


def _root_file(host, path, mode=0o600):
    """path is a regular file of root's with this mode (0600 by default: root alone may read it)."""
    f = host.file(path)
    assert f.is_file, f"{path} is missing"
    assert (f.user, f.group) == ("root", "root"), f"{path} belongs to {f.user}:{f.group}"
    assert f.mode == mode, f"{path} has mode {f.mode:04o}, not {mode:04o}"


# --- every Kubernetes node ----------------------------------------------------------------------------------


def test_runtime_and_kubelet_are_enabled_and_running(host, cluster_node):
    for unit in _runtime_units(cluster_node) + ["kubelet"]:
        service = host.service(unit)
        assert service.is_enabled, f"{unit} is not enabled (it would not come back after a reboot)"
        assert service.is_running, f"{unit} is not running"


def test_kubelet_listens_on_10250(host, cluster_node):
    assert _listening(host, 10250, cluster_node.address), "nothing listens on the kubelet's port 10250"


def test_kubelet_kubeconfig_is_root_only(host, cluster_node):
    _root_file(host, KUBELET_CONF)


def test_kubelet_unit_files_are_root_only(host, cluster_node):
    """CIS 4.1.1: every file systemd reads for the kubelet unit has mode 0600."""
    listing = host.check_output("systemctl cat kubelet.service")
    paths = [line[2:] for line in listing.splitlines() if line.startswith("# /")]
    assert paths, "systemd names no file for kubelet.service"
    for path in paths:
        _root_file(host, path)


def test_forwarding_sysctls_are_set_and_persisted(host, cluster_node):
    assert host.sysctl("net.ipv4.ip_forward") == 1
    # The bridge netfilter switch exists once br_netfilter is loaded (or built in); where it exists it must be on.
    if host.file("/proc/sys/net/bridge/bridge-nf-call-iptables").exists:
        assert host.sysctl("net.bridge.bridge-nf-call-iptables") == 1
    persisted = host.file("/etc/sysctl.d/90-kubeha.conf")
    assert persisted.is_file, "os_prep's sysctl file is missing: the settings would not survive a reboot"
    assert persisted.contains(r"^net\.ipv4\.ip_forward *= *1$")  # grep (BRE): ansible.posix.sysctl writes key=value


def test_cgroup_drivers_agree_on_systemd(host, cluster_node):
    assert host.file(KUBELET_CONFIG).is_file, f"{KUBELET_CONFIG} is missing: the kubelet has no configuration"
    config = yaml.safe_load(host.file(KUBELET_CONFIG).content_string)
    kubelet_driver = config.get("cgroupDriver", "systemd")
    runtime = cluster_node.setting("kubeha_container_runtime")
    if runtime == "docker":
        runtime_driver = host.check_output("docker info --format '{{.CgroupDriver}}'")
    elif runtime == "crio":
        conf = host.file("/etc/crio/crio.conf.d/10-kubeha.conf")
        runtime_driver = "systemd" if conf.contains(r'^cgroup_manager *= *"systemd"') else "cgroupfs"
    else:
        toml = host.file("/etc/containerd/config.toml")
        runtime_driver = "systemd" if toml.contains(r"SystemdCgroup *= *true") else "cgroupfs"
    assert (runtime_driver, kubelet_driver) == ("systemd", "systemd")


def test_kubernetes_binaries_have_the_cluster_version(host, cluster_node):
    version = f"v{cluster_node.setting('kubeha_kubernetes_version')}"
    if cluster_node.setting("kubeha_install_source") == "bundle":
        bin_dir = "/usr/local/bin"
        for name in KUBE_BINARIES:
            _root_file(host, f"{bin_dir}/{name}", mode=0o755)
    else:
        bin_dir = "/usr/bin"
        for name in KUBE_BINARIES:
            package = host.package(name)
            assert package.is_installed, f"package {name} is not installed"
            assert package.version.startswith(f"{version[1:]}-"), f"{name} {package.version}, expected {version}"
    assert host.check_output(f"{bin_dir}/kubeadm version -o short") == version
    assert host.check_output(f"{bin_dir}/kubelet --version") == f"Kubernetes {version}"
    client = json.loads(host.check_output(f"{bin_dir}/kubectl version --client -o json"))
    assert client["clientVersion"]["gitVersion"] == version


def test_kube_packages_are_held(host, cluster_node):
    if cluster_node.setting("kubeha_install_source") == "bundle":
        pytest.skip("installed from the offline bundle: no packages to hold")
    if not cluster_node.setting("kube_packages_hold"):
        pytest.skip("kube_packages_hold is false")
    if host.system_info.distribution not in ("debian", "ubuntu"):
        pytest.skip("the hold is checked with apt-mark (Debian family)")
    held = host.check_output("apt-mark showhold").split()
    assert sorted(set(KUBE_BINARIES) - set(held)) == []


def test_no_join_configuration_or_token_is_left(host, kubeha):
    for directory in sorted({kubeha.setting("control_plane_config_dir"), kubeha.setting("membership_config_dir")}):
        assert not host.file(f"{directory}/join.yaml").exists, f"{directory}/join.yaml was left behind"
    assert not host.file("/etc/kubernetes/bootstrap-kubelet.conf").exists
    directories = [d for d in CONFIG_DIRS if host.file(d).is_directory]
    assert directories, f"none of {CONFIG_DIRS} exists: is this host converged?"
    # grep -l: file names only, the secret itself must not land in the test output. rc 1 is "no match".
    for pattern, what in ((TOKEN_RE, "a bootstrap token"), ("certificateKey", "a certificate key")):
        found = host.run("grep -rlE " + " ".join(["%s"] * (len(directories) + 1)), pattern, *directories)
        assert found.rc == 1, f"files holding {what}: {found.stdout or found.stderr}"


# --- control planes -----------------------------------------------------------------------------------------


def test_admin_kubeconfigs_are_root_only(host, control_plane):
    _root_file(host, ADMIN_CONF)
    _root_file(host, "/root/.kube/config")


def test_api_server_and_etcd_listen(host, control_plane):
    address = control_plane.address
    assert _listening(host, int(control_plane.setting("kubeha_apiserver_port")), address), "API server"
    assert _listening(host, 2379, address), "etcd client port 2379"
    assert _listening(host, 2380, address), "etcd peer port 2380"


def test_static_pod_manifests_are_in_place(host, control_plane):
    for name in ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        assert host.file(f"/etc/kubernetes/manifests/{name}.yaml").is_file, f"no static pod manifest for {name}"


def _manifest_args(host, name):
    """The command-line flags of a static pod's first container, as a dict (--flag=value; a bare --flag is "")."""
    manifest = yaml.safe_load(host.file(f"/etc/kubernetes/manifests/{name}.yaml").content_string)
    args = {}
    for arg in manifest["spec"]["containers"][0]["command"][1:]:
        key, _sep, value = arg.partition("=")
        args[key.lstrip("-")] = value
    return args


def test_profiling_is_off_on_every_control_plane_component(host, control_plane):
    """CIS 1.2.17, 1.3.2, 1.4.1 (control_plane_profiling)."""
    wanted = "true" if control_plane.setting("control_plane_profiling") else "false"
    for name in ("kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        assert _manifest_args(host, name).get("profiling", "true") == wanted, f"{name}: --profiling is not {wanted}"


def test_api_server_writes_a_rotated_audit_log(host, control_plane):
    """CIS 1.2.18-1.2.21 (control_plane_audit_log*): the flags, the root-only policy, a log that is being written."""
    if not control_plane.setting("control_plane_audit_log"):
        pytest.skip("control_plane_audit_log is false")
    args = _manifest_args(host, "kube-apiserver")
    log_dir = control_plane.setting("control_plane_audit_log_dir")
    assert args.get("audit-log-path") == f"{log_dir}/audit.log"
    assert args.get("audit-policy-file") == "/etc/kubernetes/audit/policy.yaml"
    assert int(args["audit-log-maxage"]) >= 30 and int(args["audit-log-maxbackup"]) >= 10 \
        and int(args["audit-log-maxsize"]) >= 100, args
    _root_file(host, "/etc/kubernetes/audit/policy.yaml")
    policy = yaml.safe_load(host.file("/etc/kubernetes/audit/policy.yaml").content_string)
    assert policy == control_plane.setting("control_plane_audit_policy"), "the policy is not the inventory's"
    assert host.file(log_dir).mode == 0o700, f"{log_dir} is not 0700"
    log = host.file(f"{log_dir}/audit.log")
    assert log.is_file and log.size > 0, f"{log_dir}/audit.log is missing or empty"


def test_api_server_encrypts_secrets_with_a_root_only_key(host, control_plane):
    """CIS 1.2.29, 1.2.30 (control_plane_encryption_at_rest): aescbc first, a 32-byte key, readable by root alone."""
    if not control_plane.setting("control_plane_encryption_at_rest"):
        pytest.skip("control_plane_encryption_at_rest is false")
    path = "/etc/kubernetes/encryption/config.yaml"
    assert _manifest_args(host, "kube-apiserver").get("encryption-provider-config") == path
    _root_file(host, path)
    assert host.file("/etc/kubernetes/encryption").mode == 0o700
    config = yaml.safe_load(host.file(path).content_string)
    first = config["resources"][0]
    assert "secrets" in first["resources"], first["resources"]
    # Booleans only: pytest would print the values of a failed comparison, and these are keys.
    sizes_ok = bool(first["providers"][0]["aescbc"]["keys"]) and all(
        len(base64.b64decode(k["secret"])) == 32 for k in first["providers"][0]["aescbc"]["keys"])
    assert sizes_ok, "no aescbc key, or one that is not 32 bytes"
    identity_last = first["providers"][-1] == {"identity": {}}
    assert identity_last, "identity is not the last provider"


def test_etcd_data_directory_belongs_to_the_etcd_owner(host, control_plane):
    """CIS 1.1.11, 1.1.12 (kubeha_etcd_data_owner)."""
    owner = control_plane.setting("kubeha_etcd_data_owner")
    data = host.file("/var/lib/etcd")
    assert data.is_directory and (data.user, data.group) == (owner, owner), f"/var/lib/etcd is {data.user}:{data.group}"
    assert data.mode == 0o700, f"/var/lib/etcd has mode {data.mode:04o}"
    if owner != "root":
        assert host.user(owner).shell in ("/usr/sbin/nologin", "/sbin/nologin", "/bin/false"), "etcd's user can log in"


def test_no_join_token_or_uploaded_certificates_are_left(host, control_plane):
    if control_plane.name != sorted(control_plane.vars["groups"]["kube_control_plane"])[0]:
        pytest.skip("the cluster's secrets are read once, on the first control plane")
    bin_dir = "/usr/local/bin" if control_plane.setting("kubeha_install_source") == "bundle" else "/usr/bin"
    kubectl = f"{bin_dir}/kubectl --kubeconfig {ADMIN_CONF} -n kube-system"
    # Descriptions only (base64 in the secret's data), never the token secrets.
    listing = host.check_output(
        kubectl + " get secrets --field-selector type=bootstrap.kubernetes.io/token"
        " -o jsonpath='{range .items[*]}{.metadata.name}={.data.description}{\"\\n\"}{end}'")
    descriptions = {}
    for line in listing.splitlines():
        name, _sep, encoded = line.partition("=")
        descriptions[name] = base64.b64decode(encoded).decode() if encoded else ""
    wanted = {control_plane.setting("membership_token_description")}
    assert not [n for n, d in descriptions.items() if d in wanted], f"join tokens left: {descriptions}"
    certs = host.run(kubectl + " get secret kubeadm-certs -o name")
    assert certs.rc != 0 and "NotFound" in certs.stderr, "the uploaded certificates (kubeadm-certs) are left"


# --- workers ------------------------------------------------------------------------------------------------


def test_workers_hold_no_admin_credentials(host, worker):
    assert not host.file(ADMIN_CONF).exists, f"a worker has {ADMIN_CONF}: cluster-admin on every node"
    assert not _listening(host, 2379, worker.address), "etcd listens on a worker"


# --- load balancers (kube_lb, else the control planes) ------------------------------------------------------


def test_haproxy_and_keepalived_are_enabled_and_running(host, load_balancer):
    for unit in ("haproxy", "keepalived"):
        service = host.service(unit)
        assert service.is_enabled, f"{unit} is not enabled"
        assert service.is_running, f"{unit} is not running"


def test_load_balancer_files_have_their_modes(host, load_balancer):
    # keepalived.conf holds the VRRP password.
    _root_file(host, KEEPALIVED_CONF)
    _root_file(host, KEEPALIVED_CHECK, mode=0o700)
    _root_file(host, HAPROXY_CFG, mode=0o644)


def test_haproxy_listens_on_the_api_port(host, load_balancer):
    bind = load_balancer.setting("loadbalancer_haproxy_bind_address")
    assert _listening(host, int(load_balancer.setting("kubeha_api_port")), None if bind == "*" else bind)


_SHOW_STAT = (
    "import socket; s = socket.socket(socket.AF_UNIX); s.connect('%s'); s.sendall(b'show stat\\n'); "
    "print(b''.join(iter(lambda: s.recv(65536), b'')).decode())" % HAPROXY_SOCKET
)


def test_haproxy_sees_every_api_server_up(host, load_balancer):
    expected = sorted(load_balancer.vars.get("groups", {}).get("kube_control_plane", []))

    def servers():
        # The stats socket is root's (and haproxy's); python3 is on every host Ansible manages.
        stat = host.check_output("python3 -c %s", _SHOW_STAT)
        rows = [line.split(",") for line in stat.splitlines() if line and not line.startswith("#")]
        return {r[1]: r[17] for r in rows if r[1] not in ("FRONTEND", "BACKEND")}

    # A server is UP after two passing health checks (3 s apart), so give a fresh converge a moment.
    deadline = time.monotonic() + 30
    while True:
        seen = servers()
        if (sorted(seen) == expected and set(seen.values()) == {"UP"}) or time.monotonic() > deadline:
            break
        time.sleep(3)
    assert sorted(seen) == expected, f"haproxy's servers {sorted(seen)}, control planes {expected}"
    assert set(seen.values()) == {"UP"}, f"haproxy's view: {seen}"
