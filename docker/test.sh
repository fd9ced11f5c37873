#!/usr/bin/env bash
# Builds Brigade's images and runs docker/compose.yml on this machine, end to end, as an
# operator would: podman and podman-compose stand in for docker and docker compose.
#
#   docker/test.sh            everything: images, the stack, the checks, the report, teardown
#   docker/test.sh images     the base images this machine cannot pull, then Brigade's
#   docker/test.sh up | down  the stack (project brigade-test), waiting on each service's health
#   docker/test.sh healthy S  waits for service S to pass its health check
#   docker/test.sh exit-code S  the exit status of service S's container
#   docker/test.sh compose …  podman-compose on the stack
#
# Needs podman, runc and debootstrap (Debian packages) and python3; installs podman-compose
# into $BRIGADE_COMPOSE_VENV. Nothing here is needed to run the compose file elsewhere.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

# crun refuses this machine's hybrid cgroups, and containers may not raise their limits.
containers_conf="${TMPDIR:-/tmp}/brigade-containers.conf"
cat > "$containers_conf" <<'EOF'
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
runtime = "runc"
EOF
export CONTAINERS_CONF="$containers_conf"

# Registries answer from inside a build only with this machine's CA bundle.
ca_bundle=/etc/ssl/certs/ca-certificates.crt
secret=()
[ -s "$ca_bundle" ] && secret=(--secret "id=ca-bundle,src=$ca_bundle")

# The stack under test: docker/.env's settings but a project name and ports of its own, beside
# anything else on the machine (the environment overrides .env, as with docker compose).
set -a
# shellcheck source=docker/.env
. docker/.env
set +a
export COMPOSE_PROJECT_NAME=brigade-test
export SYNAPSE_PORT=18008 BOT_PORT=19100 BRIDGE_PORT=19200 ELEMENT_PORT=18080
export PUBLIC_BASEURL="http://localhost:$SYNAPSE_PORT" BOT_PUBLIC_URL="http://localhost:$BOT_PORT/" \
  ELEMENT_PUBLIC_URL="http://localhost:$ELEMENT_PORT"

compose_venv="${BRIGADE_COMPOSE_VENV:-$HOME/.cache/brigade/venv-compose}"
compose() {
  if [ ! -x "$compose_venv/bin/podman-compose" ]; then
    python3 -m venv "$compose_venv"
    "$compose_venv/bin/pip" install --quiet -r docker/local/requirements.txt
  fi
  # Without systemd podman cannot put health checks on a timer, and says so for every
  # container; the checks are run by wait_healthy instead.
  "$compose_venv/bin/podman-compose" --in-pod false -f docker/compose.yml "$@" \
    2> >(grep -v -e 'systemd connection' -e 'connect to syslog' >&2)
}

millis() { echo $(($(date +%s%N) / 1000000)); }
# Seconds since `$1` (from millis), to a tenth.
elapsed() { local tenths=$((($(millis) - $1) / 100)); echo "$((tenths / 10)).$((tenths % 10))"; }
say() { printf '\n== %s\n' "$*" >&2; }

