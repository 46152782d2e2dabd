# -*- coding: utf-8 -*-

# Copyright (c) 2026, the kubeha.cluster authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Shared code for the kubeadm_token and kubeadm_certificate_key modules.

Everything here is pure Python (standard library only) except the AES-GCM part, which needs the
``cryptography`` package and says so through ``HAS_CRYPTOGRAPHY``. Nothing in this file ever puts a
secret into a process's arguments or into an error message.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import datetime
import hashlib
import json
import os
import re
import secrets
import string
import tempfile

try:
    from cryptography import x509
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
except ImportError:  # pragma: no cover - exercised on hosts without cryptography
    HAS_CRYPTOGRAPHY = False
    InvalidTag = None
    AESGCM = None
    x509 = serialization = None
else:
    HAS_CRYPTOGRAPHY = True

try:
    import yaml
except ImportError:  # pragma: no cover - exercised on hosts without PyYAML
    HAS_YAML = False
else:
    HAS_YAML = True


# --- Formats (k8s.io/cluster-bootstrap/token/api and kubeadm's validation) --------------------------------

TOKEN_RE = re.compile(r"\A([a-z0-9]{6})\.([a-z0-9]{16})\Z")
TOKEN_ID_RE = re.compile(r"\A[a-z0-9]{6}\Z")
GROUP_RE = re.compile(r"\Asystem:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]\Z")
CERTIFICATE_KEY_RE = re.compile(r"\A[0-9a-fA-F]{64}\Z")
TOKEN_USAGES = ("authentication", "signing")
DEFAULT_GROUP = "system:bootstrappers:kubeadm:default-node-token"

# The token that `kubeadm init phase upload-certs` creates to own the kubeadm-certs secret.
PROXY_TOKEN_DESCRIPTION = "Proxy for managing TTL for the kubeadm-certs secret"
KUBEADM_CERTS_SECRET = "kubeadm-certs"
BOOTSTRAP_TOKEN_SECRET_PREFIX = "bootstrap-token-"

# CRI sockets in the order the modules pick one when none is given. kubeadm does not talk to the runtime
# for the commands these modules run; the socket only stops its auto-detection, which fails on a Docker
# host ("Found multiple CRI endpoints on the host") because containerd.sock and cri-dockerd.sock both exist.
KNOWN_CRI_SOCKETS = (
    "unix:///var/run/cri-dockerd.sock",
    "unix:///run/containerd/containerd.sock",
    "unix:///var/run/crio/crio.sock",
)

AES_GCM_NONCE_SIZE = 12
AES_GCM_TAG_SIZE = 16
CERTIFICATE_KEY_BYTES = 32

_TOKEN_ALPHABET = string.digits + string.ascii_lowercase
_DURATION_RE = re.compile(r"(\d+(?:\.\d+)?)(h|m|s)")
_DURATION_UNITS = {"h": 3600, "m": 60, "s": 1}


def kubeadm_argument_spec(**options):
    """The argument spec of a module that runs kubeadm through Kube: the options every such module shares
    (doc fragment kubeha.cluster.kubeadm) plus the module's own ``options``."""
    spec = dict(
        kubeconfig=dict(type="path", default="/etc/kubernetes/admin.conf"),
        cri_socket=dict(type="str"),
        kubeadm_path=dict(type="path"),
    )
    spec.update(options)
    return spec


class KubeadmError(Exception):
    """An error whose message is meant for the user (already says what is wrong and how to fix it)."""


# --- Time ------------------------------------------------------------------------------------------------

def utcnow():
    """The current time, timezone-aware (a function so that tests can pin it)."""
    return datetime.datetime.now(datetime.timezone.utc)


def parse_duration(value, name="duration"):
    """Parse a Go-style duration (``1h``, ``30m``, ``1h30m``, ``90s``, ``2h0m0s``) or bare seconds into seconds.

    Returns an int. Raises ValueError with a message naming ``name`` when the value is malformed.
    """
    text = str(value).strip()
    if re.match(r"\A\d+\Z", text):
        return int(text)
    if not text or _DURATION_RE.sub("", text) != "":
        raise ValueError(
            "%s %r is not a duration: use a number of seconds or Go duration syntax such as 45m, 2h or 1h30m" % (name, text))
    seconds = 0.0
    for number, unit in _DURATION_RE.findall(text):
        seconds += float(number) * _DURATION_UNITS[unit]
    return int(seconds)


