#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""http_malformed.py PORT [COUNT]: sends COUNT (default 1000) malformed requests to the
/debug/pprof server on 127.0.0.1:PORT, one connection each: garbage, a bad HTTP version, a
40 KB path, a 100 KB header, a body announced but never sent, a bad chunked body,
broken %-escapes, a path climbing out of the prefix, binary noise, then random bytes. Prints
how the server answered (status or "closed"), fails when it ever answered 5xx to a request
that is malformed or when it no longer answers a good request afterwards."""
import random
import socket
import sys

CASES = [
    b"GARBAGE\r\n\r\n",
    b"GET /debug/pprof/heap HTTP/9.9\r\n\r\n",
    b"GET " + b"/a" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /debug/pprof/heap HTTP/1.1\r\nHost: x\r\nX-A: " + b"b" * 100000 + b"\r\n\r\n",
    b"POST /debug/pprof/symbol HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n0x1",
    b"POST /debug/pprof/symbol HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"GET /debug/pprof/heap?debug=%zz&seconds=%00 HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /debug/pprof/%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n",
    b"\x00\x01\x02\xff" * 100,
]


def ask(port, data):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    try:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        head = s.recv(64)
        return head.split(b" ")[1].decode() if head.startswith(b"HTTP/") else "closed"
    except OSError as e:
        return type(e).__name__
    finally:
        s.close()


def main():
    port = int(sys.argv[1])
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    rnd = random.Random(1)
    seen = {}
    bad = 0
    for i in range(count):
        if i < count * 9 // 10:
            data = CASES[i % len(CASES)]
        else:
            data = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 2000)))
        status = ask(port, data)
        seen[status] = seen.get(status, 0) + 1
        if status.startswith("5") and status != "505":  # 505: the version is not supported
            bad += 1
    print("answers:", ", ".join("%s %d" % kv for kv in sorted(seen.items())))
    good = ask(port, b"GET /debug/pprof/cmdline HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    print("a good request afterwards:", good)
    return 0 if bad == 0 and good == "200" else 1


if __name__ == "__main__":
    sys.exit(main())
