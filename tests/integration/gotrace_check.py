#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Checks of ltprof's execution traces as real consumers see them: the event listing of
# `go tool trace -d` (Go 1.19), `go tool pprof -traces` of `go tool trace -pprof=MODE`, and the
# Chrome/Perfetto JSON. Each subcommand prints one line per check and exits 1 if any failed.
#   events LISTING TYPE=MIN ...          at least MIN events of each TYPE
#   pairs TRACES LEAF<CALLER ...         some sample has LEAF as its leaf, called by CALLER
#   intervals LISTING LABEL TRUTH TOL    the sleep, mutex wait and read of the thread whose
#                                        slices are labelled LABEL match TRUTH (the program's
#                                        "sleep_ms=.. mutex_ms=.. read_ms=.." line) within TOL ms
#   churn LISTING N MAXPROCS             N+ goroutines created and ended, P ids below MAXPROCS
#   json FILE [--thread NAME]... [--slice PREFIX]... [--flows N] [--samples N]
import collections
import json
import re
import sys

failures = []


def check(cond, what):
    print(('  ok    ' if cond else '  FAIL  ') + what)
    if not cond:
        failures.append(what)


def parse_listing(path):
    """Events of `go tool trace -d`: (ts, type, p, g, args) with args a list of (key, value)."""
    events = []
    for line in open(path, errors='replace'):
        parts = line.split()
        if len(parts) < 5 or not parts[0].isdigit():
            continue
        ts, typ = int(parts[0]), parts[1]
        fields = []
        for p in parts[2:]:
            if '=' in p:
                k, v = p.split('=', 1)
                fields.append((k, v))
        if len(fields) < 3 or fields[0][0] != 'p' or fields[1][0] != 'g':
            continue
        events.append((ts, typ, fields[0][1], int(fields[1][1]), fields[3:]))
    return events


def arg(fields, key):
    for k, v in fields:
        if k == key:
            return v
    return None


def cmd_events(path, wants):
    counts = collections.Counter(e[1] for e in parse_listing(path))
    print('event types:', dict(counts.most_common()))
    for w in wants:
        typ, minimum = w.split('=')
        check(counts[typ] >= int(minimum), '%s: %d (at least %s)' % (typ, counts[typ], minimum))


def parse_traces(path):
    """Samples of `go tool pprof -traces`: lists of function names, leaf first."""
    samples, cur = [], None
    for line in open(path, errors='replace'):
        if line.startswith('-----------+'):
            if cur:
                samples.append(cur)
            cur = []
            continue
        if cur is None or not line.strip():
            continue
        text = line.rstrip('\n')
        if not cur:
            parts = text.split()
            if len(parts) >= 2:
                cur.append(parts[-1])
        else:
            cur.append(text.strip().split()[-1])
    if cur:
        samples.append(cur)
    return samples


def cmd_pairs(path, wants):
    samples = parse_traces(path)
    print('%d samples' % len(samples))
    for w in wants:
        leaf, caller = w.split('<')
        found = any(s and s[0] == leaf and caller in s[1:3] for s in samples)
        check(found, '%s called from %s' % (leaf, caller))


def cmd_intervals(path, label, truth_line, tol):
    events = parse_listing(path)
    truth = dict((k, float(v)) for k, v in re.findall(r'(\w+)_ms=([\d.]+)', truth_line))
    check(set(truth) == {'sleep', 'mutex', 'read'}, 'truth line %r' % truth_line)
    gs = {int(arg(f, 'g')) for ts, t, p, g, f in events if t == 'GoStartLabel' and arg(f, 'label') == label}
    check(len(gs) == 1, 'one goroutine labelled %s: %s' % (label, sorted(gs)))
    if len(gs) != 1:
        return
    g = gs.pop()
    mine = [(ts, t, cur, f) for ts, t, p, cur, f in events
            if cur == g or (arg(f, 'g') is not None and int(arg(f, 'g')) == g)]

    def interval(begin_type, end_type):
        for i, (ts, t, cur, f) in enumerate(mine):
            if t == begin_type and cur == g:
                for ts2, t2, cur2, f2 in mine[i + 1:]:
                    if t2 == end_type and int(arg(f2, 'g')) == g:
                        return (ts2 - ts) / 1e6, cur2
                return None, None
        return None, None

    for name, begin, end in (('sleep', 'GoSleep', 'GoUnblock'), ('mutex', 'GoBlockSync', 'GoUnblock'),
                             ('read', 'GoSysCall', 'GoSysExit')):
        got, waker = interval(begin, end)
        want = truth.get(name)
        ok = got is not None and want is not None and abs(got - want) <= tol
        check(ok, '%s: trace %s ms, program %s ms (tolerance %s ms)' % (name, got, want, tol))
        if name == 'mutex' and got is not None:
            check(waker not in (0, g), 'the mutex wait is ended by another goroutine (g=%s)' % waker)