def format_duration(seconds):
    """Render seconds the way Go prints a time.Duration (``1h30m0s``), for messages and kubeadm configs."""
    seconds = int(seconds)
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return "%s%dh%dm%ds" % (sign, hours, minutes, secs)
    if minutes:
        return "%s%dm%ds" % (sign, minutes, secs)
    return "%s%ds" % (sign, secs)


_RFC3339_RE = re.compile(
    r"\A(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|z|[+-]\d{2}:\d{2})\Z")


def parse_rfc3339(value):
    """Parse an RFC 3339 timestamp with any offset (old kubeadm wrote local offsets) into an aware datetime."""
    match = _RFC3339_RE.match(str(value).strip())
    if not match:
        raise ValueError("%r is not an RFC 3339 timestamp" % (value,))
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    if offset in ("Z", "z"):
        tz = datetime.timezone.utc
    else:
        sign = 1 if offset[0] == "+" else -1
        tz = datetime.timezone(sign * datetime.timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6])))
    stamp = datetime.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tzinfo=tz)
    return stamp.astimezone(datetime.timezone.utc)


def format_rfc3339(stamp):
    """Render an aware datetime as kubeadm does (UTC, second precision, ``Z``)."""
    if stamp is None:
        return None
    return stamp.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- Bootstrap tokens ------------------------------------------------------------------------------------

def generate_token():
    """A new bootstrap token ``[a-z0-9]{6}.[a-z0-9]{16}`` from the operating system's CSPRNG."""
    token_id = "".join(secrets.choice(_TOKEN_ALPHABET) for dummy in range(6))
    token_secret = "".join(secrets.choice(_TOKEN_ALPHABET) for dummy in range(16))
    return "%s.%s" % (token_id, token_secret)


def generate_certificate_key():
    """A new kubeadm certificate key: 32 random bytes from the CSPRNG as 64 lowercase hex characters."""
    return secrets.token_hex(CERTIFICATE_KEY_BYTES)


class BootstrapToken:
    """One bootstrap token as `kubeadm token list -o json` describes it."""

    def __init__(self, token, description="", expires=None, usages=None, groups=None):
        match = TOKEN_RE.match(token or "")
        if not match:
            raise ValueError("a listed token is not of the form [a-z0-9]{6}.[a-z0-9]{16}")
        self.token = token
        self.token_id = match.group(1)
        self.description = description or ""
        self.expires = expires
        self.usages = sorted(usages or [])
        self.groups = sorted(groups or [])

    @classmethod
    def from_output(cls, obj):
        """Build from one object of the output API (output.kubeadm.k8s.io/v1alpha2 or v1alpha3)."""
        if not isinstance(obj, dict):
            raise ValueError("expected a JSON object per token, got %s" % type(obj).__name__)
        expires = obj.get("expires")
        return cls(
            token=obj.get("token"),
            description=obj.get("description", ""),
            expires=parse_rfc3339(expires) if expires else None,
            usages=obj.get("usages"),
            groups=obj.get("groups"),
        )

    def seconds_left(self, now):
        """Seconds until expiry (negative once expired), or None for a token that never expires."""
        if self.expires is None:
            return None
        return int((self.expires - now).total_seconds())

    def public(self, now=None):
        """Everything about the token except its secret half."""
        info = dict(
            token_id=self.token_id,
            description=self.description,
            expires=format_rfc3339(self.expires),
            usages=list(self.usages),
            groups=list(self.groups),
        )
        if now is not None:
            info["expires_in"] = self.seconds_left(now)
        return info


def _split_json_stream(text):
    decoder = json.JSONDecoder()
    index, end = 0, len(text)
    while True:
        while index < end and text[index].isspace():
            index += 1
        if index >= end:
            return
        try:
            obj, index = decoder.raw_decode(text, index)
        except ValueError as exc:
            # Never echo the document: it holds token secrets. Position information is enough.
            raise ValueError("kubeadm token list printed malformed JSON at character %d (%s)"
                             % (index, getattr(exc, "msg", "parse error")))
        yield obj


