#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Checks the annotation events of a trace of tests/programs/annotate.c with babeltrace2's
# Python bindings (the system interpreter: python3-bt2), and that their stacks point into the
# functions that made the calls (addr2line on the program, through the statedump's base).
# Usage: annotations_check.py TRACE_DIR PROGRAM_PATH
import collections
import subprocess
import sys

import bt2

failures = []


def check(cond, what):
    print(('  ok    ' if cond else '  FAIL  ') + what)
    if not cond:
        failures.append(what)


trace, prog = sys.argv[1], sys.argv[2]
events = []
bases = {}
for msg in bt2.TraceCollectionMessageIterator(trace):
    if type(msg) is not bt2._EventMessageConst:
        continue
    ev = msg.event
    if ev.name == 'lttng_ust_statedump:bin_info':
        bases[str(ev.payload_field['path'])] = int(ev.payload_field['baddr'])
    elif ev.name.split(':')[1] in ('task_create', 'task_end', 'region', 'log'):
        events.append((ev.name.split(':')[1], {k: v for k, v in ev.payload_field.items()}))

kinds = collections.Counter(k for k, _ in events)
print('annotation events:', dict(kinds))
check(kinds['task_create'] == 3 and kinds['task_end'] == 3, '3 tasks created and ended')
check(kinds['region'] == 8, '8 region events (2 threads x 2 regions x begin/end)')
check(kinds['log'] == 3, '3 log messages')

tasks = {int(p['task_id']): (int(p['parent_id']), str(p['type']))
         for k, p in events if k == 'task_create'}
batch = [t for t, (parent, typ) in tasks.items() if typ == 'batch']
check(len(batch) == 1 and tasks[batch[0]][0] == 0, 'one root task "batch"')
items = [t for t, (parent, typ) in tasks.items() if typ == 'item']
check(len(items) == 2 and all(tasks[t][0] == batch[0] for t in items),
      'two "item" tasks inside "batch"')

depth = collections.Counter()
balanced = True
for k, p in events:
    if k == 'region':
        key = (int(p['tid']), int(p['task_id']), str(p['type']))
        depth[key] += 1 if int(p['mode']) == 0 else -1
        balanced = balanced and depth[key] >= 0
check(balanced and all(v == 0 for v in depth.values()), 'every region ends after it begins')
msgs = sorted(str(p['message']) for k, p in events if k == 'log')
check(msgs == ['batch started', 'item 0 done', 'item 1 done'], 'log messages: %s' % msgs)

base = [b for path, b in bases.items() if path.endswith('/annotate')]
check(len(base) == 1, 'the statedump names the program')
if base:
    def caller(p):
        pcs = [int(x) for x in p['stack']]
        if not pcs:
            return ''
        out = subprocess.run(['addr2line', '-f', '-e', prog, hex(pcs[0] - 1 - base[0])],
                             capture_output=True, text=True).stdout.split('\n')
        return out[0]
    want = {'task_create': {'main', 'worker'}, 'task_end': {'main', 'worker'},
            'region': {'annotated_work'}, 'log': {'main', 'annotated_work'}}
    bad = [(k, caller(p)) for k, p in events if caller(p) not in want[k]]
    check(not bad, 'every stack starts in the function that called the API (%d wrong: %s)'
          % (len(bad), bad[:3]))
    deep = [k for k, p in events if len(p['stack']) < 2]
    check(not deep, 'every stack goes beyond its first frame')

sys.exit(1 if failures else 0)
