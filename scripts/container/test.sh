#!/usr/bin/env bash
# test.sh: build the container image from the Dockerfile with podman and
# prove that it works the way the README promises. The image runs with a
# read-only root file system as UID 65532 and holds no shell; it answers
# `version` and `validate`, rotates a token from the FIRST LINE emulator
# (running on this host) into a mounted volume, and as a daemon answers
# /healthz, /readyz and /metrics. The token in the volume must be accepted
# by the emulator.
#
# Needs root (podman rootful) and Go. Installs podman, runc and curl when
# missing and makes the base images locally (prepare-base-images.sh), so a
# brand-new machine without access to an image registry works.
#
#   scripts/container/test.sh        # or: make container-test
#
# Environment: IMAGE (default localhost/firstline-rotator:test), VERSION
# (stamped into the binary), KEEP_WORK=1 keeps the scratch directory.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
IMAGE=${IMAGE:-localhost/firstline-rotator:test}
VERSION=${VERSION:-container-test}
PODMAN=(podman --runtime runc --cgroup-manager=cgroupfs)
LIMITS=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
ACCOUNT=container-agent
DAEMON=firstline-rotator-test-$$

WORK=
EMULATOR_PID=
TIMINGS=()
SCRIPT_START=$(date +%s%N)

log() { printf '%s container-test: %s\n' "$(date +%T)" "$*" >&2; }
fail() {
    log "FAIL: $*"
    exit 1
}

# seconds_since START_NS: prints the seconds since START_NS, to 0.1 s.
seconds_since() {
    local tenths=$((($(date +%s%N) - $1) / 100000000))
    printf '%d.%d' $((tenths / 10)) $((tenths % 10))
}

# step NAME COMMAND...: runs one step and records how long it took.
STEP=
STEP_START=
step() {
    STEP=$1 STEP_START=$(date +%s%N)
    shift
    log "step: $STEP"
    "$@"
    TIMINGS+=("$(printf '%7ss  %s' "$(seconds_since "$STEP_START")" "$STEP")")
    STEP=
}

report_timings() {
    printf '\ncontainer-test timings:\n' >&2
    printf '  %s\n' "${TIMINGS[@]}" >&2
    printf '  %7ss  total\n' "$(seconds_since "$SCRIPT_START")" >&2
}

