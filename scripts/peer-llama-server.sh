#!/usr/bin/env bash
# Profile llama.cpp's llama-server (a server not written here) with `inferscope profile --endpoint`.
#
#   scripts/peer-llama-server.sh [WORK_DIR]        (default WORK_DIR: /tmp/inferscope-peer-llama)
#
# 1. Downloads the llama-cpp-python sdist from PyPI (it vendors llama.cpp's source; there is no
#    Debian package of llama.cpp on bookworm) into WORK_DIR — never into this repository.
# 2. Builds only the `llama-server` target with CMake (Release, static, no web UI download,
#    no OpenSSL): about 15 minutes on 2 cores. A binary already built is reused; set
#    LLAMA_SERVER=/path/to/llama-server to skip the download and build.
# 3. Exports stories15m as a GGUF with `inferscope model export`, starts llama-server on it on
#    127.0.0.1 with --metrics (4 slots), runs `inferscope profile --endpoint` (closed loop, 4 in
#    flight, 32 chat-sized requests), stops the server, and checks: every request completed,
#    llamacpp:* metrics were read, token counts came from `usage` and agree with llama.cpp's
#    `timings.predicted_n`, and `inferscope analyze` prints a verdict.
# Exit 0 when every check passes. Not run in CI: the build alone takes longer than CI's budget
# (see docs/endpoint.md).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="${1:-/tmp/inferscope-peer-llama}"
VERSION="${LLAMA_CPP_PYTHON_VERSION:-0.3.36}"
mkdir -p "$WORK"
cd "$WORK"

SERVER="${LLAMA_SERVER:-$WORK/build/bin/llama-server}"
if [ ! -x "$SERVER" ]; then
    if [ ! -d "llama_cpp_python-$VERSION" ]; then
        python3 -m pip download --no-deps --no-binary :all: "llama-cpp-python==$VERSION" -d "$WORK"
        tar xzf "llama_cpp_python-$VERSION.tar.gz"
    fi
    SRC="$WORK/llama_cpp_python-$VERSION/vendor/llama.cpp"
    cmake -S "$SRC" -B "$WORK/build" -DCMAKE_BUILD_TYPE=Release -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_BUILD_UI=OFF \
          -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DBUILD_SHARED_LIBS=OFF
    cmake --build "$WORK/build" --target llama-server -j "$(nproc)"
fi

cd "$ROOT"
swift build -c release --product inferscope
INFERSCOPE="$ROOT/.build/release/inferscope"
cd "$WORK"
"$INFERSCOPE" model export --preset stories15m --type f32 -o stories15m.gguf
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$SERVER" -m stories15m.gguf --host 127.0.0.1 --port "$PORT" --metrics -c 1024 -np 4 -t 2 > llama-server.log 2>&1 &
SERVER_PID=$!
trap 'kill "$SERVER_PID" 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
    curl -sf "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break
    sleep 0.5
done
curl -sf "http://127.0.0.1:$PORT/health" >/dev/null || { echo "llama-server did not become healthy; see $WORK/llama-server.log" >&2; exit 1; }

"$INFERSCOPE" profile --endpoint "http://127.0.0.1:$PORT" --model "$WORK/stories15m.gguf" --workload chat \
    --requests 32 --concurrency 4 --warmup 2 -o llama-server-trace.json | tee profile.txt
kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
"$INFERSCOPE" analyze llama-server-trace.json | tee analyze.txt

fail=0
grep -q "32 completed, 0 failed, 0 cancelled" profile.txt || { echo "check failed: not every request completed" >&2; fail=1; }
grep -q "llamacpp:requests_processing" profile.txt || { echo "check failed: llamacpp:* metrics not read" >&2; fail=1; }
grep -q "counts from usage (all 32 requests)" profile.txt || { echo "check failed: token counts not from usage" >&2; fail=1; }
grep -q "timings.predicted_n agrees on all 32" profile.txt || { echo "check failed: usage and timings disagree" >&2; fail=1; }
grep -q "^  workload: " analyze.txt || { echo "check failed: analyze gave no verdict" >&2; fail=1; }
grep "^  workload: " analyze.txt || true
exit $fail
