# SPDX-License-Identifier: MIT
# Checks on the text output of `go tool pprof` (-raw and -traces) for the integration tests.
# Parses what pprof prints (profile.go String() and report.printTraces), never the protobuf
# itself, so a profile passes only if real pprof reads it. Prints what it measured; exit 1 on
# any failed check, 2 on bad usage. Run with /usr/bin/python3 (standard library only).
import argparse
import re
import sys

LOC_RE = re.compile(r'^\s*(\d+): (0x[0-9a-f]+) (?:M=(\d+) )?(?:\[F\] )?(.*)$')
# "name file:line s=start(system_name)"; newer pprof prints "file:line:column".
LINE_RE = re.compile(r'^(.*) (\S*?):(-?\d+)(?::\d+)? s=(-?\d+)(?:\((.*)\))?$')
MAP_RE = re.compile(r'^(\d+): (0x[0-9a-f]+)/(0x[0-9a-f]+)/(0x[0-9a-f]+) (\S*) ?(\S*) ?(\S*)$')
LABEL_RE = re.compile(r'(\S+?):\[([^\]]*)\]')
OUTER_FRAMES = {'start_thread', 'clone3', 'clone', '__clone', '__clone3', '_start',
                '__libc_start_main', '__libc_start_call_main'}

failures = []


def check(ok, what):
    print(('  ok    ' if ok else '  FAIL  ') + what)
    if not ok:
        failures.append(what)


def parse_raw(text):
    """Parses `go tool pprof -raw` output into a dict of header, samples, locations, mappings."""
    prof = {'header': {}, 'sample_types': [], 'samples': [], 'locations': {}, 'mappings': []}
    section = 'header'
    loc = None
    for line in text.splitlines():
        if section == 'header':
            if line == 'Samples:':
                section = 'types'
            elif ': ' in line:
                key, val = line.split(': ', 1)
                prof['header'][key] = val
        elif section == 'types':
            prof['sample_types'] = [t.replace('[dflt]', '') for t in line.split()]
            section = 'samples'
        elif section == 'samples':
            if line == 'Locations':
                section = 'locations'
            elif re.match(r'^\s*-?\d+(\s+-?\d+)*: ', line):
                vals, locs = line.split(':', 1)
                prof['samples'].append({'values': [int(v) for v in vals.split()],
                                        'locs': [int(v) for v in locs.split()],
                                        'labels': {}, 'label_lines': []})
            elif line.strip() and prof['samples']:
                smp = prof['samples'][-1]
                smp['label_lines'].append(line.strip())
                for key, val in LABEL_RE.findall(line):
                    smp['labels'][key] = val.strip()
        elif section == 'locations':
            if line == 'Mappings':
                section = 'mappings'
                continue
            m = LOC_RE.match(line)
            if m and not line.startswith('             '):
                loc = {'addr': int(m.group(2), 16), 'mapping': int(m.group(3) or 0), 'lines': []}
                prof['locations'][int(m.group(1))] = loc
                rest = m.group(4)
            elif loc is not None:
                rest = line.strip()
            else:
                continue
            lm = LINE_RE.match(rest.strip())
            if lm:
                loc['lines'].append({'name': lm.group(1), 'file': lm.group(2),
                                     'line': int(lm.group(3)), 'sysname': lm.group(5)})
        elif section == 'mappings':
            m = MAP_RE.match(line.strip())
            if m:
                flags = ' '.join(m.group(i) for i in (5, 6, 7) if m.group(i).startswith('['))
                ids = [m.group(i) for i in (6,) if not m.group(i).startswith('[')]
                prof['mappings'].append({'id': int(m.group(1)), 'file': m.group(5),
                                         'build_id': ids[0] if ids else '', 'flags': flags})
    return prof


def stack_names(prof, smp):
    """Function names of a sample, leaf first, inline frames included (innermost first)."""
    names = []
    for lid in smp['locs']:
        loc = prof['locations'].get(lid)
        if loc:
            names.extend(ln['name'] for ln in loc['lines'])
    return names


def value_index(prof, name):
    for i, t in enumerate(prof['sample_types']):
        if t.split('/')[0] == name:
            return i
    return -1


