"""Tries to reach the network from inside the sandbox; prints one JSON object: target -> "ok" or
the errno name of the failure. argv: host TCP port, host abstract unix socket name, then any
further IPv4 addresses to try on that port. "own_loopback" (a listener this script opens on the
sandbox's own loopback) must be "ok": it shows the probe itself can connect."""
import errno
import json
import socket
import sys


def attempt(family, address):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(3)
    try:
        s.connect(address)
        return "ok"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e)) if e.errno else type(e).__name__
    finally:
        s.close()


port = int(sys.argv[1])
results = {}
own = socket.socket()
own.bind(("127.0.0.1", 0))
own.listen(1)
results["own_loopback"] = attempt(socket.AF_INET, own.getsockname())
results["host_loopback"] = attempt(socket.AF_INET, ("127.0.0.1", port))
results["host_abstract"] = attempt(socket.AF_UNIX, "\0" + sys.argv[2])
for address in ["1.1.1.1", "10.0.2.2"] + sys.argv[3:]:
    results[address] = attempt(socket.AF_INET, (address, port))
print(json.dumps(results))
