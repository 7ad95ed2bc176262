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
trap 'kill $server 2>/dev/null || true' EXIT
expected=$(ls "$root"/packages/*/package.yaml | wc -l)
python3 - "$port" "$expected" <<'PY'
import json, sys, time, urllib.request
base = f"http://127.0.0.1:{sys.argv[1]}"
expected = int(sys.argv[2])
def get(path):
    with urllib.request.urlopen(base + path, timeout=30) as r:
        return json.load(r)
start = time.time()
while True:
    try:
        q = get("/healthz")["queue"]
        loaded = get("/api/v1/packages?limit=1")["total"]
        if loaded >= expected and q["queued"] == 0 and q["running"] == 0:
            break
    except OSError:
        pass
    if time.time() - start > 900:
        sys.exit("hub_on_gpu: jobs still running after 900 s")
    time.sleep(1)
print(f"all verification jobs settled in {time.time() - start:.0f} s")
page = get("/api/v1/packages?limit=50")
print(f"{'score':>6}  {'level':<12} {'claims':>6}  package")
for p in page["items"]:
    print(f"{p['score']:6.1f}  {p['level']:<12} {p['claims']:>6}  {p['id']}")
for t in get("/api/v1/tensions?status=open")["tensions"]:
    print(f"open tension: {t['metric']} ({t['kind']}) raised by {t['raised_by']} against {t['other']}")
PY
