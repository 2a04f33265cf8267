#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""http_slowloris.py PORT [CONNECTIONS] [TRICKLE_SECONDS]: a slow-loris attack on the
/debug/pprof server on 127.0.0.1:PORT, and the slow but honest clients it must still serve.

CONNECTIONS (default 256, the server's limit) connections each send half a request, then one
more header line every 2 s for TRICKLE_SECONDS (default 16). The server gives a connection 10 s
to deliver a whole request, so each must be closed by the server between 9 and 14 s after its
connect, while it is still trickling. Then, side by side: an honest request whose head arrives
in four pieces over 4.5 s must be answered 200, and a keep-alive connection that goes quiet
after its answer must be closed between 9 and 14 s after it. A last good request must get 200.
Prints one line per finding; exits 1 when any check fails."""
import socket
import sys
import threading
import time

DEADLINE_LOW, DEADLINE_HIGH = 9.0, 14.0


def status_of(head):
    return head.split(b" ")[1].decode() if head.startswith(b"HTTP/") else "closed"


def good_request(port):
    """The status of GET /debug/pprof/cmdline, or what went wrong."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"GET /debug/pprof/cmdline HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            return status_of(s.recv(64))
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


def attack(port, count, trickle):
    """The slow clients; returns the failures."""
    conns, born, died = [], [], {}
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        born.append(time.monotonic())
        s.sendall(b"GET /debug/pprof/heap HTTP/1.1\r\nHost: x\r\n")
        s.setblocking(False)
        conns.append(s)
    end = time.monotonic() + trickle
    next_line, n = time.monotonic() + 2, 0
    while time.monotonic() < end and len(died) < count:
        time.sleep(0.1)
        for i, s in enumerate(conns):
            if i not in died and closed_by_server(s):
                died[i] = time.monotonic() - born[i]
        if time.monotonic() >= next_line:
            n += 1
            next_line += 2
            for i, s in enumerate(conns):
                if i not in died:
                    try:
                        s.sendall(b"X-Slow-%d: 1\r\n" % n)
                    except OSError:
                        pass
    for s in conns:
        s.close()
    fails = []
    ages = sorted(died.values())
    if ages:
        print(f"the server closed {len(ages)} of {count} trickling connections, "
              f"{ages[0]:.1f} to {ages[-1]:.1f} s after their connect")
    if len(died) < count:
        fails.append(f"{count - len(died)} trickling connections still open after {trickle:.0f} s")
    early = [a for a in ages if a < DEADLINE_LOW]
    late = [a for a in ages if a > DEADLINE_HIGH]
    if early:
        fails.append(f"{len(early)} connections closed before {DEADLINE_LOW:.0f} s")
    if late:
        fails.append(f"{len(late)} connections closed after {DEADLINE_HIGH:.0f} s")
    return fails


def slow_honest(port, result):
    """A request whose head comes in four pieces, 1.5 s apart."""
    pieces = [b"GET /debug/pprof/cmd", b"line HTTP/1.1\r\n", b"Host: x\r\n",
              b"Connection: close\r\n\r\n"]
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=15) as s:
            for i, p in enumerate(pieces):
                if i:
                    time.sleep(1.5)
                s.sendall(p)
            result["slow"] = status_of(s.recv(64))
    except OSError as e:
        result["slow"] = type(e).__name__


def quiet_keepalive(port, result):
    """A kept-alive connection that sends nothing after its first answer: seconds to its close."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
            s.sendall(b"GET /debug/pprof/cmdline HTTP/1.1\r\nHost: x\r\n\r\n")
            data = b""
            while b"\r\n\r\n" not in data:
                data += s.recv(4096)
            head, _, body = data.partition(b"\r\n\r\n")
            length = int([line.split(b":")[1] for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:")][0])
            while len(body) < length:
                body += s.recv(4096)
            answered = time.monotonic()
            result["keepalive-status"] = status_of(head)
            while s.recv(4096):
                pass
            result["keepalive"] = time.monotonic() - answered
    except (OSError, IndexError, ValueError) as e:
        result["keepalive-error"] = type(e).__name__


def main():
    port = int(sys.argv[1])
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 256
    trickle = float(sys.argv[3]) if len(sys.argv) > 3 else 16
    fails = attack(port, count, trickle)

    result = {}
    workers = [threading.Thread(target=f, args=(port, result))
               for f in (slow_honest, quiet_keepalive)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    print(f"an honest request sent in pieces over 4.5 s: {result.get('slow')}")
    if result.get("slow") != "200":
        fails.append("the honest slow request was not answered 200")
    quiet = result.get("keepalive")
    if quiet is None:
        fails.append(f"the keep-alive connection failed: {result.get('keepalive-error')}")
    else:
        print(f"a quiet keep-alive connection was closed {quiet:.1f} s after its answer "
              f"({result.get('keepalive-status')})")
        if not DEADLINE_LOW <= quiet <= DEADLINE_HIGH:
            fails.append(f"the quiet keep-alive connection closed after {quiet:.1f} s")

    status = good_request(port)
    print(f"a good request after: {status}")
    if status != "200":
        fails.append("the server does not answer after the attack")
    for f in fails:
        print(f"FAIL: {f}")
    sys.exit(1 if fails else 0)


if __name__ == "__main__":
    main()