def cmd_check_raw(args):
    prof = parse_raw(open(args.raw).read())
    hdr = prof['header']
    print('header: PeriodType=%r Period=%r sample types=%s' % (
        hdr.get('PeriodType'), hdr.get('Period'), ' '.join(prof['sample_types'])))
    check(hdr.get('PeriodType') == 'cpu nanoseconds', 'PeriodType: cpu nanoseconds')
    check(hdr.get('Period') == '10000000', 'Period: 10000000')
    check(prof['sample_types'] == ['samples/count', 'cpu/nanoseconds'],
          'sample types samples/count cpu/nanoseconds')
    smps = prof['samples']
    icount, icpu = value_index(prof, 'samples'), value_index(prof, 'cpu')
    total = sum(s['values'][icount] for s in smps) if icount >= 0 else 0
    total_cpu = sum(s['values'][icpu] for s in smps) if icpu >= 0 else 0
    print('samples: %d records, %d counted, %.2f s CPU' % (len(smps), total, total_cpu / 1e9))
    check(total >= args.min_samples, 'at least %d samples (got %d)' % (args.min_samples, total))
    if icount >= 0 and icpu >= 0:
        # A timer_create sample whose timer overran also carries the missed periods.
        bad = [s for s in smps if s['values'][icpu] < s['values'][icount] * 10000000
               or s['values'][icpu] % 10000000 != 0]
        check(not bad, 'cpu/nanoseconds is a whole number of 10 ms periods, at least one per '
              'sample (%d differ)' % len(bad))
    no_thread = sum(1 for s in smps if 'thread' not in s['labels'])
    no_tid = sum(1 for s in smps if not s['labels'].get('tid', '').split(' ')[0].isdigit())
    # String labels share one line, numeric ones get their own: tid must not sit with thread.
    tid_string = sum(1 for s in smps for ln in s['label_lines']
                     if 'tid:[' in ln and 'thread:[' in ln)
    check(no_thread == 0, 'every sample has a thread label (%d without)' % no_thread)
    check(no_tid == 0, 'every sample has a numeric tid label (%d without)' % no_tid)
    check(tid_string == 0, 'tid is a numeric label, not a string (%d string)' % tid_string)
    threads = {}
    for s in smps:
        t = s['labels'].get('thread', '?')
        threads[t] = threads.get(t, 0) + s['values'][icount]
    print('threads: ' + ', '.join('%s=%d' % kv for kv in sorted(threads.items())))
    for t in args.thread:
        check(threads.get(t, 0) > 0, 'thread %s has samples (%d)' % (t, threads.get(t, 0)))
    lines = [ln for loc in prof['locations'].values() for ln in loc['lines']]
    for fn in args.func:
        hits = [ln for ln in lines if ln['name'] == fn or (args.substring and fn in ln['name'])]
        good = [ln for ln in hits if ln['line'] > 0 and
                (not args.file or ln['file'].endswith('/' + args.file) or ln['file'] == args.file)]
        where = '%s:%d' % (good[0]['file'], good[0]['line']) if good else (
            '%s:%d' % (hits[0]['file'], hits[0]['line']) if hits else 'absent')
        check(bool(good), 'function %s with %s and a line number (%s)' %
              (fn, args.file or 'a file', where))
    for rx in args.func_re:
        hits = sorted({ln['name'] for ln in lines if re.search(rx, ln['name'])})
        check(bool(hits), 'a function matching /%s/ (%s)' %
              (rx, hits[0][:90] if hits else 'absent'))
    for rx in args.warn_func_re:
        hits = sorted({ln['name'] for ln in lines if re.search(rx, ln['name'])})
        print('  %s  a function matching /%s/ (%s; not fatal)' % (
            'ok  ' if hits else 'WARN', rx, hits[0][:90] if hits else 'absent'))
    for pair in args.inline:
        inner, outer = pair.split('@')
        found = any(len(loc['lines']) > 1 and loc['lines'][0]['name'] == inner and
                    any(ln['name'] == outer for ln in loc['lines'][1:])
                    for loc in prof['locations'].values())
        check(found, 'inline frame %s inside %s in one location' % (inner, outer))
    if args.program:
        maps = [m for m in prof['mappings'] if m['file'].split('/')[-1] == args.program]
        desc = ('%s build_id=%s %s' % (maps[0]['file'], maps[0]['build_id'] or '-',
                                        maps[0]['flags']) if maps else 'absent')
        print('main mapping: ' + desc)
        check(bool(maps), 'a mapping for %s' % args.program)
        if maps:
            check(re.fullmatch(r'[0-9a-f]{16,}', maps[0]['build_id'] or '') is not None,
                  'main mapping has a hex build id')
            check('[FN]' in maps[0]['flags'], 'main mapping has [FN]')
            main_id = maps[0]['id']
            mangled = sorted({ln['name'] for loc in prof['locations'].values()
                              if loc['mapping'] == main_id for ln in loc['lines']
                              if ln['name'].startswith('_Z')})
            check(not mangled, 'no mangled names in the main mapping (%s)' % ', '.join(mangled[:3]))
            unsym = sum(1 for loc in prof['locations'].values()
                        if loc['mapping'] == main_id and not loc['lines'])
            check(unsym == 0, 'every main-mapping location is symbolized (%d not)' % unsym)
    return finish()


