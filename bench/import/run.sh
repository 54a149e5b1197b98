#!/usr/bin/env bash
# Import benchmark: `paidoc import` of the search benchmark's synthetic
# corpus, in batches (the default, one transaction and one durable commit per
# --batch documents, sources parsed on every core), next to the same binary
# importing one document per transaction (--batch 1) in the same run.
#
#   bench/import/run.sh
#
# Environment (all optional):
#   N=100000          documents imported in batches
#   BASELINE_N=5000   documents imported one per transaction (the baseline;
#                     its rate is what one-by-one import reaches on this disk)
#   BATCH=256         documents per transaction
#   SEED=1            corpus seed (bench/search/corpus.cc)
#   PAIDOC=build/paidoc, SEARCH_CORPUS=build/bench/search/search_corpus
#   KEEP_TMP=1        keep the temp directory after the run
#   TMPDIR            where sources and databases go; it must be on the disk
#                     you want to measure, not tmpfs
#
# Prints documents per second of both, their ratio, and checks the result:
# every source reported as imported, the document count, and
# PRAGMA integrity_check.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
N=${N:-100000}
BASELINE_N=${BASELINE_N:-5000}
BATCH=${BATCH:-256}
SEED=${SEED:-1}
PAIDOC=${PAIDOC:-$ROOT/build/paidoc}
SEARCH_CORPUS=${SEARCH_CORPUS:-$ROOT/build/bench/search/search_corpus}

log() { printf '[bench/import] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"  # revision, row

for v in N BASELINE_N BATCH SEED; do
  [[ ${!v} =~ ^[0-9]+$ ]] && (( ${!v} > 0 )) || die "$v must be a positive integer"
done
(( BASELINE_N <= N )) || die "BASELINE_N ($BASELINE_N) must not exceed N ($N)"

if [[ ! -x $PAIDOC || ! -x $SEARCH_CORPUS ]]; then
  log "building paidoc and search_corpus"
  cmake -S "$ROOT" -B "$ROOT/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$ROOT/build" --target paidoc search_corpus -j "$(nproc)" >&2
fi
command -v sqlite3 >/dev/null || "$ROOT/scripts/install-deps.sh" --bench

TMP=$(mktemp -d "${TMPDIR:-/tmp}/paidoc-bench-import.XXXXXX")
cleanup() {
  local rc=$?
  if [[ ${KEEP_TMP:-0} == 1 ]]; then log "temp directory kept: $TMP"; else rm -rf "$TMP"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Needs about 5 KB of source and 30 KB of database per document.
need_kb=$((N * 40))
avail_kb=$(df -Pk "$TMP" | awk 'NR == 2 { print $4 }')
((avail_kb > need_kb)) || die "$TMP has $((avail_kb / 1024)) MB free; $N documents need about $((need_kb / 1024)) MB"

log "writing $N sources (seed $SEED)"
"$SEARCH_CORPUS" --write "$TMP/src" --docs "$N" --seed "$SEED"
src_mb=$(du -sm "$TMP/src" | cut -f1)

# The baseline: the first BASELINE_N sources, one transaction each.
mkdir -p "$TMP/one" "$TMP/base-only"
find "$TMP/src" -name '*.txt' | sort >"$TMP/all-sources"
head -n "$BASELINE_N" "$TMP/all-sources" |
  while read -r f; do ln -s "$f" "$TMP/base-only/$(basename "$f")"; done

# seconds CMD...: runs CMD with stdout to $TMP/out, prints wall seconds
seconds() {
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >"$TMP/out" 2>"$TMP/err" || { tail -n 5 "$TMP/err" >&2; die "$* failed"; }
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }'
}

log "baseline: $BASELINE_N documents, one transaction each"
base_s=$(seconds "$PAIDOC" --data "$TMP/one" import --batch 1 --price 3 "$TMP/base-only")
base_ok=$(grep -c '^imported ' "$TMP/out" || true)
((base_ok == BASELINE_N)) || die "baseline imported $base_ok of $BASELINE_N"

log "batched: $N documents, $BATCH per transaction"
mkdir -p "$TMP/batched"
batch_s=$(seconds "$PAIDOC" --data "$TMP/batched" import --batch "$BATCH" --price 3 "$TMP/src")
batch_ok=$(grep -c '^imported ' "$TMP/out" || true)
((batch_ok == N)) || die "batched import reported $batch_ok of $N imported"
count=$(sqlite3 "$TMP/batched/paidoc.db" 'SELECT count(*) FROM documents')
((count == N)) || die "the database holds $count documents, not $N"
integrity=$(sqlite3 "$TMP/batched/paidoc.db" 'PRAGMA integrity_check')
[[ $integrity == ok ]] || die "integrity_check: $integrity"

base_rate=$(awk -v n="$BASELINE_N" -v s="$base_s" 'BEGIN { printf "%.1f", n / s }')
batch_rate=$(awk -v n="$N" -v s="$batch_s" 'BEGIN { printf "%.1f", n / s }')
ratio=$(awk -v a="$batch_rate" -v b="$base_rate" 'BEGIN { printf "%.2f", a / b }')
mbps=$(awk -v m="$src_mb" -v s="$batch_s" 'BEGIN { printf "%.2f", m / s }')

printf 'revision %s, %s cores, N=%s, BATCH=%s\n' "$(revision)" "$(nproc)" "$N" "$BATCH"
row "import, one transaction per document ($BASELINE_N docs)" "$base_rate docs/s" "$base_s s"
row "import, $BATCH per transaction ($N docs)" "$batch_rate docs/s, $mbps MB/s" "$batch_s s"
row "batched / one by one" "**$ratio**" ""
printf 'checked: %s reported imported, %s in the database, integrity ok\n' "$batch_ok" "$count"
