#!/usr/bin/env python3
"""Helpers for tools/bundle/build and tools/bundle/fetch-release (standard library only).

  bundlectl.py modinfo JSON_FILE FIELD...      print fields of a `go mod download -json` answer
  bundlectl.py staging GOMOD_FILE              staging modules replaced by ./staging/src/k8s.io/X
  bundlectl.py add COMPONENTS_JSONL BUNDLE key=value...   append one component record (sha256 computed)
  bundlectl.py write BUNDLE COMPONENTS_JSONL key=value... write BUNDLE/manifest.json
  bundlectl.py verify BUNDLE [--allow-incomplete] [--no-exec]
                                               check the bundle against its manifest.json

Exit codes: 0 ok, 1 verification failed, 2 usage or input error.
"""
import hashlib
import json
import os
import platform
import re
import stat
import subprocess
import sys
import tarfile

SCHEMA = 1
# files the manifest describes implicitly
META_FILES = {"manifest.json", ".complete"}
REQUIRED_BINARIES = ("kubeadm", "kubelet", "kubectl", "cri-dockerd", "crictl")
REQUIRED_CNI = ("bridge", "host-local", "loopback", "portmap", "flannel")
REQUIRED_UNITS = ("kubelet.service", "10-kubeadm.conf", "cri-docker.service", "cri-docker.socket")
GOARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "ppc64le": "ppc64le", "s390x": "s390x"}


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def kv(args):
    out = {}
    for a in args:
        if "=" not in a:
            sys.exit(f"bundlectl: expected key=value, got {a!r}")
        k, v = a.split("=", 1)
        out[k] = v
    return out


def cmd_modinfo(path, *fields):
    with open(path) as f:
        info = json.load(f)
    for field in fields:
        cur = info
        for part in field.split("."):
            cur = cur.get(part, "") if isinstance(cur, dict) else ""
        print(cur)


def cmd_staging(gomod):
    rx = re.compile(r"^\s*(?:replace\s+)?(k8s\.io/[A-Za-z0-9._/-]+)\s+=>\s+\./staging/src/")
    with open(gomod) as f:
        for line in f:
            m = rx.match(line)
            if m:
                print(m.group(1))


def cmd_add(jsonl, bundle, *args):
    rec = kv(args)
    path = rec["path"]
    full = os.path.join(bundle, path)
    if not os.path.isfile(full):
        sys.exit(f"bundlectl add: {full} does not exist")
    comp = {"name": rec["name"], "type": rec["type"], "path": path}
    if rec.get("image"):
        comp["image"] = rec["image"]
    comp["version"] = rec.get("version", "")
    comp["source"] = {"module": rec.get("module", ""), "version": rec.get("module_version", "")}
    if rec.get("package"):
        comp["source"]["package"] = rec["package"]
    if rec.get("origin"):
        comp["source"]["origin"] = rec["origin"]
    if rec.get("url"):
        comp["source"]["url"] = rec["url"]
    if rec.get("go"):
        comp["source"]["go"] = rec["go"]
    if "pinned" in rec:
        comp["source"]["pinned"] = rec["pinned"] == "true"
    comp["sha256"] = sha256(full)
    with open(jsonl, "a") as f:
        f.write(json.dumps(comp, sort_keys=False) + "\n")


def cmd_write(bundle, jsonl, *args):
    extra = kv(args)
    comps = []
    with open(jsonl) as f:
        for line in f:
            if line.strip():
                comps.append(json.loads(line))
    names = [c["name"] for c in comps]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        sys.exit(f"bundlectl write: duplicate component names {sorted(dup)}")
    doc = {
        "schema": SCHEMA,
        "kubernetes_version": extra.pop("kubernetes_version"),
        "arch": extra.pop("arch"),
        "built_by": extra.pop("built_by", "tools/bundle/build"),
    }
    for key in ("go_version", "created", "recipe", "cri_socket", "pause_image"):
        if key in extra:
            doc[key] = extra.pop(key)
    # image lists the roles template from
    doc["kubeadm_images"] = [i for i in extra.pop("kubeadm_images", "").split(",") if i]
    if "flannel_image" in extra:
        doc["flannel"] = {
            "version": extra.pop("flannel_version"),
            "image": extra.pop("flannel_image"),
            "cni_plugin_image": extra.pop("flannel_cni_plugin_image"),
            "cni_plugin_version": extra.pop("flannel_cni_plugin_version"),
        }
    if extra:
        sys.exit(f"bundlectl write: unknown keys {sorted(extra)}")
    doc["components"] = comps
    tmp = os.path.join(bundle, "manifest.json.tmp")
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, os.path.join(bundle, "manifest.json"))


def normalize_image(ref):
    """Docker's short form of a reference: docker save writes docker.io/x/y:t as x/y:t (library/ dropped too)."""
    for prefix in ("docker.io/library/", "docker.io/"):
        if ref.startswith(prefix):
            return ref[len(prefix):]
    return ref


def image_tags(path):
    """RepoTags of a `docker save` archive (docker-archive / OCI layout written by docker save)."""
    with tarfile.open(path) as t:
        try:
            m = t.extractfile("manifest.json")
        except KeyError:
            return None
        data = json.load(m)
    tags = []
    for entry in data:
        tags.extend(entry.get("RepoTags") or [])
    return tags


