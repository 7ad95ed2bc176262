#!/usr/bin/env bash
# Runs the native search-bench and the bisect-membership CPython study on the same size ladder
# and prints them side by side, with the CPython/C++ time ratios.
#
#   bench/search-bench/run.sh [BUILD_DIR]      (default BUILD_DIR: build)
#
# Set KEEP=DIR to keep both JSON documents (DIR/native.json, DIR/python.json).
# Takes about 10 s on a 2-core machine: ~4 s native (sizes 1..2^20), ~5 s CPython (1..2^16).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${1:-$root/build}"
bench="$build/bin/search-bench"
python=/usr/bin/python3  # the interpreter the sandbox runs packages with

if [[ ! -x "$bench" ]]; then
  echo "run.sh: $bench not found; build it with: cmake --build $build --target search-bench" >&2
  exit 2
fi
if [[ ! -x "$python" ]]; then
  echo "run.sh: $python not found; the CPython study needs the system interpreter" >&2
  exit 2
fi

out="${KEEP:-}"
if [[ -z "$out" ]]; then
  out="$(mktemp -d)"
  trap 'rm -rf "$out"' EXIT
fi
mkdir -p "$out"

"$bench" --out "$out/native.json"
(cd "$root/packages/bisect-membership" && "$python" -I study.py --out "$out/python.json")

"$python" - "$out/native.json" "$out/python.json" <<'PY'
import json
import sys

native = json.load(open(sys.argv[1]))
python = json.load(open(sys.argv[2]))
rows_native = {row["n"]: row for row in native["sizes"]}
rows_python = {row["n"]: row for row in python["sizes"]}

print("search-bench (C++, int64 array; linear = scan with sorted early exit, binary = "
      "std::binary_search)")
print("bisect-membership (CPython %s, int list; linear = `x in lst`, binary = bisect_left)"
      % python["python"]["version"])
print("times in ns per query; speedup = linear / binary; py/c++ = CPython time / C++ time")
print()
header = ("%8s | %10s %8s %8s | %10s %8s %8s | %8s %8s"
          % ("n", "c++ lin", "c++ bin", "speedup", "py lin", "py bin", "speedup",
             "py/c++ L", "py/c++ B"))
print(header)
print("-" * len(header))
for n in sorted(set(rows_native) | set(rows_python)):
    c = rows_native.get(n)
    p = rows_python.get(n)
    left = ("%10.1f %8.1f %8.2f" % (c["linear_ns"], c["binary_ns"], c["speedup"])
            if c else "%10s %8s %8s" % ("", "", ""))
    right = ("%10.1f %8.1f %8.2f" % (p["linear_ns"], p["binary_ns"], p["speedup"])
             if p else "%10s %8s %8s" % ("", "", ""))
    ratios = ("%8.1f %8.1f" % (p["linear_ns"] / c["linear_ns"], p["binary_ns"] / c["binary_ns"])
              if c and p else "")
    print("%8d | %s | %s | %s" % (n, left, right, ratios))


def fmt(value, digits=1):
    return "-" if value is None else "%.*f" % (digits, value)


print()
print("%-28s %12s %12s" % ("", "C++", "CPython"))
print("%-28s %12s %12s" % ("crossover n", fmt(native["crossover_n"], 0),
                           fmt(python["crossover_n"], 0)))
for n in (1024, 65536, 1048576):
    c = rows_native.get(n)
    p = rows_python.get(n)
    print("%-28s %12s %12s" % ("speedup at n=%d" % n, fmt(c and c["speedup"]),
                               fmt(p and p["speedup"])))
print("%-28s %12s %12s" % ("speedup, geomean n=1..4", "-", fmt(python["small_n_speedup"], 2)))
PY
