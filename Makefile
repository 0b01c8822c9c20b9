# telehealth-bridge. `make demo` runs it locally; `make test` runs every test (CI runs it too).
GO ?= go
export CGO_ENABLED ?= 0

.PHONY: build demo test bench soak fuzz mutate deps-test deps-e2e

# The version and commit `telehealth-bridge --version` prints and the first log line carries.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS := -s -w -X main.Version=$(VERSION) -X main.Commit=$(COMMIT)

build:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/telehealth-bridge ./cmd/telehealth-bridge

demo:
	$(GO) run ./cmd/telehealth-demo

# What the tests need: PostgreSQL running, the test homeserver and the LiveKit server built
# (once each, into the cache; LiveKit takes about 3 minutes on 2 cores),
# Chromium and the browser-driving npm package, and the two calendar parsers the invite tests
# read invites with (ical.js from npm, Debian's python3-icalendar).
deps-test: deps-e2e
	./scripts/ensure-postgres.sh
	$(GO) run ./internal/tools/ensure-dendrite
	$(GO) run ./internal/tools/ensure-livekit

deps-e2e:
	@test -x /usr/bin/chromium || { echo "Installing Chromium..."; apt-get update -qq && apt-get install -y -qq chromium; }
	@test -d e2e/node_modules/playwright-core -a -d e2e/node_modules/@stoplight/prism-cli -a -d e2e/node_modules/ical.js -a -d e2e/node_modules/@element-hq/element-call-embedded -a -d e2e/node_modules/livekit-client || { echo "Installing playwright-core, Prism, ical.js, Element Call and livekit-client..."; cd e2e && npm ci --no-audit --no-fund; }
	@/usr/bin/python3 -c 'import icalendar' 2>/dev/null || { echo "Installing python3-icalendar..."; apt-get update -qq && apt-get install -y -qq python3-icalendar; }

test: deps-test
	$(GO) vet ./...
	@test -z "$$(gofmt -l .)" || { echo "gofmt would change:"; gofmt -l .; exit 1; }
	$(GO) test -count=1 -timeout 30m ./...

# Benchmarks, never part of `make test`.
bench: deps-test
	$(GO) test -run '^$$' -bench . -benchtime=2000x ./bridge/
	$(GO) test -run '^$$' -bench Audit -benchtime=2000x ./database/
	$(GO) test -run '^$$' -bench SlotSearch -benchtime=500x ./database/
	$(GO) test -run '^$$' -bench PortalHome -benchtime=2000x ./web/
	$(GO) test -run '^$$' -bench . -benchtime=1x ./appservice/
	$(GO) test -run '^$$' -bench . -benchtime=1x ./scheduler/
	$(GO) run ./cmd/sfu-loadtest
	$(GO) run ./cmd/sfu-loadtest -backend livekit -rooms 10,20
	$(GO) test -run '^$$' -bench . -benchtime=1x ./internal/e2e/
	$(GO) test -run '^$$' -bench MorningRush -benchtime=1x -timeout 60m ./internal/rush/

# The SFU under SOAK_ROOMS rooms of 1+1 for SOAK_TIME, printing its goroutines, memory and packet
# counters every SOAK_EVERY: they should stay flat. Never part of `make test`.
SOAK_ROOMS ?= 20
SOAK_TIME ?= 30m
SOAK_EVERY ?= 1m
soak:
	$(GO) run ./cmd/sfu-loadtest -rooms $(SOAK_ROOMS) -soak $(SOAK_TIME) -every $(SOAK_EVERY)

# Every Go fuzz target in the repository (func FuzzXxx), each for FUZZTIME; their seed corpora
# already run in `make test`. A failing input is saved under the package's testdata/fuzz and
# stops the run. Minimising an input found interesting is capped, or big inputs stall the run.
FUZZTIME ?= 60s
FUZZMINIMIZETIME ?= 5s
fuzz:
	@targets=$$($(GO) test -list '^Fuzz' ./... | awk '/^Fuzz/ { t[n++] = $$1 } /^ok/ { for (i = 0; i < n; i++) print $$2, t[i]; n = 0 }'); \
	test -n "$$targets" || { echo "no fuzz targets found"; exit 1; }; \
	echo "$$targets" | while read pkg target; do \
		echo "== $$target ($$pkg) for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZETIME) $$pkg || exit 1; \
	done

# Breaks each rule of docs/security.md in turn (mutations.txt), in a copy of the tree, and runs
# the tests that must catch it: every line of the table should read "caught". It takes minutes,
# so it is not part of `make test`. MUTATE_FLAGS: -only id,id -list -uncovered -j 2 -timeout 5m.
MUTATE_FLAGS ?=
mutate: deps-test
	$(GO) run ./internal/tools/mutate $(MUTATE_FLAGS)
