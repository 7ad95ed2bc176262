#!/usr/bin/env python3
"""Plain-Python reference for cache-sim: the same workload generator and the same policies.

It is the oracle that the C++ simulator is checked against (tests/experiments/cache-sim) and
the baseline that bench/cache-sim/run.sh times. It favours readability over speed, but every
policy is given a sensible data structure (a heap, an OrderedDict) so the benchmark ratio
compares against reasonable Python rather than against a quadratic strawman.

Subcommands:
  random    --seed S --count K                 print random.Random(S).random() values (repr)
  requests  --zipf-s S --catalog N --requests R --seed S [--oracle-general FILE]
                                               print the Zipf request stream, one id per line,
                                               or write it to FILE as libCacheSim oracleGeneral
                                               records (obj_size 1, next_access_vtime filled in)
  simulate  (--zipf-s .. --catalog .. --requests .. --seed .. | --trace FILE)
            --capacity 100,1000@20000 --policies lfu,lru
                                               print {"runs": [{capacity, warmup,
                                               measured_requests, hits, seconds,
                                               cpu_seconds}]} as JSON

Policy definitions (identical to experiments/cache-sim/README.md):
  lru         evict the least recently used object.
  lfu         request counts are kept across evictions (one global counter per object,
              incremented on every request, hit or miss); evict the cached object with the
              smallest count, ties -> least recently used.
  lfu-scan    the same policy written as its definition, a linear scan with min(); slow,
              used by the tests to check that the heap version of `lfu` is right.
  lfu-forget  classic in-cache LFU: an object's count starts at 1 when it enters the cache
              and is forgotten when it leaves; ties -> least recently used.
  fifo        evict the object that entered the cache first; hits change nothing.
  sieve       SIEVE (Zhang et al., NSDI'24): a visited bit per object and a hand that moves
              from the tail (oldest) towards the head (newest), clearing visited bits, and
              evicts the first unvisited object; new objects enter at the head.
  opt         Belady's MIN with demand insertion: on a miss the requested object is always
              cached, and the cached object whose next request is farthest away is evicted.

Warm-up: the first W requests update the cache but are not counted.
"""

import argparse
import bisect
import collections
import heapq
import json
import random
import struct
import sys
import time

# ---------------------------------------------------------------------------------------------
# Workloads


def zipf_requests(s, catalog, requests, seed):
    """The seed package's generator, verbatim: inverse-CDF sampling with bisect."""
    w = [1 / (i**s) for i in range(1, catalog + 1)]
    t = sum(w)
    acc = 0
    cum = []
    for x in w:
        acc += x
        cum.append(acc / t)
    rng = random.Random(seed)
    return [bisect.bisect_left(cum, rng.random()) for _ in range(requests)]


def text_trace(path):
    """One unsigned integer object id per line; blank lines and '#' comments are skipped."""
    ids = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                ids.append(int(line))
    return ids


def write_oracle_general(requests, path):
    """libCacheSim's oracleGeneral: packed little-endian {uint32 clock_time, uint64 obj_id,
    uint32 obj_size, int64 next_access_vtime}, -1 when the object is never requested again."""
    next_use = [-1] * len(requests)
    seen = {}
    for t in range(len(requests) - 1, -1, -1):
        next_use[t] = seen.get(requests[t], -1)
        seen[requests[t]] = t
    record = struct.Struct("<IQIq")
    with open(path, "wb") as f:
        for t, x in enumerate(requests):
            f.write(record.pack(t, x, 1, next_use[t]))


# ---------------------------------------------------------------------------------------------
# Policies. Each takes (requests, capacity, warmup) and returns the number of hits among the
# requests after the first `warmup` ones.


def lru(requests, capacity, warmup):
    cache = collections.OrderedDict()
    hits = 0
    for t, x in enumerate(requests):
        if x in cache:
            cache.move_to_end(x)
            if t >= warmup:
                hits += 1
        else:
            if len(cache) >= capacity:
                cache.popitem(last=False)
            cache[x] = True
    return hits


def fifo(requests, capacity, warmup):
    queue = collections.deque()
    cached = set()
    hits = 0
    for t, x in enumerate(requests):
        if x in cached:
            if t >= warmup:
                hits += 1
        else:
            if len(cached) >= capacity:
                cached.discard(queue.popleft())
            queue.append(x)
            cached.add(x)
    return hits


def _lfu(requests, capacity, warmup, forget_on_evict):
    """LFU with a lazy-deletion heap of (count, last_access, object).

    Every access pushes a fresh entry; an entry is stale when its (count, last_access) no longer
    matches the object's current values or the object has left the cache. The smallest live
    entry is exactly min(cache, key=(count, last_access)).
    """
    counts = collections.Counter()
    last_access = {}
    cached = set()
    heap = []
    hits = 0
    for t, x in enumerate(requests):
        counts[x] += 1
        last_access[x] = t
        if x in cached:
            if t >= warmup:
                hits += 1
        else:
            if len(cached) >= capacity:
                while True:
                    count, when, victim = heapq.heappop(heap)
                    if victim in cached and counts[victim] == count and last_access[victim] == when:
                        break
                cached.remove(victim)
                if forget_on_evict:
                    del counts[victim]
            cached.add(x)
        heapq.heappush(heap, (counts[x], t, x))
        if len(heap) > 4 * capacity + 64:
            # Drop stale entries so the heap stays proportional to the cache.
            heap = [e for e in heap if e[2] in cached and counts[e[2]] == e[0] and last_access[e[2]] == e[1]]
            heapq.heapify(heap)
    return hits


