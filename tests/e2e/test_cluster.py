"""The HA cluster site.yml built in the lab: nodes, etcd, the API behind haproxy and the VIP, networking.

Host-level state (services, file modes, ports, haproxy's view of the API servers) is tests/testinfra's.
"""

from __future__ import annotations

import base64
import json
import secrets
import subprocess
import textwrap

import yaml

import lab


def _node_ready(node):
    return any(c["type"] == "Ready" and c["status"] == "True" for c in node["status"]["conditions"])


def test_every_inventory_host_is_a_ready_node_on_docker(hosts):
    nodes = lab.kubectl_json("get", "nodes")["items"]
    names = sorted(n["metadata"]["name"] for n in nodes)
    assert names == sorted(hosts["control_plane"] + hosts["node"])
    for node in nodes:
        assert _node_ready(node), f"node {node['metadata']['name']} is not Ready"
        runtime = node["status"]["nodeInfo"]["containerRuntimeVersion"]
        assert runtime.startswith("docker://"), f"{node['metadata']['name']} runs {runtime}"
        assert node["status"]["nodeInfo"]["kubeletVersion"] == f"v{lab.VERSION}"
    wide = lab.kubectl("get", "nodes", "-o", "wide").stdout
    assert wide.count("docker://") == len(names)


def test_control_planes_carry_the_control_plane_role(hosts):
    selected = lab.kubectl_json("get", "nodes", "-l", "node-role.kubernetes.io/control-plane")["items"]
    assert sorted(n["metadata"]["name"] for n in selected) == hosts["control_plane"]


def test_etcd_has_one_healthy_member_per_control_plane(hosts):
    pod = f"etcd-{hosts['control_plane'][0]}"
    certs = ["--cacert=/etc/kubernetes/pki/etcd/ca.crt", "--cert=/etc/kubernetes/pki/etcd/peer.crt",
             "--key=/etc/kubernetes/pki/etcd/peer.key", "--endpoints=https://127.0.0.1:2379"]
    members = json.loads(lab.kubectl("-n", "kube-system", "exec", pod, "--", "etcdctl", *certs,
                                     "member", "list", "-w", "json").stdout)["members"]
    assert sorted(m["name"] for m in members) == hosts["control_plane"]
    health = lab.kubectl("-n", "kube-system", "exec", pod, "--", "etcdctl", *certs,
                         "endpoint", "health", "--cluster", "-w", "json").stdout
    results = json.loads(health)
    assert len(results) == len(hosts["control_plane"])
    assert all(r["health"] for r in results), health


def test_every_api_server_is_an_endpoint_and_answers(hosts):
    expected = sorted(hosts["hostvars"][h]["ansible_host"] for h in hosts["control_plane"])

    def addresses():
        endpoints = lab.kubectl_json("-n", "default", "get", "endpoints", "kubernetes")
        return sorted(a["ip"] for s in endpoints["subsets"] for a in s["addresses"])

    # An API server adds itself to the endpoints once it is ready; the last one joined seconds ago.
    lab.wait_for(lambda: addresses() == expected, 90, what=f"the kubernetes endpoints to be {expected}")
    for host in hosts["control_plane"]:
        pod = lab.kubectl_json("-n", "kube-system", "get", "pod", f"kube-apiserver-{host}")
        assert pod["status"]["phase"] == "Running"


def test_kubectl_goes_through_the_vip():
    config = yaml.safe_load(lab.KUBECONFIG.read_text())
    server = config["clusters"][0]["cluster"]["server"]
    inventory_vars = lab.lab_hosts()["hostvars"]
    vip = next(iter(inventory_vars.values()))["kubeha_api_vip"]
    assert server.startswith(f"https://{vip}:"), server
    version = json.loads(lab.kubectl("version", "-o", "json").stdout)
    assert version["serverVersion"]["gitVersion"] == f"v{lab.VERSION}"


def _apply(manifest):
    lab.kubectl("apply", "-f", "-", input_text=textwrap.dedent(manifest))


def _web_pod(namespace, image, name, node):
    _apply(f"""
        apiVersion: v1
        kind: Pod
        metadata: {{name: {name}, namespace: {namespace}, labels: {{app: {name}}}}}
        spec:
          nodeName: {node}
          containers:
          - name: web
            image: {image}
            imagePullPolicy: Never
            command: {lab.WEB_SERVER_COMMAND}
            ports: [{{containerPort: 8080}}]
        """)


