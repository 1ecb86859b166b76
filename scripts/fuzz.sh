#!/usr/bin/env bash
# Builds and runs InferScope's libFuzzer targets (docs/fuzzing.md).
#
#   scripts/fuzz.sh [SECONDS] [TARGET…]       fuzz each TARGET (default: all) for SECONDS (default 60)
#   scripts/fuzz.sh --write-model-seeds       regenerate Fuzz/corpus/fuzz-model (tiny GGUF/llama2.c files)
#
# Each target runs with:
#   -max_total_time=SECONDS   the time budget
#   -timeout=1                an input taking over 1 s is a finding ("hang")
#   -rss_limit_mb=$FUZZ_MEMORY_MB and -malloc_limit_mb=$FUZZ_MEMORY_MB (default 2048): resident
#                             memory over the bound, or one allocation over it, is a finding
#                             (the per-allocation bound is enforced only with AddressSanitizer,
#                             which is on by default: FUZZ_SANITIZERS=fuzzer,address)
# Environment:
#   FUZZ_CONFIG       release (default) or debug: the SwiftPM configuration of the fuzz build
#   FUZZ_SANITIZERS   fuzzer,address (default) or fuzzer (faster, no memory-error checks). Passed
#                     as one -sanitize= list through -Xswiftc, after SwiftPM's --sanitize=fuzzer
#                     (which makes libFuzzer supply main): with Swift 6.3 the last -sanitize=
#                     option wins, so `--sanitize=fuzzer --sanitize=address` gave objects with
#                     ASan but no coverage counters.
#   FUZZ_MEMORY_MB    the memory bound above (default 2048)
#   FUZZ_WORK         where the growing corpus, logs and crash inputs go (default .build/fuzz/work)
# The seed corpora (Fuzz/corpus/TARGET) are read, never written. Exit status: 0 when every
# target ran clean, 1 when any crashed, hung, ran out of memory or failed to build, 2 on usage.
# A crashing input is left as $FUZZ_WORK/TARGET/crash-* (or timeout-*, oom-*); replay it with
# `.build/fuzz/$FUZZ_CONFIG/TARGET FILE`.
set -uo pipefail
cd "$(dirname "$0")/.."

all_targets=(fuzz-trace fuzz-importers fuzz-model fuzz-workload fuzz-gate)
# Largest input per target (bytes): the seeds' size, with room to grow.
declare -A max_len=([fuzz-trace]=16384 [fuzz-importers]=16384 [fuzz-model]=16384 [fuzz-workload]=4096 [fuzz-gate]=256)

config=${FUZZ_CONFIG:-release}
memory_mb=${FUZZ_MEMORY_MB:-2048}
work=${FUZZ_WORK:-.build/fuzz/work}
sanitizers=${FUZZ_SANITIZERS:-fuzzer,address}

build() {  # build TARGET: one product of the opt-in fuzz targets, in its own scratch directory
    INFERSCOPE_FUZZ=1 swift build -c "$config" --sanitize=fuzzer -Xswiftc -sanitize="$sanitizers" --scratch-path .build/fuzz --product "$1"
}

if [[ "${1:-}" == "--write-model-seeds" ]]; then
    build fuzz-model || exit 1
    mkdir -p Fuzz/corpus/fuzz-model
    INFERSCOPE_FUZZ_WRITE_SEEDS=Fuzz/corpus/fuzz-model SWIFT_BACKTRACE=enable=no ".build/fuzz/$config/fuzz-model"
    ls -l Fuzz/corpus/fuzz-model
    exit $?
fi

seconds=60
if [[ $# -gt 0 && "$1" =~ ^[0-9]+$ ]]; then seconds=$1; shift; fi
targets=("$@")
[[ ${#targets[@]} -eq 0 ]] && targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
    if [[ -z "${max_len[$t]:-}" ]]; then
        echo "error: unknown fuzz target '$t'; expected one of: ${all_targets[*]}" >&2
        exit 2
    fi
done

failed=0
summary=()
for t in "${targets[@]}"; do
    echo "== $t: building ($config, sanitizers: $sanitizers)"
    if ! build "$t"; then
        summary+=("$t: BUILD FAILED")
        failed=1
        continue
    fi
    mkdir -p "$work/$t/corpus"
    log="$work/$t/fuzz.log"
    echo "== $t: fuzzing for ${seconds}s (log: $log)"
    # The Swift runtime's backtracer would take the crash signal from libFuzzer, which then could
    # not save the crashing input: off. ASan: leaks are not findings here (the harness keeps caches).
    corpora=("$work/$t/corpus" "Fuzz/corpus/$t")  # the first one receives the new inputs
    [[ -d "Fuzz/regressions/$t" ]] && corpora+=("Fuzz/regressions/$t")  # past findings, replayed first
    SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0 \
        ".build/fuzz/$config/$t" "${corpora[@]}" \
        -max_total_time="$seconds" -timeout=1 -rss_limit_mb="$memory_mb" -malloc_limit_mb="$memory_mb" \
        -max_len="${max_len[$t]}" -artifact_prefix="$work/$t/" -print_final_stats=1 > "$log" 2>&1
    status=$?
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    if [[ $status -eq 0 ]]; then
        summary+=("$t: ${runs:-?} inputs in ${seconds}s (${rate:-?}/s), no crash, no hang over 1 s, memory within ${memory_mb} MB")
    else
        failed=1
        finding=$(grep -m1 -E 'ERROR: libFuzzer|SUMMARY: (libFuzzer|AddressSanitizer)|Fatal error|==ERROR' "$log" || echo "exit status $status")
        artifact=$(grep -o "Test unit written to .*" "$log" | tail -1 | sed 's/Test unit written to //')
        summary+=("$t: FAILED after ${runs:-?} inputs: $finding; input: ${artifact:-none saved}")
        grep -E 'Fatal error|ERROR|SUMMARY' "$log" | head -5 | sed 's/^/    /'
    fi
done

echo "== fuzz summary (${seconds}s per target)"
printf '%s\n' "${summary[@]}"
exit $failed
