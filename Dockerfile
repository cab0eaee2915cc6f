# Container image of firstline-rotator: a static binary on a distroless base
# with no shell, running as UID 65532, fit for a read-only root file system.
#
#   podman build --build-arg VERSION=1.2.3 -t firstline-rotator .
#   podman run --read-only -v ./config:/config:ro -v rotator-state:/state \
#       -v ./tokens:/sinks firstline-rotator
#
# The config is read from /config/config.yaml; point state_dir at /state and
# sink paths into /sinks (or other mounted volumes).
#
# Where no image registry is reachable, scripts/container/prepare-base-images.sh
# makes local images under the two FROM names below.

ARG GO_VERSION=1.26.8

FROM docker.io/library/golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-buildvcs=false

# The module and build caches outlive the build, so a rebuild downloads
# and compiles only what changed; the build fetches just the modules the
# binary needs, not every module go.mod lists for tests.
COPY . .
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" \
        -o /out/firstline-rotator . \
    && mkdir -p /out/state /out/sinks

FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev
LABEL org.opencontainers.image.title="firstline-rotator" \
      org.opencontainers.image.description="Rotates FIRST LINE API tokens and delivers them to sinks" \
      org.opencontainers.image.version="${VERSION}"

COPY --from=build /out/firstline-rotator /usr/local/bin/firstline-rotator
# State and sink directories belong to the runtime user; volumes mounted
# there start with this ownership.
COPY --from=build --chown=65532:65532 /out/state /state
COPY --from=build --chown=65532:65532 /out/sinks /sinks

USER 65532:65532
# Every command reads its config from here unless --config says otherwise.
ENV FIRSTLINE_ROTATOR_CONFIG=/config/config.yaml
VOLUME ["/state", "/sinks"]
# The health and metrics listener, when the config sets http.listen to
# 0.0.0.0:9464.
EXPOSE 9464
ENTRYPOINT ["/usr/local/bin/firstline-rotator"]
CMD ["run"]
