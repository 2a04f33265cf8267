// SPDX-License-Identifier: MIT
// The timeline of a trace on a canvas: one row per thread, coloured by state, CPU samples as
// marks, regions as nested spans, logs, tasks, the heap counter above the rows, creation and
// wake-up arrows. Zoom and pan with wheel, keys (WASD) and drag; shift+drag selects a range and
// sums up time per state; a click shows the slice's details and its stack.
//
// Drawing is level-of-detail: an interval of at least a pixel is a rectangle; where intervals
// are thinner, each pixel column is drawn once, with the share of running time in it from a
// per-thread prefix sum, so a frame costs O(visible rows × width × log n) however long the trace.

import { S, STATE_NAMES, EVENT_NAMES, intervalAt, intervalFrom, intervalEnd, runningBefore,
  stateTimes, stackFrames } from './gotrace.js';
import { el, formatNs, formatBytes } from './util.js';
import { Raster, pixel } from './raster.js';

export const STATE_COLOURS = ['', '#43a047', '#fdd835', '#fb8c00', '#e53935', '#ad1457',
  '#8e24aa', '#1e88e5', '#90a4ae', '#00897b', '#bdbdbd', '#6d4c41'];

const STATE_PIXELS = STATE_COLOURS.map(c => (c ? pixel(c) : 0));
const WHITE = pixel('#ffffff'), STRIPE = pixel('#fafafa'), SELECTED_ROW = pixel('#e3f2fd');
const SAMPLE = pixel('#111111');
const GROUP_H = 18;
const GUTTER = 230, RULER = 22, HEAP_H = 46, TASK_LANE = 14, STATE_H = 14, REGION_H = 6, ROW_GAP = 4;
const MAX_FLOWS = 3000;

function hashColour(s) {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0;
  return `hsl(${(h >>> 0) % 360}, 45%, 62%)`;
}

