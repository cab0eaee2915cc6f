#!/usr/bin/env bash
# prepare-base-images.sh: create, from what this machine has, local stand-ins
# for the two base images the Dockerfile names, for machines that cannot
# reach an image registry.
#
#   builder: docker.io/library/golang:<go version>-bookworm
#            this machine's Go toolchain (/usr/local/go), busybox for /bin/sh
#            and CA certificates.
#   runtime: gcr.io/distroless/static-debian12:nonroot
#            no shell, no package manager: /etc/passwd and /etc/group with
#            root, nobody and nonroot (65532), CA certificates, /tmp and
#            /home/nonroot, USER 65532:65532.
#
# An image that already exists under the name (pulled from the registry or
# made by an earlier run) is kept; FORCE=1 makes them again. Needs root,
# podman, busybox-static and ca-certificates; installs what is missing.
set -euo pipefail

GO_ROOT=${GO_ROOT:-$(go env GOROOT 2>/dev/null || echo /usr/local/go)}
GO_VERSION=${GO_VERSION:-$("$GO_ROOT/bin/go" env GOVERSION)}
GO_VERSION=${GO_VERSION#go}
BUILDER_IMAGE=${BUILDER_IMAGE:-docker.io/library/golang:${GO_VERSION}-bookworm}
RUNTIME_IMAGE=${RUNTIME_IMAGE:-gcr.io/distroless/static-debian12:nonroot}
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
PODMAN=(podman --runtime runc --cgroup-manager=cgroupfs)

log() { printf '%s prepare-base-images: %s\n' "$(date +%T)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

install_missing() {
    local missing=()
    command -v podman >/dev/null || missing+=(podman)
    command -v runc >/dev/null || missing+=(runc)
    [[ -x /bin/busybox ]] || missing+=(busybox-static)
    [[ -s $CA_BUNDLE ]] || missing+=(ca-certificates)
    ((${#missing[@]} == 0)) && return 0

    [[ $(id -u) == 0 ]] || die "need root to install ${missing[*]}"
    log "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

image_wanted() {
    local name=$1
    if [[ ${FORCE:-0} != 1 ]] && "${PODMAN[@]}" image exists "$name"; then
        log "$name exists; keeping it (FORCE=1 makes it again)"
        return 1
    fi
    return 0
}

# common_files lays out what both images share: CA certificates, /tmp,
# name service files.
common_files() {
    local root=$1
    install -d -m 0755 "$root/etc/ssl/certs" "$root/root" "$root/var" "$root/usr"
    install -d -m 1777 "$root/tmp"
    install -m 0644 "$CA_BUNDLE" "$root/etc/ssl/certs/ca-certificates.crt"
    printf 'hosts: files dns\n' >"$root/etc/nsswitch.conf"
}

make_builder() {
    local root=$1
    log "making $BUILDER_IMAGE from $GO_ROOT (go $GO_VERSION)"
    [[ -x $GO_ROOT/bin/go ]] || die "no Go toolchain at $GO_ROOT; set GO_ROOT"

    common_files "$root"
    install -d -m 0755 "$root/usr/local" "$root/bin" "$root/go/bin" "$root/go/pkg"
    cp -a "$GO_ROOT" "$root/usr/local/go"
    rm -rf "$root/usr/local/go/test" "$root/usr/local/go/doc"
    cp /bin/busybox "$root/bin/busybox"
    chroot "$root" /bin/busybox --install -s /bin
    printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
    printf 'root:x:0:\n' >"$root/etc/group"

    tar --numeric-owner -C "$root" -cf - . | "${PODMAN[@]}" import --quiet \
        --change "ENV PATH=/go/bin:/usr/local/go/bin:/usr/local/bin:/usr/bin:/bin" \
        --change "ENV GOPATH=/go" \
        --change "ENV GOTOOLCHAIN=local" \
        --change "WORKDIR /go" \
        --change 'CMD ["/bin/sh"]' \
        - "$BUILDER_IMAGE" >/dev/null
}

make_runtime() {
    local root=$1
    log "making $RUNTIME_IMAGE (no shell, nonroot 65532)"

    common_files "$root"
    chmod 0700 "$root/root"
    install -d -m 0700 -o 65532 -g 65532 "$root/home/nonroot"
    cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
EOF
    cat >"$root/etc/group" <<'EOF'
root:x:0:
nobody:x:65534:
nonroot:x:65532:
EOF
    printf 'PRETTY_NAME="static runtime (local stand-in for distroless)"\n' \
        >"$root/etc/os-release"

    tar --numeric-owner -C "$root" -cf - . | "${PODMAN[@]}" import --quiet \
        --change "USER 65532:65532" \
        --change "WORKDIR /home/nonroot" \
        --change "ENV PATH=/usr/local/bin:/usr/bin:/bin" \
        --change "ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt" \
        - "$RUNTIME_IMAGE" >/dev/null
}

main() {
    install_missing

    WORK=$(mktemp -d)
    trap 'rm -rf "$WORK"' EXIT

    if image_wanted "$BUILDER_IMAGE"; then
        make_builder "$WORK/builder"
    fi
    if image_wanted "$RUNTIME_IMAGE"; then
        make_runtime "$WORK/runtime"
    fi

    log "ready: $BUILDER_IMAGE and $RUNTIME_IMAGE"
}

main "$@"
