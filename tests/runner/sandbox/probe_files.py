"""Tries file operations from inside the sandbox; prints one JSON object: "op path" -> "ok" or
the errno name of the failure. argv: a list of op:path, where op is read, list or write."""
import errno
import json
import os
import sys

results = {}
for item in sys.argv[1:]:
    op, path = item.split(":", 1)
    try:
        if op == "read":
            with open(path, "rb") as f:
                f.read()
        elif op == "list":
            os.listdir(path)
        elif op == "write":
            with open(path, "w") as f:
                f.write("written from the sandbox\n")
        results[item] = "ok"
    except OSError as e:
        results[item] = errno.errorcode.get(e.errno, str(e))
print(json.dumps(results))
