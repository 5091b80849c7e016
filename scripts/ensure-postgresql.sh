#!/usr/bin/env bash
# Make sure PostgreSQL server binaries (initdb, pg_ctl, postgres) are installed, with apt-get
# when they are missing. The tests start and remove a throwaway cluster of their own.
set -euo pipefail

have_postgresql() {
    compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null
}

have_postgresql && exit 0
"$(dirname "$0")/apt-install.sh" postgresql
if ! have_postgresql; then
    echo "apt-get installed postgresql, yet initdb is still missing" >&2
    exit 1
fi
