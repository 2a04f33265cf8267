// SPDX-License-Identifier: MIT
// Reader of Go execution traces in the old format (headers "go 1.5 trace" to "go 1.21 trace";
// ltprof writes "go 1.19 trace"), turned into a timeline model: per goroutine (one thread
// lifetime, in ltprof's traces) the sequence of its states, plus CPU samples, tasks, regions,
// logs, the heap counter and the arrows between goroutines (creation, wake-up).
//
// The file is read once. A goroutine's own events are attributed through the P that runs it
// (the format's implicit G), events about other goroutines (create, unblock, syscall exit) name
// them; each goroutine's transitions are then put in causal order by the format's per-goroutine
// sequence numbers, which hold even where clocks of different CPUs disagree.

import { ViewerError } from './util.js';

// Goroutine states drawn by the timeline (index into STATE_NAMES).
export const S = {
  DEAD: 0, RUNNING: 1, RUNNABLE: 2, PREEMPTED: 3, SYNC: 4, COND: 5, BLOCKED: 6, SYSCALL: 7,
  SLEEP: 8, NET: 9, WAITING: 10, GC: 11,
};
export const STATE_NAMES = ['not running', 'running', 'runnable', 'preempted', 'blocked on sync',
  'waiting on condition', 'blocked', 'in syscall', 'sleeping', 'blocked on network',
  'waiting (before the trace)', 'in GC'];

// Event type numbers of the format (reference §2.8).
const E = {
  Batch: 1, Frequency: 2, Stack: 3, Gomaxprocs: 4, ProcStart: 5, ProcStop: 6, GCStart: 7,
  GCDone: 8, GCSTWStart: 9, GCSTWDone: 10, GCSweepStart: 11, GCSweepDone: 12, GoCreate: 13,
  GoStart: 14, GoEnd: 15, GoStop: 16, GoSched: 17, GoPreempt: 18, GoSleep: 19, GoBlock: 20,
  GoUnblock: 21, GoBlockSend: 22, GoBlockRecv: 23, GoBlockSelect: 24, GoBlockSync: 25,
  GoBlockCond: 26, GoBlockNet: 27, GoSysCall: 28, GoSysExit: 29, GoSysBlock: 30, GoWaiting: 31,
  GoInSyscall: 32, HeapAlloc: 33, HeapGoal: 34, TimerGoroutine: 35, FutileWakeup: 36,
  String: 37, GoStartLocal: 38, GoUnblockLocal: 39, GoSysExitLocal: 40, GoStartLabel: 41,
  GoBlockGC: 42, GCMarkAssistStart: 43, GCMarkAssistDone: 44, UserTaskCreate: 45,
  UserTaskEnd: 46, UserRegion: 47, UserLog: 48, CPUSample: 49,
};
export const EVENT_NAMES = Object.fromEntries(Object.entries(E).map(([k, v]) => [v, k]));

// Values each event type carries (after byte 0), as Go 1.19's parser checks them.
const ARGS = [];
for (const [t, n] of [[E.Batch, 2], [E.Frequency, 1], [E.Gomaxprocs, 3], [E.ProcStart, 2],
  [E.ProcStop, 1], [E.GCStart, 3], [E.GCDone, 1], [E.GCSTWStart, 2], [E.GCSTWDone, 1],
  [E.GCSweepStart, 2], [E.GCSweepDone, 3], [E.GoCreate, 4], [E.GoStart, 3], [E.GoEnd, 1],
  [E.GoStop, 2], [E.GoSched, 2], [E.GoPreempt, 2], [E.GoSleep, 2], [E.GoBlock, 2],
  [E.GoUnblock, 4], [E.GoBlockSend, 2], [E.GoBlockRecv, 2], [E.GoBlockSelect, 2],
  [E.GoBlockSync, 2], [E.GoBlockCond, 2], [E.GoBlockNet, 2], [E.GoSysCall, 2],
  [E.GoSysExit, 4], [E.GoSysBlock, 1], [E.GoWaiting, 2], [E.GoInSyscall, 2], [E.HeapAlloc, 2],
  [E.HeapGoal, 2], [E.TimerGoroutine, 1], [E.FutileWakeup, 1], [E.GoStartLocal, 2],
  [E.GoUnblockLocal, 3], [E.GoSysExitLocal, 3], [E.GoStartLabel, 4], [E.GoBlockGC, 2],
  [E.GCMarkAssistStart, 2], [E.GCMarkAssistDone, 1], [E.UserTaskCreate, 5],
  [E.UserTaskEnd, 3], [E.UserRegion, 5], [E.UserLog, 4], [E.CPUSample, 5]]) ARGS[t] = n;

