#!/usr/bin/env bash
# The whole suite: lint, unit and integration tests, the docker-py compatibility suite.
# The run has a tag (t<pid>) in every namespace name its tests make and its own TMPDIR, so
# what a test leaves behind - even one killed half-way, whose clean-up never ran - is
# found afterwards: the run then fails, naming it, and removes it. What earlier runs that
# were killed left is removed first (a benchmark or test file run alone is a run of its own
# process: test/lib/world.ts).
set -uo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-/usr/bin/python3}

node dist/test/leftovers-cli.js sweep
export BERTH_TEST_RUN="t$$"
export TMPDIR="/tmp/berth-run-$$"
mkdir -p "$TMPDIR"

status=0
npx eslint . || status=1
if [ "$status" = 0 ]; then
  node --test --test-concurrency=2 dist/test/unit/ dist/test/integration/ || status=1
fi
if [ "$status" = 0 ]; then
  "$PYTHON" -m pytest -q test/compat || status=1
fi
node dist/test/leftovers-cli.js check || status=1
exit "$status"