// Tick step for the ruler: 1, 2 or 5 × 10^k ns, at least `minPx` apart.
function tickStep(nsPerPx, minPx) {
  const raw = nsPerPx * minPx;
  const p = 10 ** Math.floor(Math.log10(Math.max(raw, 1e-3)));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

// First index of sorted array `a` with a[i] >= v.
function lowerBound(a, v, lo = 0, hi = a.length) {
  while (lo < hi) { const m = (lo + hi) >> 1; if (a[m] < v) lo = m + 1; else hi = m; }
  return lo;
}

export function openTimeline(container, model, options = {}) {
  return new Timeline(container, model, options);
}

class Timeline {
  constructor(container, model, options) {
    this.model = model;
    this.name = options.name || 'trace';
    this.container = container;
    const gs = model.goroutines;
    // Rows grouped by process (in the order processes appear), threads in creation order.
    const live = gs.filter(g => g.n > 0);
    const order = [...new Set(live.map(g => g.pid))];
    const perProcess = new Map();
    for (const g of live) perProcess.set(g.pid, (perProcess.get(g.pid) || 0) + 1);
    this.rows = order.flatMap(pid => live.filter(g => g.pid === pid));
    this.processes = order.length;
    // Row geometry: a state bar, then one lane per region nesting level; a header line
    // before each process when there are several.
    let y = 0;
    this.rowY = new Float64Array(this.rows.length + 1);
    this.groups = [];
    this.rows.forEach((g, i) => {
      if (this.processes > 1 && (i === 0 || this.rows[i - 1].pid !== g.pid)) {
        const n = perProcess.get(g.pid);
        this.groups.push({ y, label: `${g.pid >= 0 ? 'process ' + g.pid : 'process unknown'} · ${n} thread${n === 1 ? '' : 's'}` });
        y += GROUP_H;
      }
      this.rowY[i] = y;
      y += STATE_H + g.depth * REGION_H + ROW_GAP;
    });
    this.rowY[this.rows.length] = y;
    this.rowOf = new Map(this.rows.map((g, i) => [g.index, i]));
    this.logsByG = new Map();
    for (const l of model.logs) {
      if (!this.logsByG.has(l.g)) this.logsByG.set(l.g, []);
      this.logsByG.get(l.g).push(l);
    }
    for (const list of this.logsByG.values()) list.sort((a, b) => a.t - b.t);
    this.taskLanes = this.layoutTasks(model.tasks);
    // Flows sorted by time, for the visible range.
    const nf = model.flows.t.length;
    this.flowOrder = Uint32Array.from({ length: nf }, (_, i) => i)
      .sort((a, b) => model.flows.t[a] - model.flows.t[b]);
    this.flowT = Float64Array.from(this.flowOrder, i => model.flows.t[i]);

    this.viewStart = 0;
    this.viewEnd = Math.max(model.duration, 1);
    this.scrollY = 0;
    this.selection = null;  // {start, end}
    this.selected = null;   // details of the clicked thing
    this.lastFrameMs = 0;
    this.frames = 0;
    this.frameTimes = [];

    this.build();
    this.resizeObserver = new ResizeObserver(() => this.invalidate());
    this.resizeObserver.observe(this.canvasBox);
    this.invalidate();
  }

  layoutTasks(tasks) {
    const lanes = [];  // end time of each lane
    const placed = [...tasks].sort((a, b) => a.start - b.start).map(t => {
      let lane = lanes.findIndex(end => end <= t.start);
      if (lane < 0) { lane = lanes.length; lanes.push(0); }
      lanes[lane] = t.end;
      return { task: t, lane };
    });
    return { placed, count: Math.min(lanes.length, 8) };
  }

  // ---- DOM ---------------------------------------------------------------------------------

  build() {
    const m = this.model;
    const legend = el('div', { class: 'legend' },
      STATE_NAMES.map((n, i) => i === 0 ? null :
        el('span', { class: 'legend-item' }, el('i', { style: `background:${STATE_COLOURS[i]}` }), n)),
      el('span', { class: 'legend-item' }, el('i', { class: 'mark-sample' }), 'CPU sample'));
    this.info = el('div', { class: 'trace-info', 'data-test': 'trace-info' },
      `${this.name}: ${this.rows.length} threads` +
      (this.processes > 1 ? ` in ${this.processes} processes` : this.rows.length && this.rows[0].pid >= 0 ? ` of process ${this.rows[0].pid}` : '') +
      `, ${m.events.toLocaleString('en-US')} events, ` +
      `${formatNs(m.duration)} (Go ${m.version} trace format)`);
    this.help = el('div', { class: 'help' },
      'wheel: scroll rows · ctrl+wheel, W/S: zoom · shift+wheel, A/D, drag: pan · ' +
      'shift+drag or drag on the ruler: select a range · click: details · 0: whole trace · Esc: clear');
    this.canvas = el('canvas', { 'data-test': 'timeline-canvas', tabindex: '0' });
    this.canvasBox = el('div', { class: 'canvas-box' }, this.canvas);
    this.details = el('div', { class: 'details', 'data-test': 'details' },
      el('p', { class: 'hint' }, 'Click a slice for its details and stack; shift+drag to sum up a range.'));
    this.root = el('div', { class: 'timeline' }, this.info, legend, this.help, this.canvasBox,
      this.details);
    this.container.append(this.root);
    this.bindInput();
  }

  destroy() { this.resizeObserver.disconnect(); this.root.remove(); }

  invalidate() {
    if (this.pending) return;
    this.pending = requestAnimationFrame(() => { this.pending = 0; this.paint(); });
  }

  // ---- geometry ----------------------------------------------------------------------------

  get plotW() { return Math.max(10, this.width - GUTTER); }
  get topH() {
    return RULER + (this.model.heap.t.length ? HEAP_H : 0) +
      (this.taskLanes.count ? this.taskLanes.count * TASK_LANE + 4 : 0);
  }
  x(t) { return GUTTER + (t - this.viewStart) / (this.viewEnd - this.viewStart) * this.plotW; }
  tAt(x) { return this.viewStart + (x - GUTTER) / this.plotW * (this.viewEnd - this.viewStart); }
  rowTop(i) { return this.topH + this.rowY[i] - this.scrollY; }
  maxScroll() { return Math.max(0, this.rowY[this.rows.length] - (this.height - this.topH)); }
  rowAtY(y) {
    const v = y - this.topH + this.scrollY;
    if (y < this.topH || v < 0) return -1;
    let lo = 0, hi = this.rows.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.rowY[mid] <= v) { if (v < this.rowY[mid + 1]) return mid; lo = mid + 1; } else hi = mid - 1;
    }
    return -1;
  }

  setView(a, b) {
    const d = this.model.duration || 1;
    let w = Math.max(b - a, 1000); // 1 µs at most zoomed in
    w = Math.min(w, d * 1.05);
    a = Math.max(-d * 0.025, Math.min(a, d * 1.025 - w));
    this.viewStart = a; this.viewEnd = a + w;
    this.invalidate();
  }
  zoom(factor, atX) {
    const t = this.tAt(atX ?? GUTTER + this.plotW / 2);
    this.setView(t - (t - this.viewStart) * factor, t + (this.viewEnd - t) * factor);
  }
  pan(px) {
    const dt = px / this.plotW * (this.viewEnd - this.viewStart);
    this.setView(this.viewStart + dt, this.viewEnd + dt);
  }
  scrollBy(dy) {
    this.scrollY = Math.max(0, Math.min(this.maxScroll(), this.scrollY + dy));
    this.invalidate();
  }

  // ---- input -------------------------------------------------------------------------------

  bindInput() {
    const c = this.canvas;
    c.addEventListener('wheel', e => {
      e.preventDefault();
      const r = c.getBoundingClientRect(), x = e.clientX - r.left;
      if (e.ctrlKey || e.metaKey) this.zoom(Math.exp(e.deltaY * 0.002), x);
      else if (e.shiftKey) this.pan(e.deltaY || e.deltaX);
      else if (Math.abs(e.deltaX) > Math.abs(e.deltaY)) this.pan(e.deltaX);
      else this.scrollBy(e.deltaY);
    }, { passive: false });
    let drag = null;
    c.addEventListener('mousedown', e => {
      c.focus();
      const r = c.getBoundingClientRect(), x = e.clientX - r.left, y = e.clientY - r.top;
      const select = e.shiftKey || y < RULER;
      drag = { x, y, moved: false, select, t: this.tAt(x), scroll: this.scrollY,
        v0: this.viewStart, v1: this.viewEnd };
    });
    window.addEventListener('mousemove', this.onMove = e => {
      if (!drag) return;
      const r = c.getBoundingClientRect(), x = e.clientX - r.left, y = e.clientY - r.top;
      if (Math.abs(x - drag.x) + Math.abs(y - drag.y) > 3) drag.moved = true;
      if (!drag.moved) return;
      if (drag.select) {
        const t = this.tAt(x);
        this.selection = { start: Math.min(t, drag.t), end: Math.max(t, drag.t) };
      } else {
        const dt = (x - drag.x) / this.plotW * (drag.v1 - drag.v0);
        this.viewStart = drag.v0 - dt; this.viewEnd = drag.v1 - dt;
        this.scrollY = Math.max(0, Math.min(this.maxScroll(), drag.scroll - (y - drag.y)));
      }
      this.invalidate();
    });
    window.addEventListener('mouseup', this.onUp = e => {
      if (!drag) return;
      const d = drag;
      drag = null;
      const r = c.getBoundingClientRect();
      if (!d.moved) this.click(e.clientX - r.left, e.clientY - r.top);
      else if (d.select && this.selection) this.showSelection();
    });
    c.addEventListener('keydown', e => {
      const k = e.key.toLowerCase();
      if (k === 'w') this.zoom(0.8, this.mouseX);
      else if (k === 's') this.zoom(1.25, this.mouseX);
      else if (k === 'a') this.pan(-this.plotW * 0.1);
      else if (k === 'd') this.pan(this.plotW * 0.1);
      else if (k === '0') this.setView(0, this.model.duration);
      else if (k === 'escape') { this.selection = null; this.selected = null; this.showHint(); this.invalidate(); }
      else if (k === 'arrowdown' || k === 'pagedown') this.scrollBy(k === 'pagedown' ? this.height * 0.8 : 40);
      else if (k === 'arrowup' || k === 'pageup') this.scrollBy(k === 'pageup' ? -this.height * 0.8 : -40);
      else return;
      e.preventDefault();
    });
    c.addEventListener('mousemove', e => {
      const r = c.getBoundingClientRect();
      this.mouseX = e.clientX - r.left;
    });
  }

  // ---- hit testing and details ---------------------------------------------------------------

  click(x, y) {
    this.selected = null;
    if (x < GUTTER) { this.invalidate(); return; }
    const t = this.tAt(x), tol = 3 / this.plotW * (this.viewEnd - this.viewStart);
    const heapTop = RULER, taskTop = RULER + (this.model.heap.t.length ? HEAP_H : 0);
    if (y >= taskTop && y < this.topH) {
      const lane = Math.floor((y - taskTop) / TASK_LANE);
      const hit = this.taskLanes.placed.find(p => p.lane === lane && p.task.start <= t + tol && p.task.end >= t - tol);
      if (hit) this.selected = { kind: 'task', task: hit.task };
    } else if (y >= heapTop && y < taskTop) {
      const h = this.model.heap, i = lowerBound(h.t, t + 1e-9) - 1;
      if (i >= 0) this.selected = { kind: 'heap', t: h.t[i], bytes: h.v[i] };
    } else {
      const row = this.rowAtY(y);
      if (row >= 0) this.selected = this.hitRow(row, y - this.rowTop(row), t, tol);
    }
    this.showDetails();
    this.invalidate();
  }

  hitRow(row, dy, t, tol) {
    const g = this.rows[row], gi = g.index;
    if (dy >= STATE_H) { // a region lane
      const depth = Math.floor((dy - STATE_H) / REGION_H);
      const r = g.regions.find(r => r.depth === depth && r.start <= t + tol && (r.end ?? g.end) >= t - tol);
      return r ? { kind: 'region', g, region: r } : null;
    }
    const logs = this.logsByG.get(gi);
    if (logs && dy >= STATE_H - 6) {
      const l = logs.find(l => Math.abs(l.t - t) <= tol);
      if (l) return { kind: 'log', g, log: l };
    }
    if (dy < 4 && g.samples.length) {
      const i = lowerBound(g.samples, t - tol);
      if (i < g.samples.length && g.samples[i] <= t + tol)
        return { kind: 'sample', g, t: g.samples[i], stack: g.sampleStacks[i] };
    }
    const i = intervalAt(g, t);
    if (i < 0 || g.state[i] === S.DEAD) return null;
    return { kind: 'slice', g, row, index: i };
  }

  showHint() {
    this.details.replaceChildren(el('p', { class: 'hint' },
      'Click a slice for its details and stack; shift+drag to sum up a range.'));
  }

  stackList(id, title) {
    const frames = stackFrames(this.model, id);
    if (!frames.length) return el('p', { class: 'hint' }, `${title}: no stack recorded`);
    return el('div', { class: 'stack' }, el('h4', {}, title),
      el('ol', { 'data-test': 'stack' }, frames.map(f =>
        el('li', {}, el('code', {}, f.fn || '?'), f.file ? ` ${f.file}:${f.line}` : ''))));
  }

  threadTitle(g) {
    return `${g.name}${g.tid >= 0 ? ` (thread ${g.tid})` : ''}, G${g.id}`;
  }

  showDetails() {
    const s = this.selected;
    if (!s) { this.showHint(); return; }
    const parts = [];
    if (s.kind === 'slice') {
      const g = s.g, i = s.index, end = intervalEnd(g, i);
      parts.push(el('h3', {}, `${STATE_NAMES[g.state[i]]}: ${formatNs(end - g.t[i])}`),
        el('p', {}, `${this.threadTitle(g)} · from ${formatNs(g.t[i])} to ${formatNs(end)}` +
          ` · began with ${EVENT_NAMES[g.ev[i]] || '?'}`));
      if (g.from[i] >= 0) {
        const w = this.model.goroutines[g.from[i]];
        parts.push(el('p', {}, `${g.ev[i] === 13 ? 'created' : 'woken'} by ${this.threadTitle(w)}`));
      }
      if (i + 1 < g.n && g.from[i + 1] >= 0 && g.state[i + 1] === S.RUNNABLE) {
        const w = this.model.goroutines[g.from[i + 1]];
        parts.push(el('p', { 'data-test': 'waker' }, `ended by ${this.threadTitle(w)}`));
      }
      parts.push(this.stackList(g.stack[i], g.state[i] === S.RUNNING ? 'stack' : 'where it waited'));
      if (i + 1 < g.n && g.from[i + 1] >= 0)
        parts.push(this.stackList(g.stack[i + 1], 'stack of the wake-up'));
    } else if (s.kind === 'sample') {
      parts.push(el('h3', {}, `CPU sample at ${formatNs(s.t)}`), el('p', {}, this.threadTitle(s.g)),
        this.stackList(s.stack, 'stack'));
    } else if (s.kind === 'region') {
      const r = s.region, end = r.end ?? s.g.end;
      parts.push(el('h3', {}, `region ${r.name}: ${formatNs(end - r.start)}`),
        el('p', {}, `${this.threadTitle(s.g)} · task ${r.task} · from ${formatNs(r.start)}` +
          (r.end === null ? ' (not ended)' : '')), this.stackList(r.stack, 'where it began'));
    } else if (s.kind === 'log') {
      parts.push(el('h3', {}, `log ${s.log.category ? s.log.category + ': ' : ''}${s.log.message}`),
        el('p', {}, `${this.threadTitle(s.g)} · at ${formatNs(s.log.t)}`), this.stackList(s.log.stack, 'stack'));
    } else if (s.kind === 'task') {
      const k = s.task;
      parts.push(el('h3', {}, `task ${k.name}: ${formatNs(k.end - k.start)}`),
        el('p', {}, `id ${k.id}${k.parent ? `, parent ${k.parent}` : ''} · from ${formatNs(k.start)}` +
          (k.open ? ' (not ended)' : '')), this.stackList(k.stack, 'where it began'));
    } else if (s.kind === 'heap') {
      parts.push(el('h3', {}, `heap in use: ${formatBytes(s.bytes)}`), el('p', {}, `at ${formatNs(s.t)}`));
    }
    this.details.replaceChildren(...parts);
  }

  // Time per state per thread in the selected range.
  showSelection() {
    const { start, end } = this.selection;
    const shown = [S.RUNNING, S.RUNNABLE, S.PREEMPTED, S.SYNC, S.COND, S.BLOCKED, S.SYSCALL, S.SLEEP];
    const rows = this.rows.map(g => ({ g, times: stateTimes(g, start, end) }))
      .filter(r => r.times.some(v => v > 0))
      .sort((a, b) => b.times[S.RUNNING] - a.times[S.RUNNING]);
    const total = new Float64Array(STATE_NAMES.length);
    for (const r of rows) r.times.forEach((v, i) => { total[i] += v; });
    const table = el('table', { class: 'summary', 'data-test': 'selection-summary' },
      el('thead', {}, el('tr', {}, el('th', {}, 'thread'), shown.map(s => el('th', {}, STATE_NAMES[s])))),
      el('tbody', {},
        el('tr', { class: 'total' }, el('td', {}, `all ${rows.length} threads`), shown.map(s => el('td', {}, formatNs(total[s])))),
        rows.slice(0, 200).map(r => el('tr', {}, el('td', {}, this.threadTitle(r.g)),
          shown.map(s => el('td', {}, r.times[s] ? formatNs(r.times[s]) : ''))))));
    this.details.replaceChildren(el('h3', {}, `range ${formatNs(start)} – ${formatNs(end)} (${formatNs(end - start)})`),
      el('p', {}, el('button', { onclick: () => this.setView(start, end) }, 'zoom to range')), table);
    this.summary = { start, end, threads: rows.length,
      running: total[S.RUNNING], sync: total[S.SYNC] + total[S.COND], syscall: total[S.SYSCALL],
      sleep: total[S.SLEEP] };
  }

  // ---- painting ----------------------------------------------------------------------------

  paint() {
    const t0 = performance.now();
    const box = this.canvasBox.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    this.width = Math.max(200, Math.floor(box.width));
    this.height = Math.max(120, Math.floor(box.height));
    if (this.canvas.width !== this.width * dpr || this.canvas.height !== this.height * dpr) {
      this.canvas.width = this.width * dpr; this.canvas.height = this.height * dpr;
      this.canvas.style.width = this.width + 'px'; this.canvas.style.height = this.height + 'px';
    }
    this.scrollY = Math.min(this.scrollY, this.maxScroll());
    const ctx = this.canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, this.width, this.height);
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';

    // The rows' backgrounds, states and samples as pixels, then what has text or shapes.
    this.drawnRows = 0;
    const visible = [];
    const first = Math.max(0, this.rowAtY(this.topH) < 0 ? 0 : this.rowAtY(this.topH));
    for (let i = first; i < this.rows.length; i++) {
      const y = this.rowTop(i);
      if (y > this.height) break;
      if (y + STATE_H < this.topH) continue;
      visible.push([i, y]);
    }
    this.raster ??= new Raster();
    this.raster.begin(ctx, this.canvas.width, this.canvas.height, dpr, WHITE, this.topH);
    for (const [i, y] of visible) this.rasterRow(i, y);
    this.raster.end(ctx);
    ctx.save();
    ctx.beginPath();
    ctx.rect(0, this.topH, this.width, this.height - this.topH);
    ctx.clip();
    for (const [i, y] of visible) { this.decorateRow(ctx, i, y); this.drawnRows++; }
    for (const grp of this.groups) {
      const y = this.topH + grp.y - this.scrollY;
      if (y + GROUP_H < this.topH || y > this.height) continue;
      ctx.fillStyle = '#eceff1';
      ctx.fillRect(0, y, this.width, GROUP_H - 2);
      ctx.fillStyle = '#263238';
      ctx.font = 'bold 11px system-ui, sans-serif';
      ctx.fillText(grp.label, 6, y + GROUP_H / 2 - 1);
      ctx.font = '11px system-ui, sans-serif';
    }
    this.drawFlows(ctx);
    ctx.restore();
    this.drawTop(ctx);
    this.drawSelection(ctx);
    const ms = performance.now() - t0;
    this.lastFrameMs = ms;
    this.frames++;
    this.frameTimes.push(ms);
    if (this.frameTimes.length > 200) this.frameTimes.shift();
  }

  // A row's background, its states and its CPU samples, into the raster.
  rasterRow(row, y) {
    const g = this.rows[row], ras = this.raster;
    const x0 = GUTTER, x1 = GUTTER + this.plotW;
    const a = this.viewStart, b = this.viewEnd, span = b - a;
    ras.rect(0, y - ROW_GAP / 2, this.width, this.rowY[row + 1] - this.rowY[row],
      this.selected && this.selected.g === g ? SELECTED_ROW : row % 2 ? STRIPE : WHITE);

    // states
    const nsPx = span / this.plotW;
    let i = Math.max(0, intervalAt(g, a));
    let nextCol = -Infinity; // pixel columns before this one are drawn
    while (i < g.n) {
      const s = g.t[i];
      if (s >= b) break;
      const e = intervalEnd(g, i);
      const px0 = this.x(s), px1 = this.x(e);
      if (px1 < x0) { i++; continue; }
      if (px1 - px0 >= 1) {
        if (g.state[i] !== S.DEAD) {
          const l = Math.max(px0, x0, nextCol), r = Math.min(px1, x1);
          if (r > l) ras.rect(l, y, Math.max(1, r - l - (px1 - px0 > 3 ? 1 : 0)), STATE_H, STATE_PIXELS[g.state[i]]);
        }
        i++;
        continue;
      }
      // Thinner than a pixel: draw this pixel column once, with its share of running time.
      const col = Math.max(Math.floor(Math.max(px0, x0)), nextCol);
      if (col >= x1) break;
      const ca = a + (col - GUTTER) * nsPx, cb = ca + nsPx;
      const ia = intervalFrom(g, i, ca), j = intervalFrom(g, i, cb);
      const run = (runningBefore(g, j, cb) - runningBefore(g, ia, ca)) / nsPx;
      // the background: the state the column ends in, or the one it began in when running
      const bg = g.state[j] !== S.RUNNING ? g.state[j] : ia >= 0 ? g.state[ia] : S.DEAD;
      if (bg !== S.DEAD && bg !== S.RUNNING) ras.rect(col, y, 1, STATE_H, STATE_PIXELS[bg]);
      if (run > 0) {
        const h = Math.max(1, Math.min(STATE_H, Math.round(run * STATE_H)));
        ras.rect(col, y + STATE_H - h, 1, h, STATE_PIXELS[S.RUNNING]);
      }
      nextCol = col + 1;
      i = Math.max(i, j);
    }

    // CPU samples: a tick at the top of the bar, one per pixel at most
    if (g.samples.length) {
      let k = lowerBound(g.samples, a);
      while (k < g.samples.length && g.samples[k] < b) {
        const px = Math.floor(this.x(g.samples[k]));
        ras.rect(px, y, 1, 4, SAMPLE);
        k = lowerBound(g.samples, this.tAt(px + 1), k + 1);
      }
    }
  }

  // A row's label, regions, logs and selection outline, on the canvas.
  decorateRow(ctx, row, y) {
    const g = this.rows[row];
    const x0 = GUTTER, x1 = GUTTER + this.plotW;
    const a = this.viewStart, b = this.viewEnd;
    ctx.fillStyle = '#222';
    const label = `${g.name}${g.tid >= 0 ? ' ' + g.tid : ''}`;
    ctx.fillText(label.length > 34 ? label.slice(0, 33) + '…' : label, 6, y + STATE_H / 2);
    ctx.fillStyle = '#999';
    ctx.textAlign = 'right';
    ctx.fillText('G' + g.id, GUTTER - 6, y + STATE_H / 2);
    ctx.textAlign = 'left';

    // regions, one lane per nesting level
    for (const r of g.regions) {
      const re = r.end ?? g.end;
      if (re < a || r.start > b) continue;
      const l = Math.max(this.x(r.start), x0), rr = Math.min(this.x(re), x1);
      if (rr - l < 0.5) continue;
      const ry = y + STATE_H + r.depth * REGION_H;
      ctx.fillStyle = r.colour ??= hashColour(r.name);
      ctx.fillRect(l, ry + 0.5, Math.max(1, rr - l), REGION_H - 1);
    }
    // logs: small triangles at the bottom of the bar
    const logs = this.logsByG.get(g.index);
    if (logs) {
      ctx.fillStyle = '#0d47a1';
      for (const l of logs) {
        if (l.t < a || l.t > b) continue;
        const px = this.x(l.t);
        ctx.beginPath();
        ctx.moveTo(px, y + STATE_H - 6); ctx.lineTo(px - 3, y + STATE_H); ctx.lineTo(px + 3, y + STATE_H);
        ctx.fill();
      }
    }
    // the clicked slice
    const sel = this.selected;
    if (sel && sel.kind === 'slice' && sel.g === g) {
      const l = this.x(g.t[sel.index]), r = this.x(intervalEnd(g, sel.index));
      ctx.strokeStyle = '#000'; ctx.lineWidth = 2;
      ctx.strokeRect(Math.max(l, x0), y - 1, Math.max(2, Math.min(r, x1) - Math.max(l, x0)), STATE_H + 2);
      ctx.lineWidth = 1;
    }
  }

  // Arrows of creation (grey) and wake-up (black): from the creator or waker at the event to
  // the other thread's next start.
  drawFlows(ctx) {
    const a = this.viewStart, b = this.viewEnd;
    const lo = lowerBound(this.flowT, a), hi = lowerBound(this.flowT, b);
    this.drawnFlows = 0;
    if (hi - lo > MAX_FLOWS) return; // zoom in to see them
    const f = this.model.flows, gs = this.model.goroutines;
    for (let k = lo; k < hi; k++) {
      const i = this.flowOrder[k];
      const ra = this.rowOf.get(f.from[i]), rb = this.rowOf.get(f.to[i]);
      if (ra === undefined || rb === undefined) continue;
      const ya = this.rowTop(ra) + STATE_H / 2, yb = this.rowTop(rb) + STATE_H / 2;
      if ((ya < this.topH && yb < this.topH) || (ya > this.height && yb > this.height)) continue;
      const g = gs[f.to[i]];
      let j = Math.max(0, intervalAt(g, f.t[i]));
      while (j < g.n && g.state[j] !== S.RUNNING) j++;
      const xa = this.x(f.t[i]), xb = j < g.n ? this.x(g.t[j]) : xa;
      ctx.strokeStyle = f.kind[i] ? 'rgba(0,0,0,0.7)' : 'rgba(90,90,90,0.5)';
      ctx.beginPath(); ctx.moveTo(xa, ya); ctx.lineTo(xb, yb); ctx.stroke();
      const ang = Math.atan2(yb - ya, xb - xa);
      ctx.beginPath();
      ctx.moveTo(xb, yb);
      ctx.lineTo(xb - 6 * Math.cos(ang - 0.4), yb - 6 * Math.sin(ang - 0.4));
      ctx.lineTo(xb - 6 * Math.cos(ang + 0.4), yb - 6 * Math.sin(ang + 0.4));
      ctx.fillStyle = ctx.strokeStyle; ctx.fill();
      this.drawnFlows++;
    }
  }

  drawTop(ctx) {
    const a = this.viewStart, b = this.viewEnd, x1 = GUTTER + this.plotW;
    ctx.fillStyle = '#f5f5f5';
    ctx.fillRect(0, 0, this.width, this.topH);
    ctx.strokeStyle = '#ccc';
    ctx.beginPath(); ctx.moveTo(0, this.topH - 0.5); ctx.lineTo(this.width, this.topH - 0.5); ctx.stroke();
    // ruler
    const nsPerPx = (b - a) / this.plotW, step = tickStep(nsPerPx, 90);
    ctx.fillStyle = '#333';
    ctx.strokeStyle = '#bbb';
    for (let t = Math.ceil(a / step) * step; t <= b; t += step) {
      const px = Math.round(this.x(t)) + 0.5;
      ctx.beginPath(); ctx.moveTo(px, RULER - 6); ctx.lineTo(px, RULER); ctx.stroke();
      ctx.fillText(formatNs(t), px + 3, RULER / 2 - 2);
    }
    ctx.fillStyle = '#666';
    ctx.fillText(`${formatNs(b - a)} shown`, 6, RULER / 2 - 2);
    let y = RULER;
    // heap counter
    const h = this.model.heap;
    if (h.t.length) {
      let max = 0;
      for (let i = 0; i < h.v.length; i++) if (h.v[i] > max) max = h.v[i];
      ctx.fillStyle = '#555';
      ctx.fillText(`heap (max ${formatBytes(max)})`, 6, y + HEAP_H / 2);
      ctx.fillStyle = 'rgba(3, 155, 229, 0.55)';
      let k = Math.max(0, lowerBound(h.t, a) - 1);
      while (k < h.t.length && h.t[k] < b) {
        const px = Math.max(GUTTER, Math.floor(this.x(h.t[k])));
        // the largest value in this pixel column, drawn until the next point
        const next = lowerBound(h.t, this.tAt(px + 1), k + 1);
        let v = 0;
        for (let q = k; q < next; q++) if (h.v[q] > v) v = h.v[q];
        const endPx = next < h.t.length ? Math.max(px + 1, Math.min(x1, this.x(h.t[next]))) : x1;
        const hh = max ? v / max * (HEAP_H - 6) : 0;
        ctx.fillRect(px, y + HEAP_H - 2 - hh, endPx - px, hh);
        k = next;
      }
      y += HEAP_H;
    }
    // tasks
    if (this.taskLanes.count) {
      ctx.fillStyle = '#555';
      ctx.fillText('tasks', 6, y + TASK_LANE / 2);
      for (const { task, lane } of this.taskLanes.placed) {
        if (lane >= this.taskLanes.count || task.end < a || task.start > b) continue;
        const l = Math.max(this.x(task.start), GUTTER), r = Math.min(this.x(task.end), x1);
        ctx.fillStyle = hashColour(task.name);
        ctx.fillRect(l, y + lane * TASK_LANE + 1, Math.max(1, r - l), TASK_LANE - 2);
        if (r - l > 30) {
          ctx.fillStyle = '#000';
          ctx.fillText(task.name, l + 3, y + lane * TASK_LANE + TASK_LANE / 2, r - l - 6);
        }
      }
    }
  }

  drawSelection(ctx) {
    if (!this.selection) return;
    const l = Math.max(GUTTER, this.x(this.selection.start)), r = Math.min(GUTTER + this.plotW, this.x(this.selection.end));
    if (r <= l) return;
    ctx.fillStyle = 'rgba(33, 150, 243, 0.15)';
    ctx.fillRect(l, 0, r - l, this.height);
    ctx.strokeStyle = 'rgba(33, 150, 243, 0.9)';
    ctx.strokeRect(l + 0.5, 0.5, r - l - 1, this.height - 1);
  }

  // ---- for tests and scripts -------------------------------------------------------------------

  // Brings the first interval of `state` (a name of STATE_NAMES) in the row whose name is
  // `rowName` into view and returns its centre in page coordinates, or null.
  locate(rowName, stateName) {
    const row = this.rows.findIndex(g => g.name === rowName);
    if (row < 0) return null;
    const g = this.rows[row], want = STATE_NAMES.indexOf(stateName);
    let i = 0;
    while (i < g.n && g.state[i] !== want) i++;
    if (i >= g.n) return null;
    const s = g.t[i], e = intervalEnd(g, i), w = Math.max(e - s, 1000);
    this.setView(s - w, e + w);
    this.scrollY = Math.max(0, Math.min(this.maxScroll(), this.rowY[row] - 20));
    this.paint();
    const r = this.canvas.getBoundingClientRect();
    return { x: r.left + (this.x(s) + this.x(e)) / 2, y: r.top + this.rowTop(row) + STATE_H / 2 };
  }

  debugState() {
    const sel = this.selected;
    let selected = null;
    if (sel && sel.kind === 'slice') {
      const g = sel.g, i = sel.index;
      selected = { kind: 'slice', thread: g.name, tid: g.tid, state: STATE_NAMES[g.state[i]],
        start: g.t[i], duration: intervalEnd(g, i) - g.t[i],
        stack: stackFrames(this.model, g.stack[i]).map(f => f.fn),
        wokenBy: i + 1 < g.n && g.from[i + 1] >= 0 ? this.model.goroutines[g.from[i + 1]].name : null };
    } else if (sel) selected = { kind: sel.kind };
    const sorted = [...this.frameTimes].sort((x, y) => x - y);
    return { kind: 'trace', name: this.name, rows: this.rows.length, drawnRows: this.drawnRows,
      rowNames: this.rows.map(g => g.name), processes: this.groups.map(p => p.label), events: this.model.events, duration: this.model.duration,
      viewStart: this.viewStart, viewEnd: this.viewEnd, scrollY: this.scrollY, frames: this.frames,
      lastFrameMs: this.lastFrameMs, medianFrameMs: sorted.length ? sorted[sorted.length >> 1] : 0,
      maxFrameMs: sorted.length ? sorted[sorted.length - 1] : 0, drawnFlows: this.drawnFlows,
      selected, summary: this.summary ?? null };
  }
}