cleanup() {
    local code=$?
    if ((code != 0)) && "${PODMAN[@]}" container exists "$DAEMON" 2>/dev/null; then
        log "last lines of the daemon's log:"
        "${PODMAN[@]}" logs --tail 20 "$DAEMON" >&2 2>&1 || true
    fi
    "${PODMAN[@]}" rm --force --time 5 "$DAEMON" >/dev/null 2>&1 || true
    if [[ -n $EMULATOR_PID ]]; then
        kill "$EMULATOR_PID" 2>/dev/null || true
        wait "$EMULATOR_PID" 2>/dev/null || true
    fi
    if [[ -n $WORK && ${KEEP_WORK:-0} != 1 ]]; then
        rm -rf "$WORK"
    fi
    if [[ -n $STEP ]]; then
        TIMINGS+=("$(printf '%7ss  %s (FAILED)' "$(seconds_since "$STEP_START")" "$STEP")")
    fi
    ((${#TIMINGS[@]} > 0)) && report_timings
    if ((code == 0)); then
        log "PASS"
    elif [[ ${KEEP_WORK:-0} == 1 ]]; then
        log "FAILED (exit $code); scratch directory kept: $WORK"
    else
        log "FAILED (exit $code); KEEP_WORK=1 keeps the scratch directory"
    fi
}

# podman_run ARGS...: a run of the image the way production runs it.
podman_run() {
    "${PODMAN[@]}" run --rm "${LIMITS[@]}" --read-only --user 65532:65532 \
        --network host "$@"
}

install_tools() {
    local missing=()
    command -v podman >/dev/null || missing+=(podman)
    command -v runc >/dev/null || missing+=(runc)
    command -v curl >/dev/null || missing+=(curl)
    ((${#missing[@]} == 0)) && return 0

    [[ $(id -u) == 0 ]] || fail "need root to install ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

prepare_base_images() {
    GO_VERSION=$GO_VERSION "$ROOT/scripts/container/prepare-base-images.sh"
}

build_host_binary() {
    (cd "$ROOT" && CGO_ENABLED=0 go build -o "$WORK/bin/firstline-rotator" .)
}

build_image() {
    "${PODMAN[@]}" build --pull=never "${LIMITS[@]}" \
        --build-arg GO_VERSION="$GO_VERSION" --build-arg VERSION="$VERSION" \
        --tag "$IMAGE" --file "$ROOT/Dockerfile" "$ROOT" >"$WORK/build.log" 2>&1 ||
        { tail -n 40 "$WORK/build.log" >&2; fail "podman build failed"; }
}

check_image_config() {
    local user
    user=$("${PODMAN[@]}" image inspect --format '{{.Config.User}}' "$IMAGE")
    [[ $user == 65532:65532 ]] || fail "image user is '$user', want 65532:65532"

    local shell
    for shell in /bin/sh sh /bin/bash /busybox/sh; do
        if podman_run --entrypoint "$shell" "$IMAGE" -c true >/dev/null 2>&1; then
            fail "the image runs a shell ($shell)"
        fi
    done
}

check_version() {
    local out
    out=$(podman_run "$IMAGE" version) || fail "'version' exited non-zero: $out"
    [[ $out == *"$VERSION"* ]] || fail "'version' printed '$out', want it to hold $VERSION"
    log "version: $out"
}

# make_world writes the emulator's user, the credentials, the config and
# the volume directories, owned by the image's user where it writes.
make_world() {
    local password
    password=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
    install -d -m 0755 "$WORK/config" "$WORK/emulator"
    install -d -m 0700 -o 65532 -g 65532 "$WORK/secrets" "$WORK/state" "$WORK/sinks"

    (umask 077 && printf '%s\n' "$password" >"$WORK/secrets/password")
    printf '%s\n' "$ACCOUNT" >"$WORK/secrets/name"
    chown 65532:65532 "$WORK/secrets/name" "$WORK/secrets/password"
    # The password is a canary too: no output may ever contain it.
    (umask 077 && printf '%s\n' "$password" >"$WORK/secrets.list")

    (umask 077 && cat >"$WORK/emulator/users.yaml" <<EOF
- {name: $ACCOUNT, password: "$password", role: agent, id: 42}
EOF
    )
}

start_emulator() {
    "$WORK/bin/firstline-rotator" emulator --listen 127.0.0.1:0 \
        --users "$WORK/emulator/users.yaml" >"$WORK/emulator.log" 2>&1 &
    EMULATOR_PID=$!

    for _ in $(seq 100); do
        EMULATOR_URL=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$WORK/emulator.log" || true)
        [[ -n $EMULATOR_URL ]] && break
        kill -0 "$EMULATOR_PID" 2>/dev/null ||
            fail "emulator exited: $(cat "$WORK/emulator.log")"
        sleep 0.1
    done
    [[ -n $EMULATOR_URL ]] || fail "emulator did not report its address"
    log "emulator on $EMULATOR_URL"

    cat >"$WORK/config/config.yaml" <<EOF
log: {level: info, format: json}
state_dir: /state
firstline: {base_url: "$EMULATOR_URL", timeout: 10s}
http: {listen: "127.0.0.1:0"}
accounts:
  - id: $ACCOUNT
    credentials:
      file: {name_file: /secrets/name, password_file: /secrets/password}
    token_ttl: 1h
    sinks:
      - {type: file, path: /sinks/token}
EOF
    chmod 0644 "$WORK/config/config.yaml"
}

VOLUMES=()
set_volumes() {
    VOLUMES=(
        -v "$WORK/config:/config:ro"
        -v "$WORK/secrets:/secrets:ro"
        -v "$WORK/state:/state"
        -v "$WORK/sinks:/sinks"
    )
}

# no_secrets FILE: fails when FILE holds the password or a token. The
# secrets are read from a file, never passed as arguments.
no_secrets() {
    if grep -qF -f "$WORK/secrets.list" "$1"; then
        fail "$(basename "$1") contains a secret"
    fi
}

check_validate() {
    podman_run "${VOLUMES[@]}" "$IMAGE" validate --config /config/config.yaml \
        >"$WORK/validate.log" 2>&1 || fail "validate: $(cat "$WORK/validate.log")"
    # Without --config the image's FIRSTLINE_ROTATOR_CONFIG names the file.
    podman_run "${VOLUMES[@]}" "$IMAGE" validate >>"$WORK/validate.log" 2>&1 ||
        fail "validate without --config: $(cat "$WORK/validate.log")"
    no_secrets "$WORK/validate.log"
}

check_rotate() {
    podman_run "${VOLUMES[@]}" "$IMAGE" rotate --force --config /config/config.yaml \
        >"$WORK/rotate.log" 2>&1 || fail "rotate: $(cat "$WORK/rotate.log")"

    local token_file=$WORK/sinks/token
    [[ -s $token_file ]] || fail "rotate left no token in the sinks volume"
    local owner_mode
    owner_mode=$(stat -c '%u:%g %a' "$token_file")
    [[ $owner_mode == "65532:65532 600" ]] ||
        fail "token file is '$owner_mode', want '65532:65532 600'"

    printf '%s\n' "$(<"$token_file")" >>"$WORK/secrets.list"
    no_secrets "$WORK/rotate.log"
}

# emulator_status HEADER_FILE: GET /api/v1/me with the Authorization
# header from a file (curl -H @file), so the token is never an argument.
emulator_status() {
    curl -s -o /dev/null -w '%{http_code}' -H "@$1" -H 'Accept: application/json' \
        "$EMULATOR_URL/api/v1/me"
}

check_token_accepted() {
    (umask 077 && printf 'Authorization: Bearer %s\n' "$(<"$WORK/sinks/token")" \
        >"$WORK/auth.header")
    local code
    code=$(emulator_status "$WORK/auth.header")
    [[ $code == 200 ]] || fail "the emulator answers $code to the rotated token, want 200"

    # The check can fail: a wrong token is refused.
    printf 'Authorization: Bearer not-a-token\n' >"$WORK/wrong.header"
    code=$(emulator_status "$WORK/wrong.header")
    [[ $code == 401 ]] || fail "the emulator answers $code to a wrong token, want 401"
}

# http_get PATH: prints the status code of the daemon's endpoint.
http_get() {
    curl -s -o "$WORK/http.body" -w '%{http_code}' "http://$HEALTH_ADDR$1" || true
}

check_daemon() {
    "${PODMAN[@]}" run --detach --name "$DAEMON" "${LIMITS[@]}" --read-only \
        --user 65532:65532 --network host "${VOLUMES[@]}" "$IMAGE" >/dev/null

    HEALTH_ADDR=
    for _ in $(seq 150); do
        HEALTH_ADDR=$("${PODMAN[@]}" logs "$DAEMON" 2>&1 |
            grep -o '"listen":"127\.0\.0\.1:[0-9]*"' | head -n 1 | cut -d'"' -f4 || true)
        [[ -n $HEALTH_ADDR && $(http_get /readyz) == 200 ]] && break
        [[ $("${PODMAN[@]}" inspect --format '{{.State.Running}}' "$DAEMON") == true ]] ||
            fail "daemon exited: $("${PODMAN[@]}" logs "$DAEMON" 2>&1 | tail -n 20)"
        sleep 0.2
    done
    [[ -n $HEALTH_ADDR ]] || fail "daemon did not log its health listener"
    [[ $(http_get /readyz) == 200 ]] || fail "/readyz: $(cat "$WORK/http.body")"
    [[ $(http_get /healthz) == 200 ]] || fail "/healthz answers $(http_get /healthz)"
    # The token rotated before the start is in the state: its expiry must
    # show without a new rotation, or expiry alerts go blind after a restart.
    local expiry="firstline_rotator_token_expiry_timestamp_seconds{account=\"$ACCOUNT\"}"
    for _ in $(seq 50); do
        [[ $(http_get /metrics) == 200 ]] || fail "/metrics answers $(http_get /metrics)"
        grep -qF "$expiry" "$WORK/http.body" && break
        sleep 0.2
    done
    grep -qF "$expiry" "$WORK/http.body" || fail "/metrics lacks $expiry:
$(grep '^firstline_rotator_' "$WORK/http.body")"
    no_secrets "$WORK/http.body"
    log "daemon ready on $HEALTH_ADDR"

    # SIGTERM must end the daemon cleanly (exit 0) within the grace time.
    "${PODMAN[@]}" stop --time 30 "$DAEMON" >/dev/null
    local code
    code=$("${PODMAN[@]}" inspect --format '{{.State.ExitCode}}' "$DAEMON")
    "${PODMAN[@]}" logs "$DAEMON" >"$WORK/daemon.log" 2>&1
    [[ $code == 0 ]] || fail "daemon exited $code after SIGTERM: $(tail -n 20 "$WORK/daemon.log")"
    no_secrets "$WORK/daemon.log"
}

main() {
    trap cleanup EXIT
    [[ $(id -u) == 0 ]] || fail "run as root (rootful podman)"
    command -v go >/dev/null || fail "go is not on PATH"
    GO_VERSION=$(go env GOVERSION)
    GO_VERSION=${GO_VERSION#go}
    WORK=$(mktemp -d /tmp/firstline-container-test.XXXXXX)
    chmod 0711 "$WORK"

    step "install podman, runc, curl" install_tools
    step "prepare base images" prepare_base_images
    step "build host binary (emulator)" build_host_binary
    step "build image $IMAGE" build_image
    step "image user and no shell" check_image_config
    step "version" check_version
    make_world
    set_volumes
    step "start emulator" start_emulator
    step "validate (read-only, UID 65532)" check_validate
    step "rotate --force into the sinks volume" check_rotate
    step "emulator accepts the rotated token" check_token_accepted
    step "daemon: /healthz /readyz /metrics, SIGTERM" check_daemon
}

main "$@"