# The images docker/compose.yml and docker/Dockerfile name, made here from Debian and this
# machine's own Rust toolchain, under the names the files use, so the files stay unchanged.
base_images() {
  if ! podman image exists docker.io/library/debian:bookworm-slim; then
    say "debian:bookworm-slim from debootstrap"
    rootfs=$(mktemp -d)
    debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian >/dev/null
    # As the official slim image: no package lists, no documentation, no translations, and
    # packages installed later leave theirs out too.
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
      "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
      "$rootfs"/usr/share/locale/*
    printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-exclude /usr/share/man/*' \
      'path-exclude /usr/share/info/*' 'path-exclude /usr/share/locale/*' \
      > "$rootfs"/etc/dpkg/dpkg.cfg.d/slim
    tar -C "$rootfs" -c . | podman import - docker.io/library/debian:bookworm-slim >/dev/null
    rm -rf "$rootfs"
  fi
  rust_version=$(rustc --version | cut -d' ' -f2)
  rust_image="docker.io/library/rust:${rust_version%.*}-slim-bookworm"
  export RUST_IMAGE="$rust_image"
  if ! podman image exists "$rust_image"; then
    say "$rust_image from this machine's toolchain"
    toolchain="$(rustc --print sysroot)"
    podman build --quiet --build-arg "RUST_VERSION=$rust_version" -t "$rust_image" \
      -f docker/local/rust.Dockerfile "$toolchain" >/dev/null
  fi
  synapse_image="docker.io/matrixdotorg/synapse:$SYNAPSE_VERSION"
  if ! podman image exists "$synapse_image"; then
    say "$synapse_image from tests/synapse/requirements.txt"
    context=$(mktemp -d)
    cp docker/local/synapse/* tests/synapse/requirements.txt "$context"
    podman build --quiet "${secret[@]}" -t "$synapse_image" "$context" >/dev/null
    rm -rf "$context"
  fi
  postgres_image="docker.io/library/postgres:$POSTGRES_VERSION"
  if ! podman image exists "$postgres_image"; then
    say "$postgres_image from Debian's PostgreSQL"
    podman build --quiet -t "$postgres_image" docker/local/postgres >/dev/null
  fi
}

# Brigade's two images from docker/Dockerfile. `--format docker` keeps the HEALTHCHECK, which
# the OCI image format has no field for.
brigade_images() {
  for target in bot bridge; do
    say "brigade-$target:$BRIGADE_VERSION from docker/Dockerfile"
    start=$(millis)
    podman build --format docker "${secret[@]}" --target "$target" \
      --build-arg "RUST_IMAGE=$RUST_IMAGE" \
      --build-arg "REVISION=$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
      --build-arg "CREATED=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
      -t "brigade-$target:$BRIGADE_VERSION" -f docker/Dockerfile . >&2
    echo "brigade-$target image built in $(elapsed "$start") s" >&2
  done
}

container() { echo "${COMPOSE_PROJECT_NAME}_$1_1"; }

# docker compose waits on each dependency's health and completion by itself; podman-compose
# before podman 4.6 ignores health conditions and this machine has no systemd to run health
# checks on a timer, so the stack is brought up here in the compose file's dependency order,
# each health check run until it passes.
wait_healthy() {
  local name deadline
  name=$(container "$1")
  deadline=$(($(date +%s) + ${2:-120}))
  until podman healthcheck run "$name" >/dev/null 2>&1; do
    if [ "$(date +%s)" -gt "$deadline" ]; then
      echo "$1 is not healthy after ${2:-120} s; its log:" >&2
      podman logs --tail 40 "$name" >&2 || true
      return 1
    fi
    sleep 1
  done
}

wait_completed() {
  local code
  code=$(podman wait "$(container "$1")")
  if [ "$code" != 0 ]; then
    echo "$1 exited with $code; its log:" >&2
    podman logs --tail 40 "$(container "$1")" >&2 || true
    return 1
  fi
}

up() {
  start=$(millis)
  compose up -d --no-deps init >/dev/null
  wait_completed init
  compose up -d --no-deps postgres registration >/dev/null
  wait_completed registration
  wait_healthy postgres
  compose up -d --no-deps synapse >/dev/null
  wait_healthy synapse
  compose up -d --no-deps bot-account >/dev/null
  wait_completed bot-account
  compose up -d --no-deps bot bridge >/dev/null
  wait_healthy bridge
  wait_healthy bot 180
  echo "stack healthy in $(elapsed "$start") s" >&2
  # Healthy at once, not after the restart policy brought a crashed one back.
  for service in postgres synapse bot bridge; do
    restarts=$(podman inspect --format '{{.RestartCount}}' "$(container "$service")")
    if [ "$restarts" != 0 ]; then
      echo "$service was restarted $restarts times on its way up; its log:" >&2
      podman logs --tail 40 "$(container "$service")" >&2 || true
      return 1
    fi
  done
}

down() {
  compose down "$@" >/dev/null
}

# What an operator would look at when something failed, then the stack and its volumes gone.
teardown() {
  local status=$?
  if [ "$status" != 0 ]; then
    for service in init registration bot-account postgres synapse bot bridge; do
      echo "--- $service" >&2
      podman logs --tail 30 "$(container "$service")" >&2 2>/dev/null || true
    done
  fi
  down --volumes || true
  exit "$status"
}

report() {
  say "images"
  for image in brigade-bot brigade-bridge; do
    user=$(podman image inspect --format '{{.Config.User}}' "$image:$BRIGADE_VERSION")
    uid=$(podman run --rm --entrypoint id "$image:$BRIGADE_VERSION" -u)
    size=$(podman image inspect --format '{{.Size}}' "$image:$BRIGADE_VERSION")
    if [ "$uid" = 0 ] || [ -z "$user" ]; then
      echo "$image runs as root" >&2
      return 1
    fi
    printf '%s: user %s (uid %s), %s MB\n' "$image" "$user" "$uid" "$((size / 1000000))" >&2
  done
}

case "${1:-all}" in
  images) base_images && brigade_images ;;
  up) up ;;
  healthy) wait_healthy "$2" 180 ;;
  exit-code) podman inspect --format '{{.State.ExitCode}}' "$(container "$2")" ;;
  down) shift; down "$@" ;;
  compose) shift; compose "$@" ;;
  all)
    # The file as docker compose would read it, .env and all.
    compose config >/dev/null
    base_images
    brigade_images
    report
    down --volumes || true
    trap teardown EXIT
    up
    say "as people would"
    cargo run --quiet -p brigade-tests --bin brigade-docker-check -- \
      --homeserver "http://127.0.0.1:$SYNAPSE_PORT" --bridge "http://127.0.0.1:$BRIDGE_PORT" \
      --bot "http://127.0.0.1:$BOT_PORT" --bot-public-url "$BOT_PUBLIC_URL" \
      --homeserver-public-url "$PUBLIC_BASEURL" --element "$ELEMENT_PUBLIC_URL" \
      --server-name "$SERVER_NAME" --stack "$root/docker/test.sh"
    ;;
  *) echo "usage: docker/test.sh [all|images|up|down|compose …]" >&2; exit 2 ;;
esac
