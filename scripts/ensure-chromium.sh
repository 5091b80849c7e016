#!/usr/bin/env bash
# Make sure Debian's chromium is installed, with apt-get when it is missing: the report test
# renders output/report.html in it, headless.
set -euo pipefail

command -v chromium >/dev/null && exit 0
"$(dirname "$0")/apt-install.sh" chromium
if ! command -v chromium >/dev/null; then
    echo "apt-get installed chromium, yet the chromium command is still missing" >&2
    exit 1
fi
