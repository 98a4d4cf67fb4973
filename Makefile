# berth: the two commands a new machine needs are `make demo` and `make test`.
.PHONY: all deps build lint demo demo-swarm test test-unit test-integration test-compat bench clean

all: build

deps:
	./scripts/install-deps.sh

build:
	npx tsc -p tsconfig.json

# A guided tour in throwaway network namespaces; cleans up after itself. Act 1: one host;
# act 2: three hosts in a swarm with an overlay network (demo-swarm runs act 2 alone).
demo: deps
	./scripts/demo.sh
	./scripts/demo-swarm.sh

demo-swarm: deps
	./scripts/demo-swarm.sh

# Debian's interpreter, which has python3-docker (docker-py 5.0.3) and python3-pytest.
PYTHON ?= /usr/bin/python3

# The lint (promise mistakes end a daemon), unit tests (pure logic), integration tests
# (real kernel, in throwaway namespaces) and the docker-py compatibility suite.
# scripts/test.sh fails the run when the tests left anything behind in the kernel or /tmp.
test: deps
	PYTHON=$(PYTHON) ./scripts/test.sh

lint: build
	npx eslint .

test-unit: build
	node --test dist/test/unit/

test-integration: build
	node --test --test-concurrency=2 dist/test/integration/

# docker-py against berthd, as Docker automation drives it (test/compat/README.md).
test-compat: build
	$(PYTHON) -m pytest -q test/compat

# Figures, not tests: see bench/README.md. The swarm's three take about 3 minutes more.
bench: deps
	node dist/bench/run.js --quick
	node dist/bench/ports.js --quick
	node dist/bench/dataplane.js
	node dist/bench/overlay.js --quick
	node dist/bench/cluster.js --quick
	node dist/bench/cluster-scale.js --quick

clean:
	rm -rf dist
