#!/bin/sh
# The compose file's first step, run in the Synapse image as root before anything else starts.
# On the first `up` it makes every secret (in the `secrets` volume, each readable by the one
# user that needs it) and Synapse's configuration (in the `synapse` volume); on later starts it
# finds them and changes nothing, so the server name, the keys and the passwords stay as they
# were. Owners: Synapse runs as 991, PostgreSQL as 999, the bot as 10001, the bridge as 10002.
# The volume is mounted at /run/brigade, leaving /run/secrets to docker secrets.
set -eu
: "${SERVER_NAME:?set SERVER_NAME in .env}"
: "${PUBLIC_BASEURL:?set PUBLIC_BASEURL in .env}"
umask 077

secret() { # name owner
  if [ ! -s "/secrets/$1" ]; then
    python3 -c 'import secrets; print(secrets.token_urlsafe(32))' > "/secrets/$1"
    echo "init: made secret $1"
  fi
  chown "$2:$2" "/secrets/$1"
  chmod 0400 "/secrets/$1"
}
secret postgres-password 999
secret bot-password 10001
secret as-token 10002
secret hs-token 10002
secret alertmanager-token 10002
chmod 0755 /secrets

if [ ! -s /data/homeserver.yaml ]; then
  # Written once: Synapse's server name cannot change after the first start.
  cat > /data/homeserver.yaml <<YAML
# Written by Brigade's compose init step on the first start; edit freely, it is not rewritten.
server_name: "$SERVER_NAME"
public_baseurl: "$PUBLIC_BASEURL"
pid_file: /data/homeserver.pid
report_stats: false
listeners:
  - port: 8008
    type: http
    tls: false
    # Set to true behind a reverse proxy that sets X-Forwarded-For, and only then.
    x_forwarded: false
    bind_addresses: ["0.0.0.0"]
    resources:
      - names: [client, federation]
        compress: false
database:
  name: psycopg2
  args:
    user: synapse
    password: "$(cat /secrets/postgres-password)"
    database: synapse
    host: postgres
    cp_min: 5
    cp_max: 10
media_store_path: /data/media_store
signing_key_path: "/data/signing.key"
registration_shared_secret: "$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
macaroon_secret_key: "$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
form_secret: "$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
enable_registration: false
trusted_key_servers:
  - server_name: "matrix.org"
suppress_key_server_warning: true
# The alert bridge's registration, written by the compose file's `registration` step.
app_service_config_files:
  - /run/brigade/bridge-registration.yaml
YAML
  echo "init: wrote /data/homeserver.yaml for $SERVER_NAME"
fi
if [ ! -s /data/signing.key ]; then
  generate_signing_key -o /data/signing.key
fi
mkdir -p /data/media_store
chown 991:991 /data /data/media_store /data/homeserver.yaml /data/signing.key
chmod 0600 /data/homeserver.yaml /data/signing.key
echo "init: ready"
