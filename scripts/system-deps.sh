#!/usr/bin/env bash
# The Debian packages the tests need: Chromium (browser tests) and LibreOffice Calc (opens the
# exported workbooks). Installs what is missing when run as root on Debian/Ubuntu; otherwise says
# exactly what to install and fails, so that no test is skipped silently. `make test` and .ci/run
# both call this script.
set -euo pipefail

need=()
command -v chromium >/dev/null 2>&1 || [[ -x /usr/bin/chromium ]] || need+=(chromium)
command -v soffice >/dev/null 2>&1 || need+=(libreoffice-calc-nogui)
fc-list 2>/dev/null | grep -qi dejavu || need+=(fonts-dejavu-core)
((${#need[@]})) || exit 0

if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
  echo "== installing Debian packages for the tests: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  exit 0
fi
echo "The tests need these Debian packages: ${need[*]}" >&2
echo "Install them as root:  apt-get update && apt-get install -y --no-install-recommends ${need[*]}" >&2
echo "(Chromium runs the browser tests; LibreOffice Calc opens the exported workbooks.)" >&2
exit 1