FRAME_VALUE_RE = re.compile(r'^([0-9.]+)([a-zµ]*)$')
UNIT_NS = {'': 1, 'ns': 1, 'us': 1e3, 'µs': 1e3, 'ms': 1e6, 's': 1e9, 'mins': 60e9, 'hrs': 3600e9}


def parse_traces(text):
    """Parses `go tool pprof -traces` output: a list of (weight, frames leaf first, labels)."""
    traces, cur = [], None
    for line in text.splitlines():
        if line.startswith('-----------+'):
            cur = {'weight': 0.0, 'frames': [], 'labels': {}}
            traces.append(cur)
        elif cur is None or not line.strip():
            continue
        elif len(line) > 10 and line[10] == ':':
            cur['labels'][line[:10].strip()] = line[11:].strip()
        else:
            val, name = line[:10].strip(), line[13:].strip()
            if name.endswith(' (inline)'):
                name = name[:-len(' (inline)')]
            if val:
                m = FRAME_VALUE_RE.match(val)
                cur['weight'] = float(m.group(1)) * UNIT_NS.get(m.group(2), 1) if m else 0
            cur['frames'].append(name)
    return traces


def same_func(name, want):
    """True when `name` is `want`, possibly followed by a C++ parameter list."""
    return name == want or name.startswith(want + '(')


def reaches(frames, wanted):
    return any(same_func(f, w) for f in frames for w in wanted)


def complete(frames, roots):
    return bool(frames) and (reaches(frames, roots) or reaches(frames[-1:], OUTER_FRAMES))


def cmd_completeness(args):
    traces = parse_traces(open(args.traces).read())
    roots = set(args.roots.split(','))
    total = sum(t['weight'] for t in traces)
    done = sum(t['weight'] for t in traces if complete(t['frames'], roots))
    pct = 100.0 * done / total if total else 0.0
    print('stack completeness: %.1f%% of %d traces (weighted) reach %s or an outermost frame'
          % (pct, len(traces), '/'.join(sorted(roots))))
    check(total > 0 and pct >= args.min, 'stack completeness >= %.0f%% (%.1f%%)' % (args.min, pct))
    incomplete = {}
    for t in traces:
        if t['frames'] and not complete(t['frames'], roots):
            key = ' <- '.join(t['frames'][:4])
            incomplete[key] = incomplete.get(key, 0) + t['weight']
    for key, w in sorted(incomplete.items(), key=lambda kv: -kv[1])[:5]:
        print('  incomplete: %5.1f%%  %s' % (100.0 * w / total, key))
    for spec in args.through:
        leaf, caller = spec.split('@')
        sub = [t for t in traces if reaches(t['frames'], [leaf])]
        w = sum(t['weight'] for t in sub)
        ok = sum(t['weight'] for t in sub if reaches(t['frames'], [caller]))
        pct2 = 100.0 * ok / w if w else 0.0
        print('stacks through %s: %.1f%% of total; %.1f%% of them reach %s' %
              (leaf, 100.0 * w / total if total else 0, pct2, caller))
        check(w > 0 and pct2 >= args.min_through,
              'stacks with %s reach %s >= %.0f%% (%.1f%%)' % (leaf, caller, args.min_through, pct2))
    return finish()


