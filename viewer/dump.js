// SPDX-License-Identifier: MIT
// Thread dumps in Go's goroutine text format (/debug/pprof/goroutine?debug=1): one
// dump, or a series of them polled into one log, each optionally preceded by a
// timestamp line. openDump charts the thread count over time and shows one dump's
// stacks with the profile view (flame graph, icicle, top table).

import { ViewerError, el } from './util.js';
import { openProfile } from './profile_view.js';

const HEADER = 'goroutine profile: total';
const HEADER_RE = /^goroutine profile: total (\S+)\s*$/;
const SVG_NS = 'http://www.w3.org/2000/svg';

// --- timestamps --------------------------------------------------------------

const MONTH_OR_DAY = /^(JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC|MON|TUE|WED|THU|FRI|SAT|SUN|AM|PM|UTC|GMT)$/;

// Milliseconds since the Unix epoch for a timestamp line, or null when the line
// is not one. Accepted: "# " before any of these; a bare Unix time (seconds, or
// milliseconds, microseconds, nanoseconds by its size); ISO 8601 / RFC 3339
// ("2026-12-02T04:50:00Z", date -Iseconds, date -Ins); date(1)'s default output
// ("Wed Dec  2 04:50:00 UTC 2026") and date -R.
export function parseTimestamp(line) {
  let s = line.trim();
  if (s.startsWith('#')) s = s.slice(1).trim();
  if (!s || !/\d/.test(s)) return null;
  if (/^\d+(\.\d+)?$/.test(s)) {
    const v = Number(s);
    if (!(v > 0)) return null;
    if (v < 1e11) return v * 1e3;   // seconds
    if (v < 1e14) return v;         // milliseconds
    if (v < 1e17) return v / 1e3;   // microseconds
    return v / 1e6;                 // nanoseconds
  }
  // Something that reads as a date and a time, not just any words with digits.
  if (!/^\d{4}-\d{2}-\d{2}/.test(s) && !/\d{1,2}:\d{2}/.test(s)) return null;
  let t = Date.parse(s);
  if (Number.isNaN(t)) {
    // date -Ins writes "2026-12-02T04:50:00,123456789+00:00".
    const iso = s.replace(/^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2})[.,](\d{1,3})\d*/, '$1.$2');
    t = Date.parse(iso);
  }
  if (Number.isNaN(t)) {
    // date(1) names the local zone ("CET", "PDT"), which Date.parse does not know:
    // read the time as local time instead. Times in one log stay consistent.
    const words = s.split(/\s+/).filter(w => !(/^[A-Z]{3,5}$/.test(w) && !MONTH_OR_DAY.test(w)));
    t = Date.parse(words.join(' '));
  }
  return Number.isNaN(t) ? null : t;
}

function isTimestamp(line) {
  return parseTimestamp(line) !== null;
}

// --- parsing -----------------------------------------------------------------

// True when the text is a thread dump: its first line that is neither empty nor a
// timestamp starts with "goroutine profile: total".
export function looksLikeDump(text) {
  if (typeof text !== 'string') return false;
  let pos = 0;
  for (let n = 0; n < 1000 && pos < text.length; n++) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    const line = text.slice(pos, end).trim();
    pos = end + 1;
    if (!line || isTimestamp(line)) continue;
    return line.startsWith(HEADER);
  }
  return false;
}

function fail(lineNo, why) {
  return new ViewerError('not a valid thread dump: line ' + lineNo + ': ' + why);
}

// A Go %q-quoted string's content (JSON escapes plus \xNN and \a \v).
function unquote(s) {
  const fixed = s.replace(/\\x([0-9a-fA-F]{2})/g, '\\u00$1').replace(/\\a/g, '\\u0007').replace(/\\v/g, '\\u000b');
  try {
    return JSON.parse('"' + fixed + '"');
  } catch {
    return s;
  }
}

