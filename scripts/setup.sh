#!/usr/bin/env bash
# Set up hipviz on a fresh Debian machine: system libraries for offscreen rendering (and, with
# --test, Chromium for the browser tests and PostgreSQL for the store tests, which
# scripts/with_postgres.sh starts), then a virtual environment in .venv with hipviz installed.
# Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

want_tests=0
[ "${1:-}" = "--test" ] && want_tests=1

apt_pkgs=(libegl1 libegl-mesa0 libgl1-mesa-dri libglu1-mesa libxrender1 libxcursor1 libxinerama1 libxft2 libxi6 fonts-dejavu-core)
[ $want_tests = 1 ] && apt_pkgs+=(chromium poppler-utils postgresql)
missing=()
for p in "${apt_pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" != 0 ] && sudo_cmd="sudo"
  echo "installing system packages: ${missing[*]}"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
extra=""
[ $want_tests = 1 ] && extra="[test]"
.venv/bin/python -m pip install -q -e ".${extra}" 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -c "import hipviz" # fail loudly if the install did not work