def parse_token_list(text):
    """Parse `kubeadm token list -o json` output into BootstrapToken objects.

    kubeadm prints one indented JSON object per token, one after another (a stream, not an array), and
    nothing at all when there are no tokens. A JSON array or a ``kind: List`` object is accepted too.
    """
    tokens = []
    for obj in _split_json_stream(text or ""):
        items = obj
        if isinstance(obj, dict) and isinstance(obj.get("items"), list):
            items = obj["items"]
        if not isinstance(items, list):
            items = [items]
        for item in items:
            if isinstance(item, dict) and item.get("kind") not in (None, "BootstrapToken"):
                raise ValueError("kubeadm token list printed an object of kind %r, expected BootstrapToken"
                                 % (item.get("kind"),))
            tokens.append(BootstrapToken.from_output(item))
    return tokens


def validate_groups(groups, usages):
    """Apply kubeadm's own validation of token groups; return a list of problems (empty when fine)."""
    problems = []
    for group in groups:
        if not GROUP_RE.match(group):
            problems.append("group %r does not match %s" % (group, GROUP_RE.pattern.replace("\\A", "^").replace("\\Z", "$")))
    if groups and "authentication" not in usages:
        problems.append("groups can only be given when usages include authentication")
    return problems


# --- CA certificate hashes (kubeadm's pubkeypin: sha256 of the raw SubjectPublicKeyInfo) -------------------

