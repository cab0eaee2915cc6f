# Build, test and lint firstline-rotator. `make help` lists the targets.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)

.PHONY: help build test test-short lint bench container-test

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "%-16s %s\n", $$1, $$2}'

build: ## build ./firstline-rotator (static, trimmed, version stamped)
	CGO_ENABLED=0 go build -trimpath -ldflags "$(LDFLAGS)" -o firstline-rotator .

test: ## the test command CI runs: vet, then every test with the race detector
	go vet ./...
	go test -race -count=1 ./...

STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

lint: ## gofmt, vet and staticcheck (pinned)
	@test -z "$$(gofmt -l .)" || { gofmt -l .; exit 1; }
	go vet ./...
	go run $(STATICCHECK) ./...

bench: build ## every whole-process benchmark figure (about 15 minutes; see BENCHMARKS.md)
	go run ./bench all

container-test: ## build the image with podman and rotate a token from it
	scripts/container/test.sh