def cpu_by(prof, key_fn):
    icpu = value_index(prof, 'cpu')
    out = {}
    for s in prof['samples']:
        k = key_fn(s)
        out[k] = out.get(k, 0) + s['values'][icpu]
    return out


def leaf_func(prof, s):
    names = stack_names(prof, s)
    return names[0] if names else '?'


def cmd_shares(args):
    prof = parse_raw(open(args.raw).read())
    truth = {'func': {}, 'thread': {}}
    process_s = 0.0
    for line in open(args.truth):
        parts = line.split()
        if parts[0] == 'process':
            process_s = float(parts[1])
        else:
            truth[parts[0]][parts[1]] = float(parts[2])
    flat = cpu_by(prof, lambda s: leaf_func(prof, s))
    per_thread = cpu_by(prof, lambda s: s['labels'].get('thread', '?'))
    total_ns = sum(flat.values())
    print('profile total %.3f s CPU, process used %.3f s (getrusage)' % (total_ns / 1e9, process_s))
    ratio = total_ns / 1e9 / process_s if process_s else 0
    check(0.85 <= ratio <= 1.15,
          'profile CPU within 15%% of the process CPU (%.1f%%)' % (100 * ratio))
    for kind, measured in (('func', flat), ('thread', per_thread)):
        tsum = sum(truth[kind].values())
        for name, secs in sorted(truth[kind].items()):
            want = 100.0 * secs / tsum
            got = 100.0 * measured.get(name, 0) / total_ns if total_ns else 0
            check(abs(got - want) <= args.tolerance,
                  '%-6s %-15s truth %5.1f%%  profile %5.1f%%  diff %+5.1f points' %
                  (kind, name, want, got, got - want))
    others = sorted(((v, k) for k, v in flat.items() if k not in truth['func']), reverse=True)
    print('other flat functions: ' + ', '.join('%s %.1f%%' % (k, 100.0 * v / total_ns)
                                                for v, k in others[:6]))
    return finish()


def cmd_funcs(args):
    """Prints the sorted function names and the sample total of a profile (to diff two)."""
    prof = parse_raw(open(args.raw).read())
    icount = value_index(prof, 'samples')
    print('total_samples %d' % sum(s['values'][icount] for s in prof['samples']))
    for name in sorted({ln['name'] for loc in prof['locations'].values() for ln in loc['lines']}):
        print('func ' + name)
    return 0


def finish():
    if failures:
        print('%d check(s) failed' % len(failures))
        return 1
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    sub = ap.add_subparsers(dest='cmd', required=True)
    p = sub.add_parser('check-raw')
    p.add_argument('raw')
    p.add_argument('--program', help='basename of the main executable mapping')
    p.add_argument('--file', help='source file the --func functions must come from')
    p.add_argument('--func', action='append', default=[])
    p.add_argument('--substring', action='store_true', help='--func matches substrings')
    p.add_argument('--thread', action='append', default=[])
    p.add_argument('--func-re', action='append', default=[], help='a function name regex')
    p.add_argument('--warn-func-re', action='append', default=[], help='same, only a warning')
    p.add_argument('--inline', action='append', default=[], help='INNER@OUTER')
    p.add_argument('--min-samples', type=int, default=1)
    p = sub.add_parser('completeness')
    p.add_argument('traces')
    p.add_argument('--roots', default='main')
    p.add_argument('--min', type=float, default=95.0)
    p.add_argument('--through', action='append', default=[], help='LEAF@CALLER')
    p.add_argument('--min-through', type=float, default=90.0)
    p = sub.add_parser('shares')
    p.add_argument('raw')
    p.add_argument('truth')
    p.add_argument('--tolerance', type=float, default=5.0)
    p = sub.add_parser('funcs')
    p.add_argument('raw')
    args = ap.parse_args()
    return {'check-raw': cmd_check_raw, 'completeness': cmd_completeness,
            'shares': cmd_shares, 'funcs': cmd_funcs}[args.cmd](args)


if __name__ == '__main__':
    sys.exit(main())