_PEM_CERT_RE = re.compile(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", re.S)


def spki_from_certificate(der):
    """The DER SubjectPublicKeyInfo of a DER X.509 certificate (the bytes Go's RawSubjectPublicKeyInfo holds: DER is
    canonical, so the re-encoding by the cryptography library is the same)."""
    certificate = x509.load_der_x509_certificate(bytes(der))
    return certificate.public_key().public_bytes(serialization.Encoding.DER,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)


def ca_cert_hashes(pem):
    """Return ``sha256:<hex>`` for every certificate in a PEM bundle, in file order (kubeadm's pins)."""
    if not HAS_CRYPTOGRAPHY:
        raise ValueError("hashing the CA certificate needs the Python cryptography package on this host "
                         "(Debian and RHEL: python3-cryptography)")
    if isinstance(pem, bytes):
        pem = pem.decode("ascii", "replace")
    hashes = []
    for number, block in enumerate(_PEM_CERT_RE.findall(pem), 1):
        try:
            der = base64.b64decode("".join(block.split()), validate=True)
            spki = spki_from_certificate(der)
        except (ValueError, binascii.Error, IndexError) as exc:
            raise ValueError("certificate %d of the bundle is malformed: %s" % (number, exc))
        hashes.append("sha256:" + hashlib.sha256(spki).hexdigest())
    if not hashes:
        raise ValueError("no PEM certificate found")
    return hashes


# --- kubeadm-certs (cmd/kubeadm/app/util/crypto: nonce(12) || ciphertext || tag(16), no AAD) ---------------

class WrongKeyError(Exception):
    """The data does not decrypt with the key (the AES-GCM tag does not verify)."""


def _key_bytes(key_hex):
    if not CERTIFICATE_KEY_RE.match(key_hex or ""):
        raise ValueError("a certificate key is 64 hexadecimal characters (32 bytes)")
    return binascii.unhexlify(key_hex)


def encrypt_kubeadm_data(plaintext, key_hex, nonce=None):
    """Encrypt as kubeadm's EncryptBytes does. Needs cryptography."""
    if not HAS_CRYPTOGRAPHY:
        raise KubeadmError("the Python cryptography package is needed for AES-GCM")
    nonce = os.urandom(AES_GCM_NONCE_SIZE) if nonce is None else nonce
    if len(nonce) != AES_GCM_NONCE_SIZE:
        raise ValueError("the nonce must be %d bytes" % AES_GCM_NONCE_SIZE)
    return nonce + AESGCM(_key_bytes(key_hex)).encrypt(nonce, plaintext, None)


def decrypt_kubeadm_data(blob, key_hex):
    """Decrypt as kubeadm's DecryptBytes does. Raises WrongKeyError when the tag does not verify."""
    if not HAS_CRYPTOGRAPHY:
        raise KubeadmError("the Python cryptography package is needed for AES-GCM")
    key = _key_bytes(key_hex)
    if len(blob) < AES_GCM_NONCE_SIZE + AES_GCM_TAG_SIZE:
        raise WrongKeyError("the data is shorter than a nonce and a tag")
    try:
        return AESGCM(key).decrypt(blob[:AES_GCM_NONCE_SIZE], blob[AES_GCM_NONCE_SIZE:], None)
    except InvalidTag:
        raise WrongKeyError("the data does not decrypt with this key")


def kubeadm_certs_files(pki_dir, external_etcd=None):
    """Map each kubeadm-certs entry name to the local file it carries (kubeadm's certsToTransfer)."""
    files = {
        "ca.crt": os.path.join(pki_dir, "ca.crt"),
        "ca.key": os.path.join(pki_dir, "ca.key"),
        "front-proxy-ca.crt": os.path.join(pki_dir, "front-proxy-ca.crt"),
        "front-proxy-ca.key": os.path.join(pki_dir, "front-proxy-ca.key"),
        "sa.pub": os.path.join(pki_dir, "sa.pub"),
        "sa.key": os.path.join(pki_dir, "sa.key"),
    }
    if external_etcd:
        files["external-etcd-ca.crt"] = external_etcd["ca_file"]
        files["external-etcd.crt"] = external_etcd["cert_file"]
        files["external-etcd.key"] = external_etcd["key_file"]
    else:
        files["etcd-ca.crt"] = os.path.join(pki_dir, "etcd", "ca.crt")
        files["etcd-ca.key"] = os.path.join(pki_dir, "etcd", "ca.key")
    return files


def read_local_pki(files):
    """Read the files kubeadm would upload; a missing file is an empty entry, as kubeadm does it."""
    contents = {}
    for name, path in files.items():
        try:
            with open(path, "rb") as handle:
                contents[name] = handle.read()
        except FileNotFoundError:
            contents[name] = b""
        except OSError as exc:
            raise KubeadmError("cannot read %s (%s): run the task as root (become: true) on a control-plane host"
                               % (path, exc.strerror))
    return contents


def verify_kubeadm_certs(secret, key_hex, local):
    """Check a kubeadm-certs secret (kubectl JSON) against a key and the local PKI.

    Returns None when every entry decrypts and equals the local file, else a sentence saying why not.
    Raises WrongKeyError when any entry does not decrypt with the key.
    """
    data = secret.get("data") or {}
    for name in sorted(local):
        if name not in data:
            return "the secret has no entry %s" % name
    for name in sorted(data):
        try:
            blob = base64.b64decode(data[name] or "", validate=True)
        except (binascii.Error, ValueError):
            return "the secret's entry %s is not valid base64" % name
        if not blob:
            plain = b""
        else:
            plain = decrypt_kubeadm_data(blob, key_hex)
        if name in local and plain != local[name]:
            return "the secret's %s differs from the local PKI" % name
    return None


def owner_token_id(secret):
    """The id of the bootstrap token that owns a kubeadm-certs secret (its TTL proxy), or None."""
    for ref in (secret.get("metadata") or {}).get("ownerReferences") or []:
        name = ref.get("name") or ""
        if ref.get("kind") == "Secret" and name.startswith(BOOTSTRAP_TOKEN_SECRET_PREFIX):
            token_id = name[len(BOOTSTRAP_TOKEN_SECRET_PREFIX):]
            if TOKEN_ID_RE.match(token_id):
                return token_id
    return None


def token_secret_expiry(secret):
    """The expiration of a bootstrap-token secret (kubectl JSON), or None when it never expires."""
    raw = (secret.get("data") or {}).get("expiration")
    if not raw:
        return None
    try:
        return parse_rfc3339(base64.b64decode(raw).decode("utf-8"))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise KubeadmError("the bootstrap token secret %s has a malformed expiration"
                           % (secret.get("metadata") or {}).get("name"))


# --- kubeadm configuration files --------------------------------------------------------------------------

def parse_kubeadm_version(text):
    """``v1.25.0`` (from `kubeadm version -o short`) -> (1, 25, 0)."""
    match = re.match(r"\A\s*v?(\d+)\.(\d+)\.(\d+)", text or "")
    if not match:
        raise ValueError("cannot parse kubeadm version %r" % ((text or "").strip(),))
    return tuple(int(part) for part in match.groups())


def kubeadm_config_api(version):
    """The kubeadm configuration API for a kubeadm version tuple."""
    if version >= (1, 31, 0):
        return "kubeadm.k8s.io/v1beta4"
    if version >= (1, 22, 0):
        return "kubeadm.k8s.io/v1beta3"
    return "kubeadm.k8s.io/v1beta2"


def render_kubeadm_config(documents):
    """Render configuration documents as a multi-document file (JSON documents are valid YAML)."""
    return "".join("---\n%s\n" % json.dumps(doc, indent=2, sort_keys=True) for doc in documents)


def pick_cri_socket(requested, exists=os.path.exists):
    """The CRI socket for kubeadm's config: the requested one, else the first known socket present."""
    if requested:
        return requested if "://" in requested else "unix://" + requested
    for socket in KNOWN_CRI_SOCKETS:
        if exists(socket[len("unix://"):]):
            return socket
    return KNOWN_CRI_SOCKETS[0]


def kubeconfig_server(text):
    """The API server (host:port) the kubeconfig's current context points at."""
    server = None
    if HAS_YAML:
        try:
            config = yaml.safe_load(text) or {}
        except yaml.YAMLError:
            raise KubeadmError("the kubeconfig is not valid YAML")
        if isinstance(config, dict):
            clusters = dict((c.get("name"), (c.get("cluster") or {}).get("server"))
                            for c in config.get("clusters") or [] if isinstance(c, dict))
            contexts = dict((c.get("name"), (c.get("context") or {}).get("cluster"))
                            for c in config.get("contexts") or [] if isinstance(c, dict))
            cluster = contexts.get(config.get("current-context"))
            server = clusters.get(cluster)
            if server is None and len(set(clusters.values())) == 1:
                server = list(clusters.values())[0]
    else:
        servers = set(re.findall(r"^\s*server:\s*['\"]?([^'\"\s]+)", text, re.M))
        if len(servers) == 1:
            server = servers.pop()
    if not server:
        raise KubeadmError("cannot tell which API server the kubeconfig points at: set api_server_endpoint")
    return re.sub(r"\A[a-z]+://", "", server).rstrip("/")


# --- Running kubeadm and kubectl ---------------------------------------------------------------------------

_UNREACHABLE = re.compile(
    r"connection refused|unable to connect to the server|no route to host|i/o timeout|"
    r"context deadline exceeded|dial tcp|tls handshake timeout|was refused", re.I)
_UNAUTHORIZED = re.compile(r"unauthorized|forbidden|certificate has expired|x509:", re.I)


def explain_failure(what, rc, stderr, kubeconfig):
    """A message that says what failed and how to fix it (stderr is included; it never carries our secrets)."""
    detail = (stderr or "").strip().splitlines()
    detail = detail[-1] if detail else "no error output"
    if _UNREACHABLE.search(stderr or ""):
        hint = ("the API server named in %s is not reachable: check that kube-apiserver runs on this host and that "
                "the endpoint (VIP or load balancer) answers" % kubeconfig)
    elif _UNAUTHORIZED.search(stderr or ""):
        hint = ("the credentials in %s were refused: use an admin kubeconfig (/etc/kubernetes/admin.conf) "
                "whose client certificate is still valid" % kubeconfig)
    elif detail != "no error output":
        hint = "see stderr for the whole error output"
    else:
        hint = "it printed no error; run the same command by hand on this host to see why"
    return "%s failed (rc=%s): %s. %s." % (what, rc, detail, hint[0].upper() + hint[1:])


class Kube:
    """Runs kubeadm and kubectl for a module: list argv, C locale, secrets only in 0600 files."""

    def __init__(self, module, kubeconfig, kubeadm_path=None, kubectl_path=None):
        self.module = module
        self.kubeconfig = kubeconfig
        self.kubeadm = self._binary("kubeadm", kubeadm_path) if kubeadm_path is not False else None
        self.kubectl = self._binary("kubectl", kubectl_path) if kubectl_path is not False else None
        self._version = None
        module.run_command_environ_update = dict(LANGUAGE="C", LC_ALL="C", LANG="C")

    def _binary(self, name, path):
        if path:
            if os.path.isfile(path) and os.access(path, os.X_OK):
                return path
            self.module.fail_json(msg="%s_path %s is not an executable file: install %s there or point %s_path at it"
                                  % (name, path, name, name))
        found = self.module.get_bin_path(name, required=False, opt_dirs=["/usr/local/bin", "/usr/bin"])
        if not found:
            self.module.fail_json(msg="%s was not found in PATH, /usr/local/bin or /usr/bin: install it on this host "
                                  "(it is part of the Kubernetes packages) or set %s_path" % (name, name))
        return found

    def check_kubeconfig(self):
        path = self.kubeconfig
        if not os.path.exists(path):
            self.module.fail_json(msg="kubeconfig %s does not exist: run this on a control-plane host that has been "
                                  "initialised with kubeadm, or set kubeconfig" % path)
        if not os.access(path, os.R_OK):
            self.module.fail_json(msg="kubeconfig %s is not readable by this user: run the task with become: true" % path)
        try:
            with open(path, "r") as handle:
                return handle.read()
        except (OSError, UnicodeDecodeError) as exc:
            self.module.fail_json(msg="cannot read kubeconfig %s (%s): check the file" % (path, exc))

    def run(self, argv, what):
        rc, out, err = self.module.run_command(argv)
        if rc != 0:
            self.module.fail_json(msg=explain_failure(what, rc, err, self.kubeconfig), rc=rc, stderr=err)
        return out

    def version(self):
        """kubeadm's own version as a tuple (`kubeadm version -o short` works offline)."""
        if self._version is None:
            out = self.run([self.kubeadm, "version", "-o", "short"], "kubeadm version")
            try:
                self._version = parse_kubeadm_version(out)
            except ValueError as exc:
                self.module.fail_json(msg="%s: is %s really kubeadm?" % (exc, self.kubeadm))
        return self._version

    def version_string(self):
        return "v%d.%d.%d" % self.version()

    def list_tokens(self):
        out = self.run([self.kubeadm, "token", "list", "-o", "json", "--kubeconfig", self.kubeconfig],
                       "kubeadm token list")
        try:
            return parse_token_list(out)
        except ValueError as exc:
            self.module.fail_json(msg="cannot parse the output of kubeadm token list: %s" % exc)

    def delete_token(self, token_id):
        """Delete one token by its (public) id; a token that is already gone is fine."""
        rc, dummy, err = self.module.run_command(
            [self.kubeadm, "token", "delete", token_id, "--kubeconfig", self.kubeconfig])
        if rc != 0 and "not found" not in (err or ""):
            self.module.fail_json(msg=explain_failure("kubeadm token delete %s" % token_id, rc, err, self.kubeconfig),
                                  rc=rc, stderr=err)

    def write_private(self, content):
        """Write content to a new 0600 file in the module's private temporary directory; return its path."""
        fd, path = tempfile.mkstemp(prefix="kubeha-", suffix=".yaml", dir=self.module.tmpdir)
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, content.encode("utf-8"))
        finally:
            os.close(fd)
        return path

    def run_with_config(self, argv_before_config, documents, what):
        """Run kubeadm with ``--config <0600 file>``; the file is removed afterwards, whatever happens."""
        path = self.write_private(render_kubeadm_config(documents))
        try:
            return self.run(argv_before_config + ["--config", path], what)
        finally:
            os.remove(path)

    def kubectl_get(self, kind, name, namespace="kube-system"):
        """`kubectl get` as parsed JSON, or None when the object does not exist."""
        rc, out, err = self.module.run_command(
            [self.kubectl, "--kubeconfig", self.kubeconfig, "--request-timeout", "30s",
             "-n", namespace, "get", kind, name, "-o", "json"])
        if rc != 0:
            if re.search(r'\(NotFound\)|"%s" not found' % re.escape(name), err or ""):
                return None
            self.module.fail_json(msg=explain_failure("kubectl get %s %s" % (kind, name), rc, err, self.kubeconfig),
                                  rc=rc, stderr=err)
        try:
            return json.loads(out)
        except ValueError:
            self.module.fail_json(msg="kubectl get %s %s printed something that is not JSON" % (kind, name))

    def kubectl_delete(self, kind, names, namespace="kube-system"):
        self.run([self.kubectl, "--kubeconfig", self.kubeconfig, "--request-timeout", "30s",
                  "-n", namespace, "delete", kind] + list(names) + ["--ignore-not-found"],
                 "kubectl delete %s %s" % (kind, " ".join(names)))
