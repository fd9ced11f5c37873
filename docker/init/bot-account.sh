#!/bin/sh
# The compose file's `bot-account` step, run in the Synapse image once Synapse is healthy: the
# bot's account, registered with the homeserver's shared secret and the generated password. An
# account already there is left as it is.
set -eu
register_new_matrix_user --exists-ok --no-admin -u brigade \
  --password-file /run/brigade/bot-password -c /data/homeserver.yaml http://synapse:8008
