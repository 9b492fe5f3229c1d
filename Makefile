# sdpkit: `make test` installs what the tests need and runs them all.
GO ?= go

.PHONY: all build deps test vet unit fuzz bench demo

all: build

build:
	$(GO) build -o bin/sdp ./cmd/sdp

deps:
	./scripts/deps.sh
	./scripts/peers.sh

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...

unit:
	SDP_REQUIRE_PEERS=1 $(GO) test -race -count=1 ./...

fuzz:
	./scripts/fuzz.sh

test: deps vet unit fuzz

bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./...

demo:
	$(GO) run ./cmd/sdp demo
