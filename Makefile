# sdpkit: `make test` installs what the tests need and runs them all.
GO ?= go

.PHONY: all build deps test vet unit unit-tango fuzz bench demo

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
	$(GO) vet -tags tango ./tango/... ./connector/tangoio/ ./cmd/sdp/ ./internal/tangopeer/

unit:
	SDP_REQUIRE_PEERS=1 $(GO) test -race -count=1 ./...

# The cgo layer over cppTango (build tag tango), tested against pytango
# peers; the race detector works with cppTango's threads.
unit-tango:
	./scripts/unit-tango.sh

fuzz:
	./scripts/fuzz.sh

test: deps vet unit unit-tango fuzz

bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./...

demo:
	$(GO) run ./cmd/sdp demo
