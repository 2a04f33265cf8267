#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""index_check.py PAGE PREFIX NAMES...: PAGE is Go 1.19's /debug/pprof/ index page byte for
byte, with PREFIX for /debug/pprof and exactly the profiles NAMES (sorted, with their Go
descriptions; counts may be any number). Prints the first difference and exits 1 otherwise."""
import re
import sys

DESCRIPTIONS = {
    "allocs": "A sampling of all past memory allocations",
    "block": "Stack traces that led to blocking on synchronization primitives",
    "cmdline": "The command line invocation of the current program",
    "goroutine": "Stack traces of all current goroutines",
    "heap": "A sampling of memory allocations of live objects. You can specify the gc GET "
            "parameter to run GC before taking the heap sample.",
    "mutex": "Stack traces of holders of contended mutexes",
    "profile": "CPU profile. You can specify the duration in the seconds GET parameter. After "
               "you get the profile file, use the go tool pprof command to investigate the "
               "profile.",
    "threadcreate": "Stack traces that led to the creation of new OS threads",
    "trace": "A trace of execution of the current program. You can specify the duration in "
             "the seconds GET parameter. After you get the trace file, use the go tool trace "
             "command to investigate the trace.",
}


def expected(prefix, names):
    rows = "".join("<tr><td>COUNT</td><td><a href='%s?debug=1'>%s</a></td></tr>\n" % (n, n)
                   for n in names)
    items = "".join("<li><div class=profile-name>%s: </div> %s</li>\n"
                    % (n, DESCRIPTIONS.get(n, "")) for n in names)
    return ("<html>\n<head>\n<title>%s/</title>\n<style>\n.profile-name{\n\tdisplay:inline-block;"
            "\n\twidth:6rem;\n}\n</style>\n</head>\n<body>\n%s/<br>\n<br>\nTypes of profiles "
            "available:\n<table>\n<thead><td>Count</td><td>Profile</td></thead>\n%s</table>\n"
            "<a href=\"goroutine?debug=2\">full goroutine stack dump</a>\n<br>\n<p>\nProfile "
            "Descriptions:\n<ul>\n%s</ul>\n</p>\n</body>\n</html>" % (prefix, prefix, rows, items))


def main():
    page = open(sys.argv[1], encoding="utf-8").read()
    want = expected(sys.argv[2], sorted(sys.argv[3:]))
    got = re.sub(r"<tr><td>\d+</td>", "<tr><td>COUNT</td>", page)
    if got == want:
        print("index page: Go's layout, %d profiles" % len(sys.argv[3:]))
        return 0
    for i, (a, b) in enumerate(zip(got, want)):
        if a != b:
            print("index page differs at byte %d: got %r, want %r" % (i, got[i:i + 60], want[i:i + 60]))
            return 1
    print("index page differs in length: got %d bytes, want %d" % (len(got), len(want)))
    return 1


if __name__ == "__main__":
    sys.exit(main())
