#!/usr/bin/env bash
# Installs what the project needs from outside PyPI: Tesseract with its Indonesian data,
# PostgreSQL (the case-store tests start their own server), Chromium (the browser tests) and
# nginx (the gRPC load balancer of the local cluster test) and the fonts the open-world
# document generator renders with (Arial-metric sans, OCR-B) from Debian, and uv (from PyPI, when missing). Idempotent; quiet when all
# is there.
set -euo pipefail

need_apt=()
if ! command -v tesseract >/dev/null 2>&1; then
  need_apt+=(tesseract-ocr tesseract-ocr-ind)
elif ! tesseract --list-langs 2>/dev/null | grep -qx ind; then
  need_apt+=(tesseract-ocr-ind)
fi
# initdb and pg_ctl live under /usr/lib/postgresql/<version>/bin, not on PATH.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  need_apt+=(postgresql)
fi
if [ ! -x /usr/sbin/nginx ]; then
  need_apt+=(nginx)
fi
for font in fonts-liberation2:/usr/share/fonts/truetype/liberation2 \
            fonts-croscore:/usr/share/fonts/truetype/croscore \
            fonts-ocr-b:/usr/share/fonts/opentype/ocr-b; do
  if [ ! -d "${font#*:}" ]; then
    need_apt+=("${font%%:*}")
  fi
done
if [ ! -x /usr/bin/chromium ]; then
  need_apt+=(chromium)
fi

if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: missing Debian packages: ${need_apt[*]}" >&2
    echo "       run as root, or: sudo apt-get install -y ${need_apt[*]}" >&2
    exit 1
  fi
  echo "installing Debian packages: ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if ! command -v uv >/dev/null 2>&1 && ! python3 -m uv --version >/dev/null 2>&1; then
  echo "installing uv from PyPI"
  python3 -m pip install --quiet uv || python3 -m pip install --quiet --user uv
fi