def cmd_verify(bundle, *flags):
    allow_incomplete = "--allow-incomplete" in flags
    no_exec = "--no-exec" in flags
    errors = []
    bundle = os.path.abspath(bundle)
    mpath = os.path.join(bundle, "manifest.json")
    if not os.path.isdir(bundle):
        print(f"verify: {bundle}: no such bundle directory", file=sys.stderr)
        return 1
    if not os.path.isfile(mpath):
        print(f"verify: {bundle}: no manifest.json (not a finished bundle)", file=sys.stderr)
        return 1
    if not allow_incomplete and not os.path.isfile(os.path.join(bundle, ".complete")):
        errors.append("no .complete marker: the bundle was never finished")
    try:
        with open(mpath) as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        print(f"verify: manifest.json unreadable: {e}", file=sys.stderr)
        return 1
    if doc.get("schema") != SCHEMA:
        errors.append(f"manifest schema {doc.get('schema')!r}, expected {SCHEMA}")
    kver, arch = doc.get("kubernetes_version", ""), doc.get("arch", "")
    base = os.path.basename(bundle)
    if re.match(r"^v\d+\.\d+\.\d+-[a-z0-9]+$", base) and base != f"{kver}-{arch}":
        errors.append(f"directory {base} does not match manifest {kver}-{arch}")
    comps = doc.get("components") or []
    listed = set()
    by_name = {}
    for c in comps:
        name, path = c.get("name"), c.get("path", "")
        by_name[name] = c
        if not path or os.path.isabs(path) or ".." in path.split("/"):
            errors.append(f"{name}: bad path {path!r}")
            continue
        listed.add(path)
        full = os.path.join(bundle, path)
        if not os.path.isfile(full):
            errors.append(f"{name}: {path} missing")
            continue
        digest = sha256(full)
        if digest != c.get("sha256"):
            errors.append(f"{name}: {path} sha256 {digest} != manifest {c.get('sha256')}")
            continue
        if c.get("type") in ("binary", "cni") and not os.stat(full).st_mode & stat.S_IXUSR:
            errors.append(f"{name}: {path} is not executable")
        if c.get("type") == "image":
            try:
                tags = image_tags(full)
            except (tarfile.TarError, OSError, ValueError) as e:
                errors.append(f"{name}: {path} is not a readable image archive: {e}")
                continue
            if tags is None:
                errors.append(f"{name}: {path} has no manifest.json (not a docker save archive)")
            elif normalize_image(c.get("image", "")) not in {normalize_image(t) for t in tags}:
                errors.append(f"{name}: {path} is tagged {tags}, manifest says {c.get('image')}")
    # every file in the bundle must be described
    for root, _dirs, files in os.walk(bundle):
        for fn in files:
            rel = os.path.relpath(os.path.join(root, fn), bundle)
            if rel not in listed and rel not in META_FILES:
                errors.append(f"{rel}: not listed in manifest.json")
    # the contract the roles rely on
    for b in REQUIRED_BINARIES:
        if f"bin/{b}" not in listed:
            errors.append(f"bin/{b}: required binary not in manifest")
    for p in REQUIRED_CNI:
        if f"cni/{p}" not in listed:
            errors.append(f"cni/{p}: required CNI plugin not in manifest")
    for u in REQUIRED_UNITS:
        if f"systemd/{u}" not in listed:
            errors.append(f"systemd/{u}: required unit not in manifest")
    images = {c.get("image") for c in comps if c.get("type") == "image"}
    for img in doc.get("kubeadm_images") or []:
        if img not in images:
            errors.append(f"kubeadm image {img} has no archive")
    if not doc.get("kubeadm_images"):
        errors.append("manifest lists no kubeadm_images")
    fl = doc.get("flannel") or {}
    for key in ("image", "cni_plugin_image"):
        if fl.get(key) not in images:
            errors.append(f"flannel {key} {fl.get(key)!r} has no archive")
    # run the binaries when they are for this machine
    host_arch = GOARCH.get(platform.machine(), platform.machine())
    if not no_exec and arch == host_arch and not errors:
        checks = [("kubeadm", ["version", "-o", "short"], kver),
                  ("kubelet", ["--version"], f"Kubernetes {kver}"),
                  ("kubectl", ["version", "--client", "-o", "json"], f'"gitVersion": "{kver}"')]
        for b, args, want in checks:
            try:
                out = subprocess.run([os.path.join(bundle, "bin", b)] + args, capture_output=True,
                                     text=True, timeout=60).stdout
            except OSError as e:
                errors.append(f"bin/{b}: cannot run: {e}")
                continue
            if want not in out:
                errors.append(f"bin/{b} {' '.join(args)}: expected {want!r}, got {out.strip()[:200]!r}")
    if errors:
        print(f"verify: {bundle}: FAILED ({len(errors)} problem(s))", file=sys.stderr)
        for e in errors:
            print(f"  - {e}", file=sys.stderr)
        return 1
    print(f"verify: {bundle}: OK ({len(comps)} components, {kver} {arch})", file=sys.stderr)
    return 0


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[1], argv[2:]
    try:
        if cmd == "modinfo":
            cmd_modinfo(*args)
        elif cmd == "staging":
            cmd_staging(*args)
        elif cmd == "add":
            cmd_add(*args)
        elif cmd == "write":
            cmd_write(*args)
        elif cmd == "verify":
            return cmd_verify(*args)
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except TypeError as e:
        print(f"bundlectl {cmd}: bad arguments ({e})", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
