#!/bin/bash
# Side by side: the peers (the tutorial's FastAPI service, Better Auth, a bare fastify hello-world) measured by
# their own harness, then Latchkey by `npm run bench`, in one session, every unit under /tmp/bench.lock.
#
#   bench/compare.sh [RUNS=3]
#
# PEERS_DIR: an installed copy of the shared peers folder (its README explains the one-time setup: apt
# packages, PostgreSQL roles, npm ci); default /tmp/peers. Results land in bench/results/<stamp>-*.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
runs=${1:-3}
peers=${PEERS_DIR:-/tmp/peers}
[ -x "$peers/bench-unit.sh" ] || { echo "no peers harness in $peers (copy ../shared/peers there and install it)" >&2; exit 1; }
stamp=$(date +%Y%m%dT%H%M%S)
mkdir -p "$here/results"
out="$here/results/$stamp-peers.jsonl"
"$peers/mailcapture/run.sh" >/dev/null
unit() { (cd "$peers" && flock /tmp/bench.lock ./bench-unit.sh "$@") || echo "UNIT FAILED: $*" >&2; }
for run in $(seq 1 "$runs"); do
  echo "=== peers, run $run/$runs" >&2
  unit fastify-w1 hello "$run" 50 "$out"
  for peer in better-auth seed; do
    unit "$peer" whoami "$run" 50 "$out"
    unit "$peer" login "$run" 50 "$out" --no-flow-check
    unit "$peer" register "$run" 50 "$out" --no-flow-check
  done
done
(cd "$peers" && node summarize.mjs "$out") | tee "$here/results/$stamp-peers.md"
cd "$here/.."
npm run bench -- --runs "$runs" --json "$here/results/$stamp-latchkey.json" | tee "$here/results/$stamp-latchkey.md"
