"""Fixtures for the end-to-end tests. They expect tools/deploy-lab to have brought the lab cluster up."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

import lab

TEST_IMAGE = "kubeha.local/e2e-busybox:1"
NAMESPACE = "kubeha-e2e"


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "extended: left out of the default stages (-m 'not extended') so that .ci/run fits its time budget "
        "on a brand-new machine (docs/testing-budget.md says which paths that leaves to tools/test --stage extended)")


def _build_test_image():
    """A busybox image made from Debian's busybox-static package: this machine reaches no image registry."""
    if lab.run(["docker", "image", "inspect", TEST_IMAGE], check=False).returncode == 0:
        return
    work = Path(tempfile.mkdtemp(prefix="kubeha-e2e-image-"))
    try:
        subprocess.run(["apt-get", "download", "busybox-static"], cwd=work, check=True, capture_output=True,
                       timeout=300)
        deb = next(work.glob("busybox-static_*.deb"))
        root = work / "rootfs"
        lab.run(["dpkg-deb", "-x", deb, root])
        for applet in ("sh", "httpd", "wget", "nslookup", "sleep", "hostname", "cat", "echo", "ls", "mkdir"):
            (root / "bin" / applet).symlink_to("busybox")
        (root / "tmp").mkdir(exist_ok=True)
        archive = work / "rootfs.tar"
        lab.run(["tar", "-C", root, "-cf", archive, "."])
        lab.run(["docker", "import", "--change", 'CMD ["/bin/sh"]', "--change", "ENV PATH=/bin",
                 archive, TEST_IMAGE])
    finally:
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(scope="session")
def hosts():
    assert lab.INVENTORY.exists(), "no lab inventory: run tools/deploy-lab first"
    assert lab.KUBECONFIG.exists(), "no .lab/kubeconfig: run tools/deploy-lab first"
    return lab.lab_hosts()


@pytest.fixture(scope="session")
def test_image(hosts):
    """The busybox test image, loaded into Docker on every lab host (pods use it with IfNotPresent)."""
    _build_test_image()
    saved = subprocess.run(["docker", "save", TEST_IMAGE], check=True, capture_output=True).stdout
    for host in hosts["control_plane"] + hosts["node"]:
        subprocess.run(["docker", "exec", "-i", lab.container_of(host), "docker", "load"],
                       input=saved, check=True, capture_output=True, timeout=120)
    return TEST_IMAGE


@pytest.fixture(scope="session")
def namespace(hosts):
    lab.kubectl("delete", "namespace", NAMESPACE, "--ignore-not-found", "--wait=true", timeout=180)
    lab.kubectl("create", "namespace", NAMESPACE)
    yield NAMESPACE
    lab.kubectl("delete", "namespace", NAMESPACE, "--ignore-not-found", "--wait=false")
