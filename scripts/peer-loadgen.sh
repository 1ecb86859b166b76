#!/usr/bin/env bash
# Runs a peer's load generator (NVIDIA AIPerf, from PyPI) against `inferscope serve` and compares
# its p50 TTFT / TPOT / output throughput with `inferscope analyze` on the server's own trace.
#
#   scripts/peer-loadgen.sh [OUT_DIR]
#
# Environment (all optional):
#   INFERSCOPE   the binary (default: .build/debug/inferscope, built if missing)
#   PEER_VENV    virtualenv for AIPerf (default: ~/.cache/inferscope/peer-venv; created on first
#                run: `pip install aiperf==0.13.0`, ~10 min on 2 cores, no GPU libraries)
#   MODEL        model preset (default: tiny)     REQUESTS (default: 64)   CONCURRENCY (default: 4)
#   ISL / OSL    prompt / output tokens (default: 32 / 64)
#   SERVE_ARGS   extra options for `inferscope serve` (e.g. "--threads 1" to leave a core to the
#                HTTP threads and the load generator)
#
# AIPerf needs a tokenizer to synthesise prompts. The hub is unreachable here and its
# `--tokenizer builtin` (tiktoken o200k_base) downloads its table on first use, so the script
# trains a small byte-level BPE tokenizer locally (HF `tokenizers`, installed with AIPerf; on
# Python's own library sources, ~1 s) and passes its directory; `--use-server-token-count`
# makes AIPerf take token counts from our `usage` chunk instead of re-tokenizing. Outputs: OUT_DIR/aiperf/ (AIPerf's artifacts), OUT_DIR/serve-trace.json,
# OUT_DIR/analysis.json and OUT_DIR/comparison.md (the table in docs/serve.md).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-peer-loadgen-out}
INFERSCOPE=${INFERSCOPE:-.build/debug/inferscope}
PEER_VENV=${PEER_VENV:-$HOME/.cache/inferscope/peer-venv}
MODEL=${MODEL:-tiny}
REQUESTS=${REQUESTS:-64}
CONCURRENCY=${CONCURRENCY:-4}
ISL=${ISL:-32}
OSL=${OSL:-64}

if [ ! -x "$PEER_VENV/bin/aiperf" ]; then
    python3 -m venv "$PEER_VENV"
    "$PEER_VENV/bin/pip" install --quiet aiperf==0.13.0
fi
if [ ! -x "$INFERSCOPE" ]; then swift build --product inferscope; fi

mkdir -p "$OUT"
if [ ! -f "$OUT/tokenizer/tokenizer.json" ]; then
    "$PEER_VENV/bin/python" - "$OUT/tokenizer" <<'PYEOF'
import os, sys, glob
from tokenizers import Tokenizer, models, pre_tokenizers, decoders, trainers
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
corpus = [open(p, errors="ignore").read() for p in sorted(glob.glob(os.path.join(os.path.dirname(os.__file__), "*.py")))[:40]]
tok = Tokenizer(models.BPE())
tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
tok.decoder = decoders.ByteLevel()
tok.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=2000, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
tok.save(os.path.join(out, "tokenizer.json"))
open(os.path.join(out, "tokenizer_config.json"), "w").write('{"tokenizer_class": "PreTrainedTokenizerFast"}')
PYEOF
fi
rm -f "$OUT/port" "$OUT/serve-trace.json"
"$INFERSCOPE" serve --model "$MODEL" --port 0 --port-file "$OUT/port" --trace "$OUT/serve-trace.json" \
    --no-probe ${SERVE_ARGS:-} 2> "$OUT/serve.log" &
SERVER=$!
trap 'kill -INT $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do [ -s "$OUT/port" ] && break; sleep 0.1; done
PORT=$(cat "$OUT/port")
echo "inferscope serve on port $PORT (pid $SERVER)"

"$PEER_VENV/bin/aiperf" profile --model "$MODEL" --url "http://127.0.0.1:$PORT" --endpoint-type completions \
    --streaming --tokenizer "$OUT/tokenizer" --use-server-token-count \
    --isl "$ISL" --isl-stddev 0 --osl "$OSL" --osl-stddev 0 --extra-inputs ignore_eos:true \
    --concurrency "$CONCURRENCY" --request-count "$REQUESTS" \
    --output-artifact-dir "$OUT/aiperf" --ui-type none > "$OUT/aiperf.log" 2>&1 || { tail -30 "$OUT/aiperf.log"; exit 1; }

kill -INT $SERVER
wait $SERVER || true
trap - EXIT
"$INFERSCOPE" analyze "$OUT/serve-trace.json" --json > "$OUT/analysis.json"

"$PEER_VENV/bin/python" - "$OUT" <<'PYEOF'
import glob, json, sys
out = sys.argv[1]
path = sorted(glob.glob(f"{out}/aiperf/**/profile_export_aiperf.json", recursive=True))[-1]
peer = json.load(open(path))
ours = json.load(open(f"{out}/analysis.json"))["metrics"]

def peer_p50(name):
    m = peer.get(name) or next((r for r in peer.get("records", []) if r.get("tag") == name), None)
    return m["p50"], m.get("unit", "")

def peer_avg(name):
    m = peer.get(name) or next((r for r in peer.get("records", []) if r.get("tag") == name), None)
    return m["avg"], m.get("unit", "")

rows = []
ttft, u = peer_p50("time_to_first_token")
rows.append(("TTFT p50 (ms)", ttft, ours["latency"]["ttft_s"]["p50"] * 1e3))
itl, u = peer_p50("inter_token_latency")
rows.append(("TPOT p50 (ms) [AIPerf 'ITL']", itl, ours["latency"]["tpot_s"]["p50"] * 1e3))
e2e, u = peer_p50("request_latency")
rows.append(("E2E p50 (ms)", e2e, ours["latency"]["e2e_s"]["p50"] * 1e3))
tput, u = peer_avg("output_token_throughput")
rows.append(("output tok/s", tput, ours["throughput"]["output_tokens_per_s"]))
lines = ["| metric | AIPerf 0.13.0 | inferscope analyze (server trace) | difference |", "|---|---|---|---|"]
for name, a, b in rows:
    lines.append(f"| {name} | {a:.2f} | {b:.2f} | {100 * (b - a) / a:+.1f}% |")
text = "\n".join(lines) + "\n"
open(f"{out}/comparison.md", "w").write(text)
print(text)
PYEOF
