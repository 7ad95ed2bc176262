"""Allocates and touches argv[1] MiB at once."""
import sys

block = bytearray(int(sys.argv[1]) << 20)
print(len(block))