// "# labels: {"state":"sleeping", "thread":"worker"}" -> {state: 'sleeping', thread: 'worker'}.
function parseLabels(rest, lineNo) {
  const body = rest.trim();
  if (!body.startsWith('{') || !body.endsWith('}')) throw fail(lineNo, 'labels must be written as {"key":"value", ...}');
  const labels = {};
  const inner = body.slice(1, -1).trim();
  const re = /\s*"((?:[^"\\]|\\.)*)"\s*:\s*"((?:[^"\\]|\\.)*)"\s*(,|$)/y;
  let m;
  while (re.lastIndex < inner.length && (m = re.exec(inner))) labels[unquote(m[1])] = unquote(m[2]);
  if (re.lastIndex < inner.length) throw fail(lineNo, 'cannot read the labels ' + body);
  return labels;
}

// "#\t0x4011a6\tworker+0x26\t/src/app.c:41" -> {fn: 'worker', file: '/src/app.c', line: 41, addr: '0x4011a6'};
// a frame not symbolized is "#\t0x4011a6" (fn, file and line null).
// Go pads the columns with several tabs.
function parseFrame(line, lineNo) {
  const parts = line.replace(/^#\t+/, '').split(/\t+/);
  const addr = parts[0].trim();
  if (!/^0x[0-9a-fA-F]+$/.test(addr)) throw fail(lineNo, 'expected a frame "#<tab>0xADDRESS<tab>function+0xOFFSET<tab>file:line", got ' + JSON.stringify(line));
  let fn = null, file = null, lineNum = null;
  if (parts[1]) fn = parts[1].replace(/\+0x[0-9a-fA-F]+$/, '');
  if (parts[2]) {
    const m = /^(.*):(\d+)$/.exec(parts[2].trim());
    if (m) { file = m[1]; lineNum = Number(m[2]); } else file = parts[2].trim();
  }
  return { fn, file, line: lineNum, addr };
}

function dumpLabel(time, index) {
  if (time === null) return 'dump ' + (index + 1);
  return new Date(time).toISOString().replace('T', ' ').replace(/\.000Z$|Z$/, '') + ' UTC';
}

// parseDumps(text) -> [{time, label, total, records: [{count, frames: [{fn, file, line, addr}], labels}]}]
// time is milliseconds since the Unix epoch from the timestamp line before the
// dump, or null; frames are leaf first, as in the text.
export function parseDumps(text) {
  if (typeof text !== 'string') throw new ViewerError('not a valid thread dump: no text');
  const lines = text.split('\n');
  const dumps = [];
  let dump = null, dumpLine = 0;   // the dump being read, and its header's line
  let record = null, recordLine = 0;
  let pendingTime = null;

  const endRecord = lineNo => {
    if (!record) return;
    if (record.frames.length === 0) throw fail(recordLine, 'the record has no frames (expected "#<tab>0xADDRESS..." lines after it, before line ' + lineNo + ')');
    record = null;
  };
  const endDump = () => {
    if (!dump) return;
    const sum = dump.records.reduce((a, r) => a + r.count, 0);
    if (sum !== dump.total) throw fail(dumpLine, 'the header says total ' + dump.total + ' but the records\' counts add up to ' + sum);
    dump = null;
  };

  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const raw = lines[i].replace(/\r$/, '');
    const line = raw.trim();
    if (!line) { endRecord(lineNo); continue; }

    if (line.startsWith(HEADER)) {
      endRecord(lineNo);
      endDump();
      const m = HEADER_RE.exec(line);
      if (!m || !/^\d+$/.test(m[1])) throw fail(lineNo, 'the total in ' + JSON.stringify(line) + ' is not a number');
      dump = { time: pendingTime, label: '', total: Number(m[1]), records: [] };
      dump.label = dumpLabel(dump.time, dumps.length);
      dumps.push(dump);
      dumpLine = lineNo;
      pendingTime = null;
      continue;
    }

    if (record && raw.startsWith('#\t')) {
      record.frames.push(parseFrame(raw, lineNo));
      continue;
    }
    if (record && line.startsWith('# labels:')) {
      if (record.frames.length) throw fail(lineNo, 'labels must come before the frames');
      Object.assign(record.labels, parseLabels(line.slice('# labels:'.length), lineNo));
      continue;
    }

    const at = line.indexOf(' @');
    if (dump && (at > 0 || line.endsWith('@')) && !line.startsWith('#')) {
      endRecord(lineNo);
      const count = line.slice(0, at > 0 ? at : line.length - 1).trim();
      if (!/^\d+$/.test(count)) throw fail(lineNo, 'the count ' + JSON.stringify(count) + ' is not a number');
      record = { count: Number(count), frames: [], labels: {} };
      recordLine = lineNo;
      dump.records.push(record);
      continue;
    }

    const time = parseTimestamp(line);
    if (time !== null) {
      endRecord(lineNo);
      pendingTime = time;
      continue;
    }
    if (record) throw fail(lineNo, 'expected a frame line "#<tab>0xADDRESS..." or an empty line, got ' + JSON.stringify(line));
    if (dump) throw fail(lineNo, 'expected a record "COUNT @ ADDRESSES", a timestamp or a new "' + HEADER + '" header, got ' + JSON.stringify(line));
    throw fail(lineNo, 'expected "' + HEADER + ' N" or a timestamp, got ' + JSON.stringify(line));
  }
  endRecord(lines.length);
  endDump();
  if (dumps.length === 0) throw new ViewerError('not a valid thread dump: no "' + HEADER + '" header');
  return dumps;
}

// The model parseProfile returns, for one dump: sample type threads/count, one
// sample per record (its stack as frame ids, leaf first) with the labels
// (state, thread) as string labels.
export function dumpToModel(dump) {
  const functions = [], functionIds = new Map(), frames = [], frameIds = new Map();
  const frameOf = f => {
    const key = f.addr + '\t' + f.fn + '\t' + f.file + '\t' + f.line;
    let id = frameIds.get(key);
    if (id === undefined) {
      const name = f.fn || f.addr;
      let fid = functionIds.get(name);
      if (fid === undefined) {
        fid = functions.length + 1;
        functionIds.set(name, fid);
        functions.push({ id: fid, name, systemName: '', filename: f.file || '', startLine: 0 });
      }
      id = frames.length;
      frames.push({ name, systemName: '', file: f.file || '', line: f.line || 0, address: parseInt(f.addr, 16), functionId: fid, locationId: 0 });
      frameIds.set(key, id);
    }
    return id;
  };
  const samples = dump.records.map(r => {
    const labels = {};
    for (const [k, v] of Object.entries(r.labels)) labels[k] = [v];
    return { stack: Int32Array.from(r.frames, frameOf), values: [r.count], labels, numLabels: {} };
  });
  return {
    sampleTypes: [{ type: 'threads', unit: 'count' }],
    defaultSampleType: 0,
    periodType: null,
    period: 0,
    durationNanos: 0,
    timeNanos: dump.time !== null ? dump.time * 1e6 : 0,
    comments: [],
    dropFrames: '', keepFrames: '', docUrl: '',
    mappings: [],
    functions,
    locations: [],
    frames,
    samples,
  };
}

// --- the view ----------------------------------------------------------------

function svg(tag, attrs = {}, ...children) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  for (const c of children) e.append(c);
  return e;
}

// The smallest of 1, 2, 5 times a power of ten that is at least v.
function niceCeil(v) {
  if (!(v > 0)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function clock(ms, spanMs) {
  const iso = new Date(ms).toISOString();
  if (spanMs >= 86400e3) return iso.slice(5, 16).replace('T', ' ');
  return iso.slice(11, 19);
}

// openDump(container, dumps, options) -> {debugState(), destroy(), select(i)};
// options.name names the file. dumps is parseDumps' result.
export function openDump(container, dumps, options = {}) {
  if (!Array.isArray(dumps) || dumps.length === 0) throw new ViewerError('no thread dumps to show');
  const name = options.name || 'thread dump';
  const totals = dumps.map(d => d.total);
  const timed = dumps.every(d => d.time !== null);
  const models = new Array(dumps.length);
  let selected = dumps.length - 1;
  let inner = null;
  let destroyed = false;

  const selectEl = el('select', { 'data-test': 'dump-select', title: 'Which dump to show', onchange: () => select(Number(selectEl.value)) },
    dumps.map((d, i) => el('option', { value: String(i) }, d.label + ' — ' + d.total + ' threads')));
  const min = Math.min(...totals), max = Math.max(...totals);
  const summary = el('span', { class: 'pv-fact' }, dumps.length + (dumps.length === 1 ? ' dump' : ' dumps') +
    (dumps.length > 1 ? ', ' + min + '–' + max + ' threads' : ', ' + totals[0] + ' threads'));
  const bar = el('div', { class: 'dv-bar' }, el('strong', { class: 'pv-name' }, name), summary,
    dumps.length > 1 ? el('label', {}, 'Dump ', selectEl) : null);
  const chart = dumps.length > 1 ? svg('svg', { class: 'dv-chart', 'data-test': 'dump-chart', role: 'img' }) : null;
  const innerBox = el('div', { class: 'dv-inner' });
  const root = el('div', { class: 'dv' }, bar, chart, innerBox);
  container.replaceChildren(root);

  // x of each dump: its time when every dump has one, else its index.
  const xs = timed ? dumps.map(d => d.time) : dumps.map((_, i) => i);
  const x0 = Math.min(...xs), x1 = Math.max(...xs);
  const M = { left: 44, right: 14, top: 10, bottom: 30 };
  let chartW = 0;

  function drawChart() {
    if (!chart || destroyed) return;
    const W = Math.max(200, chart.clientWidth || container.clientWidth || 600);
    const H = chart.clientHeight || 120;
    chartW = W;
    chart.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    const yMax = Math.max(2, niceCeil(max));
    const px = x => M.left + (x1 === x0 ? 0.5 : (x - x0) / (x1 - x0)) * (W - M.left - M.right);
    const py = y => H - M.bottom - (y / yMax) * (H - M.top - M.bottom);
    const parts = [];
    // y axis: 0, half (when a whole number), max.
    for (const v of Number.isInteger(yMax / 2) ? [0, yMax / 2, yMax] : [0, yMax]) {
      parts.push(svg('line', { class: 'dv-grid', x1: M.left, x2: W - M.right, y1: py(v), y2: py(v) }));
      parts.push(svg('text', { x: M.left - 6, y: py(v) + 4, 'text-anchor': 'end' }, String(v)));
    }
    parts.push(svg('line', { class: 'dv-axis', x1: M.left, x2: M.left, y1: M.top, y2: H - M.bottom }));
    parts.push(svg('line', { class: 'dv-axis', x1: M.left, x2: W - M.right, y1: H - M.bottom, y2: H - M.bottom }));
    parts.push(svg('text', { x: M.left + 6, y: M.top + 9 }, 'threads'));
    // x axis: first, middle and last.
    const ticks = x1 === x0 ? [x0] : [x0, (x0 + x1) / 2, x1];
    ticks.forEach((x, k) => {
      const label = timed ? clock(x, x1 - x0) : 'dump ' + (Math.round(x) + 1);
      const anchor = ticks.length === 1 ? 'middle' : k === 0 ? 'start' : k === ticks.length - 1 ? 'end' : 'middle';
      parts.push(svg('text', { x: px(x), y: H - M.bottom + 14, 'text-anchor': anchor }, label));
    });
    parts.push(svg('text', { x: W - M.right, y: H - 4, 'text-anchor': 'end' }, timed ? 'time (UTC)' : 'dump'));
    const d = xs.map((x, i) => (i ? 'L' : 'M') + px(x).toFixed(1) + ' ' + py(totals[i]).toFixed(1)).join(' ');
    parts.push(svg('path', { class: 'dv-line', d }));
    if (dumps.length <= 300) {
      xs.forEach((x, i) => parts.push(svg('circle', { class: 'dv-point', cx: px(x), cy: py(totals[i]), r: 2 })));
    }
    const sx = px(xs[selected]);
    parts.push(svg('line', { class: 'dv-cursor', x1: sx, x2: sx, y1: M.top, y2: H - M.bottom }));
    parts.push(svg('circle', { class: 'dv-selected', cx: sx, cy: py(totals[selected]), r: 4.5 },
      svg('title', {}, dumps[selected].label + ': ' + totals[selected] + ' threads')));
    chart.replaceChildren(...parts);
  }

  // A click on the chart selects the dump nearest to it in x.
  if (chart) {
    chart.addEventListener('click', e => {
      const r = chart.getBoundingClientRect();
      const x = (e.clientX - r.left) * (chartW / r.width);
      const W = chartW;
      let best = 0, bestD = Infinity;
      xs.forEach((v, i) => {
        const p = M.left + (x1 === x0 ? 0.5 : (v - x0) / (x1 - x0)) * (W - M.left - M.right);
        if (Math.abs(p - x) < bestD) { bestD = Math.abs(p - x); best = i; }
      });
      select(best);
    });
  }

  function select(i) {
    if (destroyed || !(i >= 0 && i < dumps.length)) return;
    // Keep what the person chose (mode, search, label) from one dump to the next.
    const keep = inner ? inner.debugState() : {};
    if (inner) inner.destroy();
    selected = i;
    selectEl.value = String(i);
    models[i] ||= dumpToModel(dumps[i]);
    inner = openProfile(innerBox, models[i], {
      name: dumps.length > 1 ? dumps[i].label : name,
      mode: keep.mode || options.mode,
      search: keep.search ?? options.search,
      labelFilter: keep.labelFilter ?? options.labelFilter,
    });
    drawChart();
  }

  const resizer = chart ? new ResizeObserver(() => drawChart()) : null;
  if (resizer) resizer.observe(chart);
  select(selected);

  return {
    debugState() {
      return {
        kind: 'dump',
        name,
        dumps: dumps.length,
        totals: totals.slice(),
        times: dumps.map(d => d.time),
        selected,
        profile: inner.debugState(),
      };
    },
    select,
    destroy() {
      destroyed = true;
      if (resizer) resizer.disconnect();
      if (inner) inner.destroy();
      inner = null;
      container.replaceChildren();
    },
  };
}
