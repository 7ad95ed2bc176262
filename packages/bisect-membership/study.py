#!/usr/bin/env python3
"""Linear scan vs bisect-based binary search for membership tests on sorted int lists (CPython).

For each list size n the list holds the even numbers 0, 2, ..., 2(n-1). A batch of `--queries`
membership queries is drawn with a seeded random.Random: exactly round(hit_fraction * queries)
hits (elements of the list) and the rest misses (odd numbers -1, 1, ..., 2n-1, so a miss falls
below, between or above the elements with equal chance per gap), in shuffled order.

Two membership tests are timed on the same batch, inside the same Python loop so that the loop's
own cost is shared:
  linear: `q in a`, i.e. list.__contains__, the idiomatic linear scan; it compares every element
          until a match, so a miss scans the whole list (it does not know the list is sorted).
  binary: i = bisect.bisect_left(a, q); found = i != len(a) and a[i] == q.
Timing follows timeit: the batch is repeated `number` times per measurement, `number` chosen like
Timer.autorange (the first of 1, 2, 5, 10, 20, ... whose measurement takes at least
--min-batch-seconds, 0.2 ms by default), and the minimum of --repeats measurements (default 7) is
kept. The repeats of the two tests are interleaved so that a slow phase of a shared host slows
both. Reported times are ns per query; speedup = linear time / binary time.

Before anything is timed, both tests are checked to agree with each other and with the known
answer for every query; the script exits with status 1 if they do not.

Output: one JSON document written to --out (atomically: temp file in the same directory, then
rename), or to stdout when --out is absent. Standard library only.
"""

import argparse
import bisect
import json
import math
import os
import platform
import random
import sys
import tempfile
import time
import timeit

STUDY = "bisect-membership"
VERSION = "1"

DEFAULT_SEED = 20260611
DEFAULT_QUERIES = 200
DEFAULT_REPEATS = 7
DEFAULT_HIT_FRACTION = 0.5
DEFAULT_MAX_SIZE = 65536
# One timed measurement lasts at least this long: ~4000 times the cost of reading
# time.perf_counter, yet short enough that most measurements fit between two preemptions on a
# busy host, so the minimum of 7 is an undisturbed one (timeit's own autorange aims at 0.2 s,
# which on a shared 2-core machine is preempted every time).
DEFAULT_MIN_BATCH_SECONDS = 0.0002
# The sizes whose speedups are reported by name; 1024 is the headline size of the study.
HEADLINE_SIZE = 1024
# "Small n": the sizes over which the linear scan's advantage is summarised.
SMALL_SIZES = (1, 2, 3, 4)


