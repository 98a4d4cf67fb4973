# berth: the two commands a new machine needs are `make demo` and `make test`.
.PHONY: all deps build demo test test-unit test-integration bench clean

all: build

deps:
	./scripts/install-deps.sh

build:
	npx tsc -p tsconfig.json

# A guided tour in a throwaway network namespace; cleans up after itself.
demo: deps
	./scripts/demo.sh

# Unit tests (pure logic) and integration tests (real kernel, in throwaway namespaces).
test: deps
	node --test --test-concurrency=2 dist/test/unit/ dist/test/integration/

test-unit: build
	node --test dist/test/unit/

test-integration: build
	node --test --test-concurrency=2 dist/test/integration/

# Figures, not tests: see bench/README.md.
bench: deps
	node dist/bench/run.js --quick
	node dist/bench/ports.js --quick
	node dist/bench/dataplane.js

clean:
	rm -rf dist
