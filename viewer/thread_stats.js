// SPDX-License-Identifier: MIT
// Per-thread statistics of a trace, like `go tool trace`'s goroutine analysis: time running,
// waiting to run, blocked on sync, in syscalls, sleeping, over each thread's life in the trace.

import { S, stateTimes } from './gotrace.js';
import { el, formatNs } from './util.js';

const COLUMNS = [
  { key: 'name', title: 'thread' },
  { key: 'tid', title: 'tid' },
  { key: 'total', title: 'total' },
  { key: 'running', title: 'running' },
  { key: 'waiting', title: 'waiting to run' },
  { key: 'sync', title: 'blocked on sync' },
  { key: 'syscall', title: 'in syscalls' },
  { key: 'sleep', title: 'sleeping' },
  { key: 'other', title: 'other blocking' },
  { key: 'samples', title: 'CPU samples' },
];

// The statistics of every thread of a model (also used by tests through debugState).
export function threadStats(model) {
  return model.goroutines.filter(g => g.n > 0).map(g => {
    const start = g.t[0], end = g.end;
    const s = stateTimes(g, start, end);
    // A thread is alive from its creation to its end (its last transition, when it ended).
    const last = g.state[g.n - 1] === S.DEAD ? g.t[g.n - 1] : end;
    return {
      name: g.name, tid: g.tid, g: g.id, total: last - start,
      running: s[S.RUNNING], waiting: s[S.RUNNABLE] + s[S.PREEMPTED],
      sync: s[S.SYNC] + s[S.COND], syscall: s[S.SYSCALL], sleep: s[S.SLEEP],
      other: s[S.BLOCKED] + s[S.NET] + s[S.WAITING] + s[S.GC], samples: g.samples.length,
    };
  });
}

export function openThreadStats(container, model) {
  const rows = threadStats(model);
  let sortKey = 'running', desc = true;
  const table = el('table', { class: 'stats', 'data-test': 'thread-stats' });
  const render = () => {
    rows.sort((a, b) => {
      const x = a[sortKey], y = b[sortKey];
      const c = typeof x === 'string' ? x.localeCompare(y) : x - y;
      return desc ? -c : c;
    });
    table.replaceChildren(
      el('thead', {}, el('tr', {}, COLUMNS.map(c => el('th', {
        class: c.key === sortKey ? 'sorted' : '', 'data-test': 'sort-' + c.key,
        onclick: () => { if (sortKey === c.key) desc = !desc; else { sortKey = c.key; desc = c.key !== 'name'; } render(); },
      }, c.title + (c.key === sortKey ? (desc ? ' ▾' : ' ▴') : ''))))),
      el('tbody', {}, rows.slice(0, 2000).map(r => el('tr', {}, COLUMNS.map(c => el('td', {},
        c.key === 'name' ? `${r.name} (G${r.g})` : c.key === 'tid' || c.key === 'samples' ? String(r[c.key])
          : formatNs(r[c.key])))))));
  };
  render();
  const root = el('div', { class: 'stats-view' },
    el('p', { class: 'hint' }, `${rows.length} threads${rows.length > 2000 ? ' (first 2,000 shown)' : ''}; click a column to sort.`),
    table);
  container.append(root);
  return {
    debugState: () => ({ kind: 'thread-stats', sortKey, desc, rows: rows.slice(0, 50) }),
    destroy: () => root.remove(),
  };
}