def lfu(requests, capacity, warmup):
    return _lfu(requests, capacity, warmup, forget_on_evict=False)


def lfu_forget(requests, capacity, warmup):
    return _lfu(requests, capacity, warmup, forget_on_evict=True)


def lfu_scan(requests, capacity, warmup):
    """The `lfu` definition as the seed package wrote it: scan the cache for the victim."""
    counts = collections.Counter()
    last_access = {}
    cache = set()
    hits = 0
    for t, x in enumerate(requests):
        counts[x] += 1
        last_access[x] = t
        if x in cache:
            if t >= warmup:
                hits += 1
        else:
            if len(cache) >= capacity:
                cache.remove(min(cache, key=lambda y: (counts[y], last_access[y])))
            cache.add(x)
    return hits


def sieve(requests, capacity, warmup):
    # A doubly linked list kept in two dicts; `newer` points towards the head.
    newer, older = {}, {}
    head = tail = hand = None
    visited = {}
    hits = 0
    for t, x in enumerate(requests):
        if x in visited:
            visited[x] = True
            if t >= warmup:
                hits += 1
            continue
        if len(visited) >= capacity:
            victim = hand if hand is not None else tail
            while visited[victim]:
                visited[victim] = False
                victim = newer[victim] if newer[victim] is not None else tail
            hand = newer[victim]
            # Unlink the victim.
            if newer[victim] is not None:
                older[newer[victim]] = older[victim]
            else:
                head = older[victim]
            if older[victim] is not None:
                newer[older[victim]] = newer[victim]
            else:
                tail = newer[victim]
            del newer[victim], older[victim], visited[victim]
        # Insert at the head, unvisited.
        newer[x], older[x] = None, head
        if head is not None:
            newer[head] = x
        head = x
        if tail is None:
            tail = x
        visited[x] = False
    return hits


def opt(requests, capacity, warmup):
    never = len(requests)
    next_use = [never] * len(requests)
    seen = {}
    for t in range(len(requests) - 1, -1, -1):
        next_use[t] = seen.get(requests[t], never)
        seen[requests[t]] = t
    cache = {}  # object -> position of its next request
    heap = []  # (-next_request, object), lazily deleted
    hits = 0
    for t, x in enumerate(requests):
        if x in cache:
            if t >= warmup:
                hits += 1
        elif len(cache) >= capacity:
            while True:
                neg_next, victim = heapq.heappop(heap)
                if cache.get(victim) == -neg_next:
                    break
            del cache[victim]
        cache[x] = next_use[t]
        heapq.heappush(heap, (-next_use[t], x))
        if len(heap) > 4 * capacity + 64:
            heap = [e for e in heap if cache.get(e[1]) == -e[0]]
            heapq.heapify(heap)
    return hits


POLICIES = {
    "lru": lru,
    "lfu": lfu,
    "lfu-scan": lfu_scan,
    "lfu-forget": lfu_forget,
    "fifo": fifo,
    "sieve": sieve,
    "opt": opt,
}

# ---------------------------------------------------------------------------------------------
# Command line


def parse_capacities(text, default_warmup):
    runs = []
    for entry in text.split(","):
        cap, _, warm = entry.partition("@")
        runs.append((int(cap), int(warm) if warm else default_warmup))
    return runs


def add_zipf_args(p):
    p.add_argument("--zipf-s", type=float, default=1.1)
    p.add_argument("--catalog", type=int, default=10000)
    p.add_argument("--requests", type=int, default=200000)
    p.add_argument("--seed", type=int, default=42)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p_random = sub.add_parser("random")
    p_random.add_argument("--seed", type=int, required=True)
    p_random.add_argument("--count", type=int, default=5)
    p_requests = sub.add_parser("requests")
    add_zipf_args(p_requests)
    p_requests.add_argument("--oracle-general", metavar="FILE")
    p_sim = sub.add_parser("simulate")
    add_zipf_args(p_sim)
    p_sim.add_argument("--trace", help="text trace: one integer id per line")
    p_sim.add_argument("--capacity", default="100")
    p_sim.add_argument("--warmup", type=int, default=0)
    p_sim.add_argument("--policies", default="lfu,lru")
    args = parser.parse_args(argv)

    if args.command == "random":
        rng = random.Random(args.seed)
        for _ in range(args.count):
            print(repr(rng.random()))
        return 0
    if args.command == "requests":
        requests = zipf_requests(args.zipf_s, args.catalog, args.requests, args.seed)
        if args.oracle_general:
            write_oracle_general(requests, args.oracle_general)
        else:
            sys.stdout.write("".join(f"{x}\n" for x in requests))
        return 0

    if args.trace:
        requests = text_trace(args.trace)
    else:
        requests = zipf_requests(args.zipf_s, args.catalog, args.requests, args.seed)
    policies = args.policies.split(",")
    runs = []
    for capacity, warmup in parse_capacities(args.capacity, args.warmup):
        run = {"capacity": capacity, "warmup": warmup, "measured_requests": len(requests) - warmup,
               "hits": {}, "seconds": {}, "cpu_seconds": {}}
        for name in policies:
            start, cpu_start = time.perf_counter(), time.thread_time()
            run["hits"][name] = POLICIES[name](requests, capacity, warmup)
            run["cpu_seconds"][name] = time.thread_time() - cpu_start
            run["seconds"][name] = time.perf_counter() - start
        runs.append(run)
    json.dump({"requests": len(requests), "runs": runs}, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