def cmd_churn(path, n, maxprocs):
    events = parse_listing(path)
    created = [int(arg(f, 'g')) for ts, t, p, g, f in events if t == 'GoCreate']
    ended = [g for ts, t, p, g, f in events if t == 'GoEnd']
    procs = {int(p) for ts, t, p, g, f in events if t == 'ProcStart'}
    threads = {arg(f, 'thread') for ts, t, p, g, f in events if t == 'ProcStart'}
    check(len(created) >= n and len(set(created)) == len(created),
          '%d goroutines created, all with fresh ids (want %d+)' % (len(created), n))
    check(len(ended) >= n, '%d goroutines ended (want %d+)' % (len(ended), n))
    check(max(procs) < maxprocs, 'P ids are reused: highest %d (limit %d)' % (max(procs), maxprocs))
    check(len(threads) >= 2, '%d distinct thread ids in ProcStart' % len(threads))


def cmd_json(path, opts):
    try:
        data = json.load(open(path))
    except ValueError as e:
        check(False, 'valid JSON: %s' % e)
        return
    events = data.get('traceEvents', [])
    check(len(events) > 0, '%d trace events' % len(events))
    names = {e['args']['name'] for e in events if e.get('ph') == 'M' and e.get('name') == 'thread_name'}
    slices = collections.Counter(e['name'] for e in events if e.get('ph') == 'X')
    print('slices:', dict(slices.most_common(12)))
    check(all('dur' in e and e['dur'] >= 0 for e in events if e.get('ph') == 'X'), 'slices have durations')
    i = 0
    while i < len(opts):
        key, val = opts[i], opts[i + 1]
        i += 2
        if key == '--thread':
            check(val in names, 'thread %s is named' % val)
        elif key == '--slice':
            check(any(s.startswith(val) for s in slices), 'a slice named %s...' % val)
        elif key == '--flows':
            starts = {e['id'] for e in events if e.get('ph') == 's'}
            ends = {e['id'] for e in events if e.get('ph') == 'f'}
            check(len(starts & ends) >= int(val), '%d wake/create arrows (want %s+)' % (len(starts & ends), val))
        elif key == '--log':
            msgs = [e['args'].get('message') for e in events if e.get('cat') == 'log']
            check(val in msgs, 'a log message %r (have %r)' % (val, msgs[:5]))
        elif key == '--samples':
            n = sum(1 for e in events if e.get('ph') == 'i' and e.get('name') == 'CPU sample')
            check(n >= int(val), '%d CPU samples (want %s+)' % (n, val))


def main(argv):
    cmd = argv[1]
    if cmd == 'events':
        cmd_events(argv[2], argv[3:])
    elif cmd == 'pairs':
        cmd_pairs(argv[2], argv[3:])
    elif cmd == 'intervals':
        cmd_intervals(argv[2], argv[3], argv[4], float(argv[5]))
    elif cmd == 'churn':
        cmd_churn(argv[2], int(argv[3]), int(argv[4]))
    elif cmd == 'json':
        cmd_json(argv[2], argv[3:])
    else:
        sys.exit('unknown command ' + cmd)
    sys.exit(1 if failures else 0)


main(sys.argv)
