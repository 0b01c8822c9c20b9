#!/usr/bin/env bash
# Makes sure the PostgreSQL server the tests use answers on 127.0.0.1:5432: starts the local
# cluster if it is installed but down. Set TEST_POSTGRES_URL to use another server.
set -euo pipefail
if [ -n "${TEST_POSTGRES_URL:-}" ]; then
  exit 0
fi
if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  exit 0
fi
if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  echo "Starting PostgreSQL $version..."
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
  for _ in $(seq 1 50); do
    pg_isready -q -h 127.0.0.1 -p 5432 && exit 0
    sleep 0.2
  done
fi
echo "PostgreSQL does not answer on 127.0.0.1:5432 and cannot be started here." >&2
echo "Install it (apt-get install postgresql, trust auth for 127.0.0.1) or set TEST_POSTGRES_URL." >&2
exit 1
