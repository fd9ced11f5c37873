#!/usr/bin/env bash
# Stand-in for the official PostgreSQL image's entrypoint, for what docker/compose.yml uses: on
# first start, a cluster made with POSTGRES_INITDB_ARGS, owned by POSTGRES_USER with the password
# of POSTGRES_PASSWORD or POSTGRES_PASSWORD_FILE, holding POSTGRES_DB; other hosts sign in with
# that password. Then PostgreSQL runs as uid 999.
set -Eeuo pipefail

if [ "${1:-}" = postgres ] && [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
fi

if [ "${1:-}" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
  password="${POSTGRES_PASSWORD:-}"
  if [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then
    password="$(< "$POSTGRES_PASSWORD_FILE")"
  fi
  if [ -z "$password" ]; then
    echo "docker-entrypoint.sh: set POSTGRES_PASSWORD or POSTGRES_PASSWORD_FILE" >&2
    exit 1
  fi
  user="${POSTGRES_USER:-postgres}"
  database="${POSTGRES_DB:-$user}"
  # shellcheck disable=SC2086 # the arguments are words, as in the official image
  initdb --username="$user" --pwfile=<(printf '%s\n' "$password") ${POSTGRES_INITDB_ARGS:-}
  printf 'host all all all scram-sha-256\n' >> "$PGDATA/pg_hba.conf"
  if [ "$database" != postgres ]; then
    pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start
    psql -v ON_ERROR_STOP=1 --username "$user" --dbname postgres \
      --command "CREATE DATABASE \"$database\""
    pg_ctl -D "$PGDATA" -m fast -w stop
  fi
fi

exec "$@"