def test_dns_pod_network_and_services(hosts, namespace, test_image):
    first, second = hosts["node"][0], hosts["node"][-1]
    if first == second:
        second = hosts["control_plane"][0]
    _web_pod(namespace, test_image, "web-a", first)
    _web_pod(namespace, test_image, "web-b", second)
    _apply(f"""
        apiVersion: v1
        kind: Service
        metadata: {{name: web-b, namespace: {namespace}}}
        spec:
          type: NodePort
          selector: {{app: web-b}}
          ports: [{{port: 80, targetPort: 8080}}]
        """)
    lab.kubectl("-n", namespace, "wait", "--for=condition=Ready", "pod/web-a", "pod/web-b", "--timeout=180s",
                timeout=200)
    pod_b = lab.kubectl_json("-n", namespace, "get", "pod", "web-b")
    assert pod_b["spec"]["nodeName"] != lab.kubectl_json("-n", namespace, "get", "pod", "web-a")["spec"]["nodeName"]

    def in_a(*argv):
        return lab.kubectl("-n", namespace, "exec", "web-a", "--", *argv, timeout=60).stdout

    def http_from_a(host, port):
        # busybox-static's wget dies with SIGSEGV (glibc NSS in a static binary); nc and a raw request do not.
        reply = in_a("sh", "-c", f'printf "GET / HTTP/1.0\\r\\n\\r\\n" | busybox nc -w 5 {host} {port}')
        head, _sep, body = reply.replace("\r\n", "\n").partition("\n\n")
        assert head.startswith("HTTP/1.") and " 200 " in head.splitlines()[0], reply
        return body.strip()

    # CoreDNS answers for the API service from inside a pod.
    answer = lab.wait_for(lambda: in_a("nslookup", "kubernetes.default.svc.cluster.local"), 60,
                          what="kubernetes.default to resolve")
    assert "10.96.0.1" in answer or "Address" in answer, answer
    # Pod to pod across nodes over the overlay.
    assert http_from_a(pod_b["status"]["podIP"], 8080) == "web-b"
    # ClusterIP Service by name.
    assert lab.wait_for(lambda: http_from_a("web-b", 80) == "web-b", 60, what="the ClusterIP service to answer")
    # NodePort from outside the cluster (this machine is on the lab network), on a node that runs no backend.
    node_port = lab.kubectl_json("-n", namespace, "get", "service", "web-b")["spec"]["ports"][0]["nodePort"]
    node_ip = hosts["hostvars"][first]["ansible_host"]
    body = lab.wait_for(lambda: lab.run(["curl", "-sf", "--max-time", "5", f"http://{node_ip}:{node_port}/"]).stdout,
                        60, what="the NodePort to answer")
    assert body.strip() == "web-b"


def test_a_request_through_the_vip_is_in_an_api_servers_audit_log(hosts):
    """CIS 1.2.18 (control_plane_audit_log): the audit log records who asked what, at Metadata level (no body)."""
    name = "kubeha-audit-" + secrets.token_hex(6)
    lab.kubectl("-n", "default", "create", "configmap", name, "--from-literal=probe=kubeha-audit-body-" + name)
    try:
        log = "/var/log/kubernetes/audit/audit.log"

        def entries():
            found = []
            for host in hosts["control_plane"]:
                out = lab.docker_exec(lab.container_of(host), "grep", "-h", name, log, check=False).stdout
                found += [(host, json.loads(line)) for line in out.splitlines() if line.strip()]
            return found

        lab.wait_for(lambda: any(e["verb"] == "create" for _host, e in entries()), 30, what=f"an audit entry for {name}")
        created = [(h, e) for h, e in entries() if e["verb"] == "create"]
        host, entry = created[0]
        assert entry["objectRef"]["resource"] == "configmaps" and entry["objectRef"]["name"] == name, entry
        assert entry["level"] == "Metadata" and entry["responseStatus"]["code"] == 201, entry
        assert entry["user"]["username"] == "kubernetes-admin", entry["user"]
        assert not any("kubeha-audit-body-" + name in json.dumps(e) for _host, e in entries()), \
            "a request body reached the audit log"
    finally:
        lab.kubectl("-n", "default", "delete", "configmap", name, "--ignore-not-found")


ETCD_CERTS = ["--cacert=/etc/kubernetes/pki/etcd/ca.crt", "--cert=/etc/kubernetes/pki/etcd/peer.crt",
              "--key=/etc/kubernetes/pki/etcd/peer.key", "--endpoints=https://127.0.0.1:2379"]


def etcd_raw(via, key):
    """The bytes etcd stores under key, read with etcdctl in the etcd pod of `via` (never decoded by the API)."""
    proc = subprocess.run([lab.KUBECTL, "--kubeconfig", lab.KUBECONFIG, "-n", "kube-system", "exec", f"etcd-{via}",
                           "--", "etcdctl", *ETCD_CERTS, "get", key, "--print-value-only"],
                          capture_output=True, timeout=120, check=True)
    return proc.stdout


def encryption_key_names(host):
    """The names (never the secrets) of the aescbc keys in a control plane's encryption configuration, in order."""
    text = lab.docker_exec(lab.container_of(host), "cat", "/etc/kubernetes/encryption/config.yaml").stdout
    return [k["name"] for k in yaml.safe_load(text)["resources"][0]["providers"][0]["aescbc"]["keys"]]


def test_a_secret_is_stored_encrypted_in_etcd(hosts):
    """CIS 1.2.29, 1.2.30 (control_plane_encryption_at_rest): etcd holds the Secret as aescbc ciphertext under the
    key that encrypts (the first of the configuration), not its data."""
    name = "kubeha-enc-" + secrets.token_hex(6)
    value = "kubeha-plain-" + secrets.token_hex(8)
    lab.kubectl("-n", "default", "create", "secret", "generic", name, f"--from-literal=probe={value}")
    try:
        first = hosts["control_plane"][0]
        raw = etcd_raw(first, f"/registry/secrets/default/{name}")
        key = encryption_key_names(first)[0]
        assert raw.startswith(f"k8s:enc:aescbc:v1:{key}:".encode()), raw[:40]
        assert value.encode() not in raw, "the Secret's data is in etcd in plain text"
        read = lab.kubectl_json("-n", "default", "get", "secret", name)["data"]["probe"]
        assert base64.b64decode(read).decode() == value, "the API does not give the Secret back"
    finally:
        lab.kubectl("-n", "default", "delete", "secret", name, "--ignore-not-found")
