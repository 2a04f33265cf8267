#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""http_slowloris.py PORT [CONNECTIONS] [TRICKLE_SECONDS]: a slow-loris attack on the
/debug/pprof server on 127.0.0.1:PORT. Opens CONNECTIONS (default 256, the server's limit)
connections that each send half a request, then one more header line every 2 s for
TRICKLE_SECONDS (default 8), then nothing. Prints, one line each: how many connections the
server took, whether a good request was answered while they were held, how long the server took
to close the silent ones (its idle timeout is 30 s), and whether a good request is answered
after. Fails when the server kept a silent connection open beyond 40 s or does not answer the
good request at the end."""
import socket
import sys
import time


def good_request(port):
    """The status of GET /debug/pprof/cmdline, or what went wrong."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"GET /debug/pprof/cmdline HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            head = s.recv(64)
            return head.split(b" ")[1].decode() if head.startswith(b"HTTP/") else "closed"
    except OSError as e:
        return type(e).__name__


def closed_by_server(s):
    """True when the server has closed s (a read gives end of file or a reset)."""
    try:
        return s.recv(4096) == b""  # s is non-blocking
    except BlockingIOError:
        return False
    except OSError:
        return True


def main():
    port = int(sys.argv[1])
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 256
    trickle = float(sys.argv[3]) if len(sys.argv) > 3 else 8
    conns = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"GET /debug/pprof/heap HTTP/1.1\r\nHost: x\r\n")
        s.setblocking(False)
        conns.append(s)
    end = time.monotonic() + trickle
    n = 0
    while time.monotonic() < end:
        time.sleep(2)
        n += 1
        for s in conns:
            try:
                s.sendall(b"X-Slow-%d: 1\r\n" % n)
            except OSError:
                pass
    taken = sum(1 for s in conns if not closed_by_server(s))
    print(f"slow connections still open after {trickle:.0f} s of trickling: {taken} of {count}")
    print(f"a good request while they are held: {good_request(port)}")
    silent = time.monotonic()
    open_ = set(range(count))
    while open_ and time.monotonic() - silent < 40:
        time.sleep(0.5)
        open_ = {i for i in open_ if not closed_by_server(conns[i])}
    took = time.monotonic() - silent
    for s in conns:
        s.close()
    ok = True
    if open_:
        print(f"FAIL: {len(open_)} silent connections still open after {took:.0f} s")
        ok = False
    else:
        print(f"the server closed all silent connections in {took:.1f} s")
    status = good_request(port)
    print(f"a good request after: {status}")
    if status != "200":
        print("FAIL: the server does not answer after the attack")
        ok = False
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
