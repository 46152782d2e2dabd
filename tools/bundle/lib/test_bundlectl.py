"""Self-test of bundlectl (manifest writing and verification) on a small fake bundle; no Go, Docker or network.

    python3 -m unittest discover -s tools/bundle/lib -p 'test_*.py'
"""
import io
import json
import os
import platform
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
CTL = os.path.join(HERE, "bundlectl.py")
ARCH = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
KVER = "v1.25.0"


def ctl(*args):
    return subprocess.run([sys.executable, CTL] + list(args), capture_output=True, text=True)


def write(path, text, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def image_tar(path, tag):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with tarfile.open(path, "w") as t:
        data = json.dumps([{"Config": "c.json", "RepoTags": [tag], "Layers": []}]).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))


class BundleTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.b = os.path.join(self.tmp, f"{KVER}-{ARCH}")
        jsonl = os.path.join(self.tmp, "c.jsonl")
        exe = 0o755
        scripts = {
            "kubeadm": f'#!/bin/sh\necho {KVER}\n',
            "kubelet": f'#!/bin/sh\necho "Kubernetes {KVER}"\n',
            "kubectl": f'#!/bin/sh\necho \'{{"clientVersion": {{"gitVersion": "{KVER}"}}}}\'\n',
            "cri-dockerd": "#!/bin/sh\n", "crictl": "#!/bin/sh\n"}
        comps = []
        for name, text in scripts.items():
            write(f"{self.b}/bin/{name}", text, exe)
            comps.append(["name=" + name, "type=binary", "path=bin/" + name, "version=" + KVER])
        for p in ("bridge", "host-local", "loopback", "portmap", "flannel"):
            write(f"{self.b}/cni/{p}", "#!/bin/sh\n", exe)
            comps.append(["name=cni-" + p, "type=cni", "path=cni/" + p])
        for u in ("kubelet.service", "10-kubeadm.conf", "cri-docker.service", "cri-docker.socket"):
            write(f"{self.b}/systemd/{u}", "[Unit]\n")
            comps.append(["name=systemd-" + u, "type=systemd", "path=systemd/" + u])
        self.images = {"pause": "registry.k8s.io/pause:3.8", "flannel": "docker.io/flannel/flannel:v0.21.4",
                       "flannel-cni-plugin": "docker.io/flannel/flannel-cni-plugin:v0.9.1"}
        for name, img in self.images.items():
            # docker save writes docker.io/x/y as x/y: verify must accept that
            tag = img[len("docker.io/"):] if img.startswith("docker.io/") else img
            image_tar(f"{self.b}/images/{name}.tar", tag)
            comps.append(["name=" + name, "type=image", f"path=images/{name}.tar", "image=" + img])
        for c in comps:
            r = ctl("add", jsonl, self.b, *c, "module=example", "module_version=v0")
            self.assertEqual(r.returncode, 0, r.stderr)
        r = ctl("write", self.b, jsonl, f"kubernetes_version={KVER}", f"arch={ARCH}",
                "kubeadm_images=registry.k8s.io/pause:3.8", "flannel_version=v0.21.4",
                "flannel_image=" + self.images["flannel"], "flannel_cni_plugin_image=" + self.images["flannel-cni-plugin"],
                "flannel_cni_plugin_version=v0.9.1")
        self.assertEqual(r.returncode, 0, r.stderr)
        write(f"{self.b}/.complete", "x\n")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def verify(self, *flags):
        return ctl("verify", self.b, *flags)

    def test_good_bundle_verifies(self):
        r = self.verify()
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.load(open(f"{self.b}/manifest.json"))
        self.assertEqual(doc["schema"], 1)
        self.assertEqual(doc["flannel"]["cni_plugin_image"], self.images["flannel-cni-plugin"])

    def test_corrupted_file_is_caught(self):
        with open(f"{self.b}/cni/bridge", "a") as f:
            f.write("x")
        r = self.verify()
        self.assertEqual(r.returncode, 1)
        self.assertIn("cni/bridge sha256", r.stderr)

    def test_missing_marker_unlisted_file_and_missing_file(self):
        os.remove(f"{self.b}/.complete")
        write(f"{self.b}/bin/extra", "")
        os.remove(f"{self.b}/systemd/cri-docker.socket")
        r = self.verify()
        self.assertEqual(r.returncode, 1)
        for needle in (".complete", "bin/extra: not listed", "systemd/cri-docker.socket missing"):
            self.assertIn(needle, r.stderr)

    def test_wrong_image_tag_and_lost_exec_bit(self):
        image_tar(f"{self.b}/images/pause.tar", "registry.k8s.io/pause:3.6")
        doc = json.load(open(f"{self.b}/manifest.json"))
        for c in doc["components"]:  # keep the sha256 right so the tag check is what fails
            if c["name"] == "pause":
                c["sha256"] = subprocess.run(["sha256sum", f"{self.b}/images/pause.tar"], capture_output=True,
                                             text=True).stdout.split()[0]
        json.dump(doc, open(f"{self.b}/manifest.json", "w"))
        os.chmod(f"{self.b}/bin/crictl", 0o644)
        r = self.verify()
        self.assertEqual(r.returncode, 1)
        self.assertIn("tagged ['registry.k8s.io/pause:3.6']", r.stderr)
        self.assertIn("bin/crictl is not executable", r.stderr)

    def test_wrong_version_reported_by_binary(self):
        write(f"{self.b}/bin/kubeadm", "#!/bin/sh\necho v0.0.0-master\n", 0o755)
        doc = json.load(open(f"{self.b}/manifest.json"))
        for c in doc["components"]:
            if c["name"] == "kubeadm":
                c["sha256"] = subprocess.run(["sha256sum", f"{self.b}/bin/kubeadm"], capture_output=True,
                                             text=True).stdout.split()[0]
        json.dump(doc, open(f"{self.b}/manifest.json", "w"))
        r = self.verify()
        self.assertEqual(r.returncode, 1)
        self.assertIn("bin/kubeadm version -o short", r.stderr)
        self.assertEqual(self.verify("--no-exec").returncode, 0)

    def test_staging_list_from_gomod(self):
        gomod = os.path.join(self.tmp, "go.mod")
        write(gomod, "module k8s.io/kubernetes\nreplace (\n\tk8s.io/api => ./staging/src/k8s.io/api\n"
                     "\tk8s.io/klog/v2 => k8s.io/klog/v2 v2.70.1\n)\nreplace k8s.io/kubectl => ./staging/src/k8s.io/kubectl\n")
        r = ctl("staging", gomod)
        self.assertEqual(r.stdout.split(), ["k8s.io/api", "k8s.io/kubectl"])


if __name__ == "__main__":
    unittest.main()