// Blocking events: the state they put the running goroutine in.
const BLOCKS = {
  [E.GoSleep]: S.SLEEP, [E.GoBlock]: S.BLOCKED, [E.GoBlockSend]: S.SYNC,
  [E.GoBlockRecv]: S.SYNC, [E.GoBlockSelect]: S.SYNC, [E.GoBlockSync]: S.SYNC,
  [E.GoBlockCond]: S.COND, [E.GoBlockNet]: S.NET, [E.GoBlockGC]: S.GC,
};

const NO_P = -1;
const TWO63 = 2 ** 63;

// A growable column of numbers (Float64Array, Int32Array...).
class Column {
  constructor(Type, cap = 16) { this.Type = Type; this.a = new Type(cap); this.n = 0; }
  push(v) {
    if (this.n === this.a.length) {
      const b = new this.Type(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = v;
  }
  done() { return this.a.subarray(0, this.n); }
}

// One goroutine while the file is read: its transitions in arrival order, sorted at the end.
class GBuild {
  constructor(id) {
    this.id = id;
    this.t = new Column(Float64Array);
    this.pos = new Column(Float64Array); // causal position: sequence number (own events: +0.5)
    this.state = new Column(Uint8Array);
    this.stack = new Column(Uint32Array);
    this.from = new Column(Int32Array);  // index of the goroutine that caused it, -1 none
    this.ev = new Column(Uint8Array);
    this.seq = 0;        // last sequence number seen (for the Local variants)
    this.startSeq = 0;   // sequence number of its last start
    this.entryStack = 0;
    this.label = 0;      // string id of its GoStartLabel
    this.tid = -1;
    this.created = -1;   // time of GoCreate
    this.creator = -1;
    this.createStack = 0;
    this.samples = new Column(Float64Array);
    this.sampleStacks = new Column(Uint32Array);
    this.regions = [];   // {task, name, start, end, depth, stack}
    this.open = [];      // open regions
    this.syscallStack = 0;
  }
  add(t, pos, state, stack, from, ev) {
    this.t.push(t); this.pos.push(pos); this.state.push(state); this.stack.push(stack);
    this.from.push(from); this.ev.push(ev);
  }
}

// Reads a trace. `bytes` is a Uint8Array. `progress(fraction)` is called now and then.
// Returns the model, or throws a ViewerError saying what is wrong with the file.
export function parseTrace(bytes, progress = () => {}) {
  const header = new TextDecoder('latin1').decode(bytes.subarray(0, 16));
  const m = /^go 1\.(\d+) trace\0*$/.exec(header);
  if (bytes.length < 16 || !m)
    throw new ViewerError('not a Go execution trace: the file does not start with "go 1.N trace"');
  const minor = Number(m[1]);
  if (minor < 5 || minor > 21)
    throw new ViewerError(`Go ${'1.' + minor} traces use the new format, which this viewer does` +
      ' not read yet; ltprof writes "go 1.19 trace"');

  let pos = 16;
  const n = bytes.length;
  const uv = () => { // unsigned LEB128 as a double (exact below 2^53; P -1 becomes >= 2^63)
    let v = 0, mul = 1, b;
    do {
      if (pos >= n) throw new ViewerError(`the trace is cut short (a number at byte ${pos})`);
      b = bytes[pos++];
      v += (b & 0x7f) * mul;
      mul *= 128;
    } while (b & 0x80);
    return v;
  };

  const strings = new Map([[0, '']]);
  const stacks = new Map();      // id -> [{pc, fn, file, line}] (string ids resolved later)
  const gs = new Map();          // goroutine id -> GBuild
  const procs = new Map();       // P id -> {g, tid}
  const tasks = new Map();       // task id -> {id, parent, name, start, end, g}
  const logs = [];               // {t, g, task, key, msg, stack}
  const heapT = new Column(Float64Array), heapV = new Column(Float64Array);
  const flows = { t0: new Column(Float64Array), t1: new Column(Float64Array),
    from: new Column(Int32Array), to: new Column(Int32Array), kind: new Column(Uint8Array) };
  let freq = 0, events = 0, minT = Infinity, maxT = -Infinity, gomaxprocs = 0;
  let curP = null, curPid = 0, time = 0, sawBatch = false;
  const args = new Float64Array(8);

  const gOf = id => {
    let g = gs.get(id);
    if (!g) { g = new GBuild(id); gs.set(id, g); }
    return g;
  };
  const proc = id => {
    let p = procs.get(id);
    if (!p) { p = { g: 0, tid: -1 }; procs.set(id, p); }
    return p;
  };

  let nextProgress = 1 << 20;
  while (pos < n) {
    if (pos >= nextProgress) { progress(pos / n); nextProgress += 1 << 20; }
    const at = pos;
    const b0 = bytes[pos++];
    const type = b0 & 0x3f;
    if (type === E.String) {
      const id = uv(), len = uv();
      if (pos + len > n) throw new ViewerError(`the trace is cut short (a string at byte ${at})`);
      if (id === 0 || strings.has(id))
        throw new ViewerError(`the trace is damaged: string id ${id} at byte ${at} is not new`);
      strings.set(id, new TextDecoder().decode(bytes.subarray(pos, pos + len)));
      pos += len;
      continue;
    }
    const want = type === E.Stack ? 0 : ARGS[type];
    if (want === undefined || (type === E.Stack && (b0 >> 6) !== 3))
      throw new ViewerError(`the trace is damaged: unknown event type ${type} at byte ${at}`);
    let na = 0;
    if ((b0 >> 6) === 3) {
      const len = uv(), end = pos + len;
      if (end > n) throw new ViewerError(`the trace is cut short (an event at byte ${at})`);
      if (type === E.Stack) { // id, n, then n × (pc, fn, file, line)
        const id = uv(), nf = uv(), frames = [];
        for (let i = 0; i < nf && pos < end; i++)
          frames.push({ pc: uv(), fn: uv(), file: uv(), line: uv() });
        if (pos !== end || frames.length !== nf)
          throw new ViewerError(`the trace is damaged: stack ${id} at byte ${at} has a bad length`);
        if (id !== 0 && nf > 0) stacks.set(id, frames);
        continue;
      }
      while (pos < end) {
        const v = uv();
        if (na < args.length) args[na] = v;
        na++;
      }
      if (pos !== end) throw new ViewerError(`the trace is damaged: event at byte ${at} overruns`);
    } else {
      na = (b0 >> 6) + 1;
      for (let i = 0; i < na; i++) args[i] = uv();
    }
    if (na !== want)
      throw new ViewerError(`the trace is damaged: ${EVENT_NAMES[type]} at byte ${at} has ${na}` +
        ` values, not ${want}`);
    let msg = null;
    if (type === E.UserLog) {
      const len = uv();
      if (pos + len > n) throw new ViewerError(`the trace is cut short (a log at byte ${at})`);
      msg = new TextDecoder().decode(bytes.subarray(pos, pos + len));
      pos += len;
    }
    if (type === E.Batch) {
      curPid = args[0] >= TWO63 ? NO_P : args[0];
      curP = proc(curPid);
      time = args[1];
      sawBatch = true;
      continue;
    }
    if (type === E.Frequency) { freq = args[0]; continue; }
    if (type === E.TimerGoroutine) continue;
    if (!sawBatch) throw new ViewerError(`the trace is damaged: an event at byte ${at} comes` +
      ' before the first batch');
    time += args[0];
    events++;
    const t = time;
    if (t < minT) minT = t;
    if (t > maxT) maxT = t;
    const cur = curP.g;                   // the goroutine running on this P (0 = none)
    const cg = cur ? gOf(cur) : null;
    const own = cg ? cg.startSeq + 0.5 : 0;
    switch (type) {
      case E.Gomaxprocs: gomaxprocs = Math.max(gomaxprocs, args[1]); break;
      case E.ProcStart: curP.tid = args[1]; curP.g = 0; break;
      case E.ProcStop: curP.g = 0; break;
      case E.GoCreate: {
        const g = gOf(args[1]);
        g.created = t; g.creator = cur; g.entryStack = args[2]; g.createStack = args[3];
        g.add(t, 0, S.RUNNABLE, args[3], cur ? cur : -1, type);
        if (cur) addFlow(flows, t, cur, args[1], 0);
        break;
      }
      case E.GoStart: case E.GoStartLocal: case E.GoStartLabel: {
        const g = gOf(args[1]);
        const seq = type === E.GoStartLocal ? g.seq + 1 : args[2];
        g.seq = seq; g.startSeq = seq;
        if (type === E.GoStartLabel) g.label = args[3];
        if (g.tid < 0) g.tid = curP.tid;
        g.add(t, seq, S.RUNNING, 0, -1, type);
        curP.g = args[1];
        break;
      }
      case E.GoEnd: case E.GoStop:
        if (cg) cg.add(t, own, S.DEAD, type === E.GoStop ? args[1] : 0, -1, type);
        curP.g = 0;
        break;
      case E.GoSched: case E.GoPreempt:
        if (cg) cg.add(t, own, S.PREEMPTED, args[1], -1, type);
        curP.g = 0;
        break;
      case E.GoSleep: case E.GoBlock: case E.GoBlockSend: case E.GoBlockRecv:
      case E.GoBlockSelect: case E.GoBlockSync: case E.GoBlockCond: case E.GoBlockNet:
      case E.GoBlockGC:
        if (cg) cg.add(t, own, BLOCKS[type], args[1], -1, type);
        curP.g = 0;
        break;
      case E.GoSysCall:
        if (cg) cg.syscallStack = args[1];
        break;
      case E.GoSysBlock:
        if (cg) { cg.add(t, own, S.SYSCALL, cg.syscallStack, -1, type); cg.syscallStack = 0; }
        curP.g = 0;
        break;
      case E.GoUnblock: case E.GoUnblockLocal: {
        const g = gOf(args[1]);
        const seq = type === E.GoUnblockLocal ? g.seq + 1 : args[2];
        g.seq = seq;
        g.add(t, seq, S.RUNNABLE, type === E.GoUnblock ? args[3] : args[2], cur ? cur : -1, type);
        if (cur && cur !== args[1]) addFlow(flows, t, cur, args[1], 1);
        break;
      }
      case E.GoSysExit: case E.GoSysExitLocal: {
        const g = gOf(args[1]);
        const seq = type === E.GoSysExitLocal ? g.seq + 1 : args[2];
        g.seq = seq;
        g.add(t, seq, S.RUNNABLE, 0, -1, type);
        break;
      }
      case E.GoWaiting: case E.GoInSyscall: {
        const g = gOf(args[1]);
        g.seq = 1;
        g.add(t, 1, type === E.GoWaiting ? S.WAITING : S.SYSCALL, 0, -1, type);
        break;
      }
      case E.HeapAlloc: heapT.push(t); heapV.push(args[1]); break;
      case E.CPUSample: {
        const sg = args[3];
        if (sg && sg < TWO63) { const g = gOf(sg); g.samples.push(args[1]); g.sampleStacks.push(args[4]); }
        break;
      }
      case E.UserTaskCreate:
        tasks.set(args[1], { id: args[1], parent: args[2], name: args[3], start: t, end: null,
          g: cur, stack: args[4] });
        break;
      case E.UserTaskEnd: {
        const task = tasks.get(args[1]);
        if (task) task.end = t;
        break;
      }
      case E.UserRegion:
        if (cg) {
          if (args[2] === 0) {
            const r = { task: args[1], name: args[3], start: t, end: null, depth: cg.open.length,
              stack: args[4] };
            cg.open.push(r); cg.regions.push(r);
          } else {
            // the innermost open region of that name ends (Go's rule); unmatched ends are dropped
            for (let i = cg.open.length - 1; i >= 0; i--)
              if (cg.open[i].name === args[3] && cg.open[i].task === args[1]) {
                cg.open[i].end = t; cg.open.splice(i, 1); break;
              }
          }
        }
        break;
      case E.UserLog:
        logs.push({ t, g: cur, task: args[1], key: args[2], msg, stack: args[3] });
        break;
      default: break; // GC events, HeapGoal, futile wake-ups: not drawn
    }
  }
  if (!sawBatch) throw new ViewerError('the trace has a header but no events');
  if (!freq) throw new ViewerError('the trace is incomplete: it has no frequency record ' +
    '(it was cut short, or the recording did not finish)');
  progress(1);
  return finish({ strings, stacks, gs, tasks, logs, heapT, heapV, flows, freq, events, minT,
    maxT, gomaxprocs, bytes: n, minor });
}

function addFlow(flows, t, from, to, kind) {
  flows.t0.push(t); flows.from.push(from); flows.to.push(to); flows.kind.push(kind);
}

// Ticks to nanoseconds from the start, goroutines into sorted typed arrays, strings resolved.
function finish(r) {
  const t0 = r.minT === Infinity ? 0 : r.minT;
  const scale = 1e9 / r.freq;
  const ns = t => (t - t0) * scale;
  const str = id => r.strings.get(id) ?? '';
  const stacks = new Map();
  for (const [id, frames] of r.stacks)
    stacks.set(id, frames.map(f => ({ pc: f.pc, fn: str(f.fn), file: str(f.file), line: f.line })));

  const ids = [...r.gs.keys()].sort((a, b) => a - b);
  const index = new Map(ids.map((id, i) => [id, i]));
  const goroutines = ids.map(id => buildG(r.gs.get(id), ns, index, stacks, str));
  goroutines.forEach((g, i) => { g.index = i; }); // its position, as flows and logs name it
  const end = ns(r.maxT);
  // Goroutines still in a state at the end keep it until the end of the trace.
  for (const g of goroutines) g.end = end;

  const f = r.flows;
  const nf = f.t0.n, flows = { t: new Float64Array(nf), from: new Int32Array(nf),
    to: new Int32Array(nf), kind: f.kind.done() };
  for (let i = 0; i < nf; i++) {
    flows.t[i] = ns(f.t0.a[i]);
    flows.from[i] = index.get(f.from.a[i]) ?? -1;
    flows.to[i] = index.get(f.to.a[i]) ?? -1;
  }
  const heap = { t: r.heapT.done().map(ns), v: r.heapV.done() };
  const tasks = [...r.tasks.values()].map(k => ({ id: k.id, parent: k.parent, name: str(k.name),
    start: ns(k.start), end: k.end === null ? end : ns(k.end), open: k.end === null,
    g: index.get(k.g) ?? -1, stack: k.stack }));
  const logs = r.logs.map(l => ({ t: ns(l.t), g: index.get(l.g) ?? -1, task: l.task,
    category: str(l.key), message: l.msg, stack: l.stack }));
  assignProcesses(goroutines, logs);
  return { version: '1.' + r.minor, events: r.events, bytes: r.bytes, duration: end,
    gomaxprocs: r.gomaxprocs, goroutines, flows, heap, tasks, logs, stacks, strings: r.strings };
}

// The process of each goroutine (g.pid; -1 unknown). Go's format has none; ltprof's traces
// tell it: a thread there before the trace (not a main thread) logs "ltprof.process" PID, a
// process's first thread logs the "ltprof" note "process PID: ...", a thread made in the
// trace belongs to its creator's process, and a main thread's tid is the pid. Threads that
// never ran in the trace (no tid) go to the only process when there is one.
function assignProcesses(goroutines, logs) {
  const told = new Map();
  for (const l of logs) {
    if (l.g < 0) continue;
    let m = null;
    if (l.category === 'ltprof.process') m = /^(\d+)$/.exec(l.message);
    else if (l.category === 'ltprof') m = /^process (\d+):/.exec(l.message);
    if (m && !told.has(l.g)) told.set(l.g, Number(m[1]));
  }
  const pidOf = (i, depth = 0) => {
    const g = goroutines[i];
    if (g.pid !== undefined) return g.pid;
    let pid = told.get(i);
    if (pid === undefined && g.creator >= 0 && depth < 10000) pid = pidOf(g.creator, depth + 1);
    if (pid === undefined || pid < 0) pid = g.tid >= 0 ? g.tid : -1;
    g.pid = pid;
    return pid;
  };
  goroutines.forEach((_, i) => pidOf(i));
  // Threads that never ran in the trace have no tid; with one process known, they are its.
  const known = new Set(goroutines.map(g => g.pid).filter(p => p >= 0));
  if (known.size === 1) {
    const [only] = known;
    for (const g of goroutines) if (g.pid < 0) g.pid = only;
  }
}

function buildG(b, ns, index, stacks, str) {
  const n = b.t.n;
  // Causal order: by position (sequence numbers), arrival order among equals (Array sort is
  // stable). Most goroutines arrive nearly in order; sort only those that do not.
  const pos = b.pos.a;
  let order = null;
  for (let i = 1; i < n; i++)
    if (pos[i] < pos[i - 1]) { order = Array.from({ length: n }, (_, k) => k); break; }
  if (order) order.sort((x, y) => pos[x] - pos[y]);
  const at = order ? i => order[i] : i => i;
  const t = new Float64Array(n), state = new Uint8Array(n), stack = new Uint32Array(n);
  const from = new Int32Array(n), ev = new Uint8Array(n);
  const cumRun = new Float64Array(n); // running time before transition i
  let last = -Infinity, run = 0;
  for (let i = 0; i < n; i++) {
    const k = at(i);
    let ti = ns(b.t.a[k]);
    if (ti < last) ti = last; // clocks of different CPUs may disagree: never go back
    t[i] = ti;
    state[i] = b.state.a[k]; stack[i] = b.stack.a[k]; ev[i] = b.ev.a[k];
    from[i] = b.from.a[k] >= 0 ? (index.get(b.from.a[k]) ?? -1) : -1;
    if (i > 0 && state[i - 1] === S.RUNNING) run += ti - t[i - 1];
    cumRun[i] = run;
    last = ti;
  }
  // The last interval lasts until the end of the trace (`end`, set by finish()).
  const entry = stacks.get(b.entryStack);
  const fn = entry && entry.length ? entry[0].fn : '';
  const label = str(b.label);
  const samplesT = b.samples.done().map(ns);
  const sampleStacks = b.sampleStacks.done();
  if (samplesT.length > 1) { // samples arrive per P batch: sort them by time
    const o = Array.from(samplesT, (_, i) => i).sort((x, y) => samplesT[x] - samplesT[y]);
    const st = Float64Array.from(o, i => samplesT[i]), ss = Uint32Array.from(o, i => sampleStacks[i]);
    samplesT.set(st); sampleStacks.set(ss);
  }
  return {
    id: b.id, fn, label, tid: b.tid,
    name: label && label !== fn ? `${label}` : fn || `G${b.id}`,
    n, t, state, stack, from, ev, cumRun,
    created: b.created < 0 ? null : ns(b.created), createStack: b.createStack,
    creator: b.creator > 0 ? (index.get(b.creator) ?? -1) : -1,
    samples: samplesT, sampleStacks,
    regions: b.regions.map(r => ({ task: r.task, name: str(r.name), start: ns(r.start),
      end: r.end === null ? null : ns(r.end), depth: r.depth, stack: r.stack })),
    depth: b.regions.reduce((d, r) => Math.max(d, r.depth + 1), 0),
    end: 0,
  };
}

// Index of the interval of goroutine `g` that holds time `t` (-1 before its first transition).
export function intervalAt(g, t) {
  let lo = 0, hi = g.n - 1, r = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (g.t[mid] <= t) { r = mid; lo = mid + 1; } else hi = mid - 1;
  }
  return r;
}

// intervalAt(g, t) searched from a nearby index k (galloping: cheap when t is close to k).
export function intervalFrom(g, k, t) {
  const a = g.t, n = g.n;
  if (k < 0) k = 0;
  if (k >= n) k = n - 1;
  let lo, hi; // a[lo] <= t < a[hi] (hi may be n), or lo = -1
  if (a[k] <= t) {
    let step = 1;
    lo = k;
    while (lo + step < n && a[lo + step] <= t) { lo += step; step *= 2; }
    hi = Math.min(n, lo + step);
  } else {
    let step = 1;
    hi = k;
    while (hi - step >= 0 && a[hi - step] > t) { hi -= step; step *= 2; }
    lo = Math.max(-1, hi - step);
  }
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (a[mid] <= t) lo = mid; else hi = mid;
  }
  return lo;
}

// Running time of goroutine g before time t, where interval k holds t.
export function runningBefore(g, k, t) {
  if (k < 0) return 0;
  const end = intervalEnd(g, k);
  return g.cumRun[k] + (g.state[k] === S.RUNNING ? Math.min(t, end) - g.t[k] : 0);
}

// End time of interval i of goroutine g.
export function intervalEnd(g, i) {
  return i + 1 < g.n ? g.t[i + 1] : g.end;
}

// Time per state of goroutine g in [a, b): a Float64Array indexed by state.
export function stateTimes(g, a, b) {
  const out = new Float64Array(STATE_NAMES.length);
  let i = Math.max(0, intervalAt(g, a));
  for (; i < g.n; i++) {
    const s = Math.max(a, g.t[i]), e = Math.min(b, intervalEnd(g, i));
    if (g.t[i] >= b) break;
    if (e > s) out[g.state[i]] += e - s;
  }
  return out;
}

// Frames of a stack id, leaf first ([] when unknown).
export function stackFrames(model, id) {
  return model.stacks.get(id) ?? [];
}
