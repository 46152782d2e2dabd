# shellcheck shell=bash
# Shared set-up for the tools/ commands: the pinned virtualenv and a running Docker engine.
# Source it:  . "$(dirname "$0")/lib/common.sh"   (REPO_ROOT is set from this file's location).

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
KUBEHA_VENV="${KUBEHA_VENV:-$REPO_ROOT/.venv}"
# Caches live outside the repository so a fresh clone reuses them.
KUBEHA_CACHE="${KUBEHA_CACHE:-/var/cache/kubeha}"
export REPO_ROOT KUBEHA_VENV KUBEHA_CACHE

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

# ensure_venv: create .venv with the pinned requirements (re-installs only when requirements.txt changed)
# and put it first on PATH.
ensure_venv() {
  local py="${KUBEHA_PYTHON:-python3}" stamp
  command -v "$py" >/dev/null || die "$py not found: install Python 3.10 or later (or set KUBEHA_PYTHON)."
  "$py" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
    || die "$py is $("$py" -V 2>&1); ansible-core 2.17 needs Python 3.10 or later (set KUBEHA_PYTHON)."
  stamp="$KUBEHA_VENV/.requirements.sha256"
  if [ ! -x "$KUBEHA_VENV/bin/python" ]; then
    log "creating virtualenv $KUBEHA_VENV"
    "$py" -m venv "$KUBEHA_VENV" || die "could not create $KUBEHA_VENV (is the python3-venv package installed?)"
  fi
  if [ "$(cat "$stamp" 2>/dev/null)" != "$(sha256sum < "$REPO_ROOT/requirements.txt")" ]; then
    log "installing pinned Python packages from requirements.txt"
    "$KUBEHA_VENV/bin/pip" install --disable-pip-version-check --no-compile -q -r "$REPO_ROOT/requirements.txt" \
      || die "pip install -r requirements.txt failed (is PyPI reachable?)"
    sha256sum < "$REPO_ROOT/requirements.txt" > "$stamp"
  fi
  export PATH="$KUBEHA_VENV/bin:$PATH"
  export ANSIBLE_CONFIG="${ANSIBLE_CONFIG:-$REPO_ROOT/ansible.cfg}"
}

# ensure_docker: make `docker info` work. Installs docker.io on Debian/Ubuntu when dockerd is missing and
# starts dockerd in the background when no engine answers (this machine has no systemd as PID 1).
ensure_docker() {
  if docker info >/dev/null 2>&1; then return 0; fi
  if ! command -v dockerd >/dev/null; then
    command -v apt-get >/dev/null \
      || die "no Docker engine and no apt-get to install one: install Docker Engine and start it, then re-run."
    [ "$(id -u)" = 0 ] || die "installing docker.io needs root: run as root or install Docker Engine yourself."
    log "installing docker.io from the distribution's packages"
    apt_install docker.io || die "apt-get install docker.io failed: check the Debian package mirror or install Docker yourself."
  fi
  command -v docker >/dev/null || die "dockerd is installed but the docker client is missing (package docker.io or docker-ce-cli)."
  if command -v systemctl >/dev/null && [ "$(ps -o comm= -p 1)" = systemd ]; then
    systemctl start docker || die "systemctl start docker failed: see journalctl -u docker."
  else
    [ "$(id -u)" = 0 ] || die "starting dockerd needs root."
    log "starting dockerd (log: /var/log/kubeha-dockerd.log)"
    # In a session of its own: an interrupt (Ctrl-C) or the end of the calling shell's process group must not
    # take the engine, and every lab host running in it, down with it. No lock or pipe fds are inherited.
    setsid dockerd >> /var/log/kubeha-dockerd.log 2>&1 < /dev/null 9>&- &
  fi
  local i
  for i in $(seq 1 60); do
    docker info >/dev/null 2>&1 && return 0
    sleep 1
  done
  die "the Docker engine did not answer within 60 s: see /var/log/kubeha-dockerd.log."
}

# apt_install PKG...: install Debian packages, running apt-get update at most once per hour.
apt_install() {
  local stamp=/var/lib/apt/periodic/kubeha-update-stamp
  if [ -z "$(find "$stamp" -mmin -60 2>/dev/null)" ]; then
    apt-get update -q >/dev/null || return 1
    mkdir -p "$(dirname "$stamp")" && touch "$stamp"
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >/dev/null
}
