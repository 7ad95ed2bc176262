#!/usr/bin/env bash
# The hub itself on a GPU host: `ahub serve` on an empty store loads packages/ and verifies every
# package in its workers (the GPU ones through the sandbox with the GPU passed in), then this prints
# the ranking and the open tensions as a reviewer would read them. For the device machine, where
# `ahub` comes from a carried build (see device.sh's AHUB_CARRY); the attention programs must sit
# beside it (device.sh copies them there).
#
# usage: bench/attention/hub_on_gpu.sh AHUB_CARRY_DIR [PORT]
set -euo pipefail
carry=${1:?usage: hub_on_gpu.sh AHUB_CARRY_DIR [PORT]}
port=${2:-8090}
root=$(cd "$(dirname "$0")/../.." && pwd)
export PATH="$carry/bin:$PATH" LD_LIBRARY_PATH="$carry/lib"
data=$(mktemp -d /tmp/ahub-gpu-hub.XXXXXX)
"$carry/bin/ahub" serve --listen "127.0.0.1:$port" --data "$data" --seed-dir "$root/packages" --workers 2 \
  >"$data.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; echo "server log: $data.log"; tail -5 "$data.log"' EXIT
expected=$(ls "$root"/packages/*/package.yaml | wc -l)
python3 - "$port" "$expected" "$server" <<'PY'
import json, os, sys, time, urllib.request
base = f"http://127.0.0.1:{sys.argv[1]}"
expected = int(sys.argv[2])
# No proxy: a loopback request must not go through an http_proxy the environment may name.
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
def get(path):
    with opener.open(base + path, timeout=30) as r:
        return json.load(r)
start = time.time()
while True:
    try:
        q = get("/healthz")["queue"]
        loaded = get("/api/v1/packages?limit=1")["total"]
        if loaded >= expected and q["queued"] == 0 and q["running"] == 0:
            break
    except OSError as e:
        q, loaded = {"error": str(e)}, 0
        try:
            os.kill(int(sys.argv[3]), 0)
        except ProcessLookupError:
            sys.exit("hub_on_gpu: the server exited; see its log below")
    if int(time.time() - start) % 10 == 0:
        print(f"{time.time() - start:4.0f} s: {loaded}/{expected} packages loaded, queue {q}", flush=True)
    if time.time() - start > 600:
        sys.exit("hub_on_gpu: jobs still running after 600 s")
    time.sleep(1)
print(f"all verification jobs settled in {time.time() - start:.0f} s")
page = get("/api/v1/packages?limit=50")
print(f"{'score':>6}  {'level':<12} {'claims':>6}  package")
for p in page["items"]:
    print(f"{p['score']:6.1f}  {p['level']:<12} {p['claims']:>6}  {p['id']}")
for t in get("/api/v1/tensions?status=open")["tensions"]:
    print(f"open tension: {t['metric']} ({t['kind']}) raised by {t['raised_by']} against {t['other']}")
PY