def size_ladder(max_size):
    """1, 2, 3, 4, 6, 8, 12, 16, 24, ...: powers of two and 1.5x powers of two, up to max_size."""
    sizes = {1}
    p = 2
    while p <= max_size:
        sizes.add(p)
        if p + p // 2 <= max_size:
            sizes.add(p + p // 2)
        p *= 2
    return sorted(sizes)


def make_list(n):
    return list(range(0, 2 * n, 2))


def make_queries(n, count, hit_fraction, seed):
    """Exactly round(hit_fraction * count) hits, the rest misses, shuffled; seeded per size."""
    rng = random.Random(seed * 1_000_003 + n)
    hits = round(hit_fraction * count)
    queries = [2 * rng.randrange(n) for _ in range(hits)]
    queries += [2 * rng.randrange(n + 1) - 1 for _ in range(count - hits)]
    rng.shuffle(queries)
    return queries, hits


def count_linear(a, queries):
    found = 0
    for q in queries:
        if q in a:
            found += 1
    return found


def count_binary(a, queries, bisect_left=bisect.bisect_left):
    n = len(a)
    found = 0
    for q in queries:
        i = bisect_left(a, q)
        if i != n and a[i] == q:
            found += 1
    return found


def verify(a, queries, hits):
    """Both tests must agree on every single query, and with the known answer."""
    members = set(a)
    for q in queries:
        expected = q in members
        if count_linear(a, [q]) != expected or count_binary(a, [q]) != expected:
            return "n=%d query %d: linear=%d binary=%d expected=%d" % (
                len(a), q, count_linear(a, [q]), count_binary(a, [q]), expected)
    if count_linear(a, queries) != hits or count_binary(a, queries) != hits:
        return "n=%d: batch found-counts differ from the %d hits generated" % (len(a), hits)
    return None


def calibrate(timer, min_batch_seconds):
    """Timer.autorange's rule: the first of 1, 2, 5, 10, 20, 50, ... lasting >= min_batch_seconds."""
    number = 1
    while True:
        for multiplier in (1, 2, 5):
            if timer.timeit(number * multiplier) >= min_batch_seconds:
                return number * multiplier
        number *= 10


def time_pair_ns(a, queries, repeats, min_batch_seconds):
    """timeit min-of-`repeats` for both tests, in ns per query.

    The repeats of the two tests are interleaved (linear, binary, linear, binary, ...) so that a
    slow phase of a shared, noisy host lands on both rather than on whichever ran during it; the
    ratio is what the study reports, and it is much steadier this way.
    """
    timers = [timeit.Timer(lambda: count_linear(a, queries)),
              timeit.Timer(lambda: count_binary(a, queries))]
    numbers = [calibrate(t, min_batch_seconds) for t in timers]
    best = [math.inf, math.inf]
    for _ in range(repeats):
        for k, (timer, number) in enumerate(zip(timers, numbers)):
            best[k] = min(best[k], timer.timeit(number))
    return [b / (number * len(queries)) * 1e9 for b, number in zip(best, numbers)], numbers


def crossover(rows):
    """Smallest n from which binary search is faster at every larger measured size, or None."""
    result = None
    for row in reversed(rows):
        if row["binary_ns"] < row["linear_ns"]:
            result = row["n"]
        else:
            break
    return result


def geometric_mean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values))


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", help="output JSON file, written atomically (default: stdout)")
    parser.add_argument("--max-size", type=int, default=DEFAULT_MAX_SIZE,
                        help="largest list size of the ladder 1, 2, 3, 4, 6, 8, ... "
                             "(default %(default)s)")
    parser.add_argument("--queries", type=int, default=DEFAULT_QUERIES,
                        help="queries per size (default %(default)s)")
    parser.add_argument("--repeats", type=int, default=DEFAULT_REPEATS,
                        help="timeit repeats, minimum kept (default %(default)s)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED,
                        help="query seed (default %(default)s)")
    parser.add_argument("--hit-fraction", type=float, default=DEFAULT_HIT_FRACTION,
                        help="share of queries that are elements (default %(default)s)")
    parser.add_argument("--min-batch-seconds", type=float, default=DEFAULT_MIN_BATCH_SECONDS,
                        help="shortest timed measurement (default %(default)s)")
    args = parser.parse_args(argv)
    if not max(SMALL_SIZES) <= args.max_size <= 1 << 20:
        parser.error("--max-size: accepted: an integer in [%d, 1048576]" % max(SMALL_SIZES))
    if args.queries < 1:
        parser.error("--queries: accepted: an integer >= 1")
    if args.repeats < 1:
        parser.error("--repeats: accepted: an integer >= 1")
    if not 0.0 <= args.hit_fraction <= 1.0:
        parser.error("--hit-fraction: accepted: a number in [0, 1]")
    if not 0.0 < args.min_batch_seconds <= 10.0:
        parser.error("--min-batch-seconds: accepted: a number in (0, 10]")
    return args


def write_atomically(path, text):
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".results-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide the results from other readers
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def main(argv):
    args = parse_args(argv)
    started = time.perf_counter()
    rows = []
    for n in size_ladder(args.max_size):
        a = make_list(n)
        queries, hits = make_queries(n, args.queries, args.hit_fraction, args.seed)
        problem = verify(a, queries, hits)
        if problem:
            print("bisect-membership: verification failed: " + problem, file=sys.stderr)
            return 1
        (linear_ns, binary_ns), (linear_number, binary_number) = time_pair_ns(
            a, queries, args.repeats, args.min_batch_seconds)
        rows.append({"n": n, "linear_ns": round(linear_ns, 2), "binary_ns": round(binary_ns, 2),
                     "speedup": round(linear_ns / binary_ns, 4),
                     "number": {"linear": linear_number, "binary": binary_number}})

    speedup = {row["n"]: row["speedup"] for row in rows}
    small = [speedup[n] for n in SMALL_SIZES]
    document = {
        "experiment": STUDY,
        "version": VERSION,
        "python": {"implementation": platform.python_implementation(),
                   "version": platform.python_version()},
        "config": {"seed": args.seed, "queries": args.queries, "repeats": args.repeats,
                   "hit_fraction": args.hit_fraction, "max_size": args.max_size,
                   "min_batch_seconds": args.min_batch_seconds,
                   "linear": "x in lst (list.__contains__)",
                   "binary": "bisect.bisect_left + equality check"},
        "sizes": rows,
        "crossover_n": crossover(rows),
        "speedup_at": {str(n): speedup[n] for n in (2, 4, 8, HEADLINE_SIZE) if n in speedup},
        "speedup_at_1024": speedup.get(HEADLINE_SIZE),
        # Geometric mean of the bisect speedup over n = 1..4: below 1 when the scan wins there.
        "small_n_speedup": round(geometric_mean(small), 4),
        "elapsed_seconds": round(time.perf_counter() - started, 3),
    }
    text = json.dumps(document, indent=1) + "\n"
    if args.out:
        write_atomically(args.out, text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
