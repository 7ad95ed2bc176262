"""Allocates and touches argv[1] MiB in 16 MiB steps, keeping every step, then prints the total.

Growing step by step, as a leaking program does, means no single request is large enough for
the kernel's overcommit check to refuse outright on a small machine: the memory limit under test
is what stops it, not the host's size.
"""
import sys

STEP = 16 << 20
total = int(sys.argv[1]) << 20
blocks = []
while sum(len(b) for b in blocks) < total:
    blocks.append(bytearray(min(STEP, total - sum(len(b) for b in blocks))))
print(sum(len(b) for b in blocks))
