# telehealth-bridge. `make demo` runs it locally; `make test` runs every test (CI runs it too).
GO ?= go
export CGO_ENABLED ?= 0

.PHONY: build demo test bench deps-test

build:
	$(GO) build -o bin/telehealth-bridge ./cmd/telehealth-bridge

demo:
	$(GO) run ./cmd/telehealth-demo

# What the tests need: PostgreSQL running and the test homeserver built (once, into the cache).
deps-test:
	./scripts/ensure-postgres.sh
	$(GO) run ./internal/tools/ensure-dendrite

test: deps-test
	$(GO) vet ./...
	@test -z "$$(gofmt -l .)" || { echo "gofmt would change:"; gofmt -l .; exit 1; }
	$(GO) test -count=1 -timeout 30m ./...

# Benchmarks, never part of `make test`.
bench: deps-test
	$(GO) test -run '^$$' -bench . -benchtime=2000x ./bridge/
	$(GO) test -run '^$$' -bench . -benchtime=1x ./appservice/
