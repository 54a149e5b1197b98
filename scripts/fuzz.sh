#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ (a separate clang build directory,
# PAIDOC_FUZZ=ON) and runs each for FUZZ_SECONDS. See fuzz/README.md.
#
#   FUZZ_SECONDS=60                       seconds per target (default 60)
#   FUZZ_TARGETS="fuzz_source fuzz_http"  a subset (default: all)
#   FUZZ_BUILD=build-fuzz                 the build directory
#
# Each target runs on a working copy of its seed corpus under
# $FUZZ_BUILD/fuzz-work/<target>/corpus (the repo's fuzz/corpus stays as it
# is), with -timeout=10, -rss_limit_mb=2048 and its dictionary
# (fuzz/source.dict, fuzz/http.dict). One summary line per target;
# the exit status is non-zero when any target found a crash, leak, timeout
# or out-of-memory, and the line names the input that did it.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
seconds="${FUZZ_SECONDS:-60}"
build="${FUZZ_BUILD:-build-fuzz}"
all_targets=(fuzz_source fuzz_markdown fuzz_docx fuzz_http fuzz_search_query fuzz_payment_notification)
read -r -a targets <<<"${FUZZ_TARGETS:-${all_targets[*]}}"
if ! [[ $seconds =~ ^[0-9]+$ ]] || [[ $seconds -lt 1 ]]; then
  echo "fuzz.sh: FUZZ_SECONDS must be a whole number of seconds, not '$seconds'" >&2
  exit 2
fi
for t in "${targets[@]}"; do
  if [[ ! -f fuzz/$t.cc ]]; then
    echo "fuzz.sh: unknown target '$t' (known: ${all_targets[*]})" >&2
    exit 2
  fi
done

if [[ ! -f $build/build.ninja ]]; then
  launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_COMPILER=clang++ -DPAIDOC_FUZZ=ON -DPAIDOC_WITH_POSTGRES=OFF "${launcher[@]}" ||
    exit 1
fi
cmake --build "$build" --target "${targets[@]}" -j "$(nproc)" || exit 1

failed=0
summary=()
for t in "${targets[@]}"; do
  work="$build/fuzz-work/$t"
  mkdir -p "$work/corpus" "$work/artifacts"
  rm -f "$work"/artifacts/*
  [[ -d fuzz/corpus/$t ]] && cp -n fuzz/corpus/"$t"/* "$work/corpus/" 2>/dev/null
  # The dictionaries give the fuzzer the words it cannot guess byte by byte
  # (the paid markers, routes, header names).
  dict=()
  case $t in
    fuzz_source | fuzz_markdown | fuzz_docx | fuzz_search_query) dict=(-dict=fuzz/source.dict) ;;
    fuzz_http) dict=(-dict=fuzz/http.dict) ;;
  esac
  echo "== $t: ${seconds}s (log: $work/log)" >&2
  "$build/fuzz/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 "${dict[@]}" \
    -print_final_stats=1 -artifact_prefix="$work/artifacts/" "$work/corpus" >"$work/log" 2>&1
  rc=$?
  execs=$(grep -o '^stat::number_of_executed_units: *[0-9]*' "$work/log" | grep -o '[0-9]*$')
  rate=$(grep -o '^stat::average_exec_per_sec: *[0-9]*' "$work/log" | grep -o '[0-9]*$')
  last=$(grep -E '^#[0-9]+.*cov: ' "$work/log" | tail -n 1)
  cov=$(grep -o 'cov: [0-9]*' <<<"$last" | grep -o '[0-9]*')
  ft=$(grep -o 'ft: [0-9]*' <<<"$last" | grep -o '[0-9]*')
  corp=$(grep -o 'corp: [0-9]*' <<<"$last" | grep -o '[0-9]*')
  line="$t: ${execs:-?} execs (${rate:-?}/s), cov ${cov:-?}, ft ${ft:-?}, corpus ${corp:-?}"
  if [[ $rc -eq 0 ]]; then
    line+=", no finding"
  else
    failed=1
    crash=$(grep -o 'Test unit written to .*' "$work/log" | tail -n 1 | sed 's/Test unit written to //')
    what=$(grep -m1 -oE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer|UndefinedBehaviorSanitizer)[^(]*|fuzz invariant broken: .*|runtime error: .*' "$work/log" | head -c 200)
    line+=", FINDING (exit $rc): ${what:-see the log}; input: ${crash:-none written}; log: $work/log"
  fi
  summary+=("$line")
  echo "$line" >&2
done

echo
echo "fuzz summary (${seconds}s per target):"
printf '  %s\n' "${summary[@]}"
exit $failed
