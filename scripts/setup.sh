#!/usr/bin/env bash
# Prepare this machine for hazmap: Debian packages (when a part needs them), .venv, pinned Python packages.
#   scripts/setup.sh run    what the app needs
#   scripts/setup.sh test   what the whole test suite needs (adds the dev tools and test-only Debian packages)
# Safe to re-run: it installs only what is missing, and re-installs Python packages only when a
# requirements file changed.
set -euo pipefail
cd "$(dirname "$0")/.."
purpose=${1:-run}

# Debian packages per purpose. gdal-bin: ogrinfo, used by the tests to read the GeoPackage with
# GDAL's own tool, independently of the pyogrio build the app uses. PostgreSQL 15 with PostGIS and pgRouting:
# the throwaway cluster of tests/pgcluster.py, on which the PostGIS tests and bench/ check hazmap. chromium: the
# browser of tests/browser.py (Playwright drives Debian's build; its own browser download is never used).
# fonts-wqy-microhei: the Chinese font the PDF exports embed (TrueType outlines; Noto CJK's CFF outlines cannot be
# embedded as TrueType by matplotlib, see geo/export/fonts.py). poppler-utils: pdftoppm renders the exported PDFs
# in the export tests, pdftotext/pdffonts help inspect them.
deb_run=(fonts-wqy-microhei)
deb_test=(gdal-bin postgresql-15-postgis-3 postgresql-15-pgrouting chromium poppler-utils)

want=()
if [ "$purpose" = test ]; then want=("${deb_run[@]}" "${deb_test[@]}"); else want=("${deb_run[@]}"); fi
missing=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# A Debian python3 without ensurepip cannot create a venv.
PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import ensurepip' >/dev/null 2>&1; then missing+=(python3-venv); fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup: need root or sudo to install ${missing[*]}" >&2; exit 1; }
    SUDO=sudo
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $("$PYTHON" --version)"
  "$PYTHON" -m venv .venv
fi

reqs=(requirements.txt)
[ "$purpose" = test ] && reqs+=(requirements-dev.txt requirements-nodeps.txt)
stamp=".venv/.installed-$purpose"
sum=$(cat "${reqs[@]}" | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$sum" ]; then
  echo "setup: installing Python packages from ${reqs[*]}"
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
  args=()
  for r in "${reqs[@]}"; do [ "$r" = requirements-nodeps.txt ] || args+=(-r "$r"); done
  .venv/bin/python -m pip install -q --disable-pip-version-check "${args[@]}"
  if [ "$purpose" = test ]; then
    .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps -r requirements-nodeps.txt
  fi
  echo "$sum" >"$stamp"
fi
