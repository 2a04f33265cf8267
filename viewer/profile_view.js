// SPDX-License-Identifier: MIT
// The profile view: a flame graph / icicle on a canvas and a "top" table for a model
// from pprof.js (or one built the same way, as dump.js does for thread dumps).
//
// How it stays fast on big profiles: the call tree (frames merged by function name
// along the path from the root) depends only on the stacks, so it is built once per
// model. Every node's id is larger than its parent's, so choosing a sample type or a
// label filter is one pass over the samples (a value onto each sample's leaf node)
// and one reverse pass over the nodes (each node's total onto its parent). A paint
// walks only frames at least half a pixel wide and draws only the rows in view.

import { ViewerError, formatValue, formatNs, el } from './util.js';

const ROW_H = 18;          // CSS pixels per flame graph row
const MIN_W = 0.5;         // frames narrower than this are not drawn (nor their callees)
const LABEL_MIN_W = 24;    // frames narrower than this get no text
const FONT = '11px ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace';
const TOP_ROWS = 500;      // the top table renders at most this many rows
const HIGHLIGHT = '#d23ad2';
const MODES = ['flame', 'icicle', 'top'];

// ---------------------------------------------------------------------------
// The call tree, built once per model.

// The model's frames and its samples' stacks as frame ids. pprof.js gives
// stacks as Int32Arrays of indices into model.frames; a model built by hand
// may give arrays of frame objects instead, which are numbered here.
function stacksOf(model) {
  const samples = model.samples;
  if (Array.isArray(model.frames) && samples.every(s => ArrayBuffer.isView(s.stack) || s.stack.every(f => typeof f === 'number'))) {
    return { frames: model.frames, stacks: samples.map(s => s.stack) };
  }
  const frames = [], ids = new Map();
  const stacks = samples.map(s => Int32Array.from(s.stack, f => {
    let id = ids.get(f);
    if (id === undefined) {
      id = frames.length;
      frames.push(f);
      ids.set(f, id);
    }
    return id;
  }));
  return { frames, stacks };
}

// Builds the tree of frames merged by function name along the path from the
// root. Node 0 is the root; a child's id is always larger than its parent's.
// Children are found through an open-addressing hash table of (parent, name)
// in typed arrays: no per-node objects, nothing for the garbage collector.
class TreeBuilder {
  constructor(frames) {
    this.names = [];
    const nameIds = new Map();
    this.nameOfFrame = new Int32Array(frames.length);
    for (let f = 0; f < frames.length; f++) {
      const name = String(frames[f].name);
      let id = nameIds.get(name);
      if (id === undefined) {
        id = this.names.length;
        this.names.push(name);
        nameIds.set(name, id);
      }
      this.nameOfFrame[f] = id;
    }
    this.onPath = new Int32Array(this.names.length); // times each name is on the current path
    this.path = new Int32Array(64);
    this.size = 1;
    this.cap = 1024;
    this.parent = new Int32Array(this.cap).fill(-1, 0, 1);
    this.nameOf = new Int32Array(this.cap).fill(-1, 0, 1);
    this.depth = new Int32Array(this.cap);
    this.frameOf = new Int32Array(this.cap).fill(-1, 0, 1); // a frame of the node, for file and line
    this.recursive = new Uint8Array(this.cap);
    this.maxDepth = 0;
    this.hashBits = 12;
    this.hash = new Int32Array(1 << this.hashBits).fill(-1); // node ids, -1 = free
  }

  grow() {
    this.cap *= 2;
    for (const k of ['parent', 'nameOf', 'depth', 'frameOf', 'recursive']) {
      const a = new this[k].constructor(this.cap);
      a.set(this[k]);
      this[k] = a;
    }
  }

  slot(parent, name) {
    return (Math.imul(parent, 0x9e3779b1) ^ Math.imul(name + 1, 0x85ebca77)) >>> (32 - this.hashBits);
  }

  rehash() {
    this.hashBits++;
    const hash = new Int32Array(1 << this.hashBits).fill(-1);
    const mask = hash.length - 1;
    for (let n = 1; n < this.size; n++) {
      let h = this.slot(this.parent[n], this.nameOf[n]);
      while (hash[h] !== -1) h = (h + 1) & mask;
      hash[h] = n;
    }
    this.hash = hash;
  }

  child(parent, name, frame) {
    const hash = this.hash, mask = hash.length - 1;
    let h = this.slot(parent, name);
    for (;;) {
      const n = hash[h];
      if (n === -1) break;
      if (this.parent[n] === parent && this.nameOf[n] === name) return n;
      h = (h + 1) & mask;
    }
    const n = this.size++;
    if (n === this.cap) this.grow();
    this.parent[n] = parent;
    this.nameOf[n] = name;
    const d = this.depth[parent] + 1;
    this.depth[n] = d;
    if (d > this.maxDepth) this.maxDepth = d;
    this.frameOf[n] = frame;
    // A node whose function is also an ancestor's (recursion) must not add to
    // that function's cumulative value a second time.
    this.recursive[n] = this.onPath[name] > 0 ? 1 : 0;
    hash[h] = n;
    if (this.size * 2 > hash.length) this.rehash();
    return n;
  }

  // Adds a stack (frame ids, leaf first) and returns its leaf node.
  add(stack) {
    if (stack.length > this.path.length) this.path = new Int32Array(stack.length * 2);
    const path = this.path, onPath = this.onPath, nameOfFrame = this.nameOfFrame;
    let node = 0, k = 0;
    for (let i = stack.length - 1; i >= 0; i--) { // root first
      const frame = stack[i];
      const name = nameOfFrame[frame];
      node = this.child(node, name, frame);
      onPath[name]++;
      path[k++] = name;
    }
    for (let j = 0; j < k; j++) onPath[path[j]]--;
    return node;
  }
}

function buildTree(model) {
  const { frames, stacks } = stacksOf(model);
  const b = new TreeBuilder(frames);
  const leaf = new Int32Array(stacks.length);
  for (let s = 0; s < stacks.length; s++) {
    const stack = stacks[s];
    for (let i = 0; i < stack.length; i++) {
      if (!(stack[i] >= 0 && stack[i] < frames.length)) throw new ViewerError('sample ' + s + ' refers to frame ' + stack[i] + ', which does not exist');
    }
    leaf[s] = b.add(stack);
  }

  const n = b.size, names = b.names, parent = b.parent.slice(0, n), nameOf = b.nameOf.slice(0, n);
  // Children of each node in one array (childStart[p] .. childStart[p + 1]),
  // sorted by function name as flame graphs usually are.
  const rank = new Int32Array(names.length);
  names.map((_, i) => i).sort((x, y) => (names[x] < names[y] ? -1 : names[x] > names[y] ? 1 : 0))
    .forEach((id, r) => { rank[id] = r; });
  const childStart = new Int32Array(n + 1);
  for (let i = 1; i < n; i++) childStart[parent[i] + 1]++;
  for (let i = 0; i < n; i++) childStart[i + 1] += childStart[i];
  const childList = new Int32Array(Math.max(0, n - 1));
  const fill = childStart.slice(0, n);
  for (let i = 1; i < n; i++) childList[fill[parent[i]]++] = i;
  for (let p = 0; p < n; p++) {
    const a = childStart[p], e = childStart[p + 1];
    if (e - a > 1) childList.subarray(a, e).sort((x, y) => rank[nameOf[x]] - rank[nameOf[y]]);
  }

  // Each function's file, from a frame with its name.
  const fileOf = new Array(names.length).fill('');
  for (let f = 0; f < frames.length; f++) if (frames[f].file && !fileOf[b.nameOfFrame[f]]) fileOf[b.nameOfFrame[f]] = frames[f].file;

  return {
    names, fileOf, leaf, frames, maxDepth: b.maxDepth, size: n, childStart, childList,
    parent, nameOf, depth: b.depth.slice(0, n), recursive: b.recursive.slice(0, n), frameOf: b.frameOf.slice(0, n),
  };
}

// Values of one sample type over the samples that pass the filter: per node
// self and cum (signed, as shown), width (the sum of absolute values, which
// sizes frames: a delta profile's negative values must not let a callee grow
// wider than its caller), and per function flat and cum.
function aggregate(tree, samples, typeIndex, keep) {
  const n = tree.size, parent = tree.parent, nameOf = tree.nameOf;
  const self = new Float64Array(n), width = new Float64Array(n);
  let total = 0, count = 0;
  for (let s = 0; s < samples.length; s++) {
    if (keep && !keep(samples[s])) continue;
    const v = samples[s].values[typeIndex];
    const leaf = tree.leaf[s];
    self[leaf] += v;
    width[leaf] += Math.abs(v);
    total += v;
    count++;
  }
  const cum = Float64Array.from(self);
  for (let i = n - 1; i > 0; i--) {
    cum[parent[i]] += cum[i];
    width[parent[i]] += width[i];
  }
  const flatBy = new Float64Array(tree.names.length), cumBy = new Float64Array(tree.names.length);
  let maxDepth = 0;
  for (let i = 1; i < n; i++) {
    const id = nameOf[i];
    flatBy[id] += self[i];
    if (!tree.recursive[i]) cumBy[id] += cum[i];
    if (width[i] > 0 && tree.depth[i] > maxDepth) maxDepth = tree.depth[i];
  }
  const present = []; // name ids with a non-zero value: the top table's rows
  for (let id = 0; id < flatBy.length; id++) if (flatBy[id] !== 0 || cumBy[id] !== 0) present.push(id);
  return { self, cum, width, flatBy, cumBy, total, count, maxDepth, present };
}

// ---------------------------------------------------------------------------
// Colours: a warm hue from a hash of the name, so a function keeps its colour.

function hashName(s) {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

// "#rrggbb" for a hue in degrees, saturation and lightness in 0..1: the canvas
// parses hex colours much faster than hsl() strings, and a paint sets thousands.
function hslHex(h, s, l) {
  const k = n => (n + h / 30) % 12;
  const a = s * Math.min(l, 1 - l);
  const c = n => Math.round(255 * (l - a * Math.max(-1, Math.min(k(n) - 3, 9 - k(n), 1))));
  return '#' + [c(0), c(8), c(4)].map(v => v.toString(16).padStart(2, '0')).join('');
}

// [normal, dimmed] colours of a function.
function warmColour(name) {
  const h = hashName(name);
  const hue = h % 55;                        // red .. orange-yellow
  const sat = 0.70 + ((h >>> 8) % 25) / 100;
  const light = 0.55 + ((h >>> 16) % 14) / 100;
  return [hslHex(hue, sat, light), hslHex(hue, 0.18, 0.84)];
}

// A search string as a case-insensitive test: a regular expression when it is
// one, otherwise the plain text.
function makeMatcher(q) {
  if (!q) return { test: null, regex: true };
  try {
    const re = new RegExp(q, 'i');
    return { test: s => re.test(s), regex: true };
  } catch {
    const lower = q.toLowerCase();
    return { test: s => s.toLowerCase().includes(lower), regex: false };
  }
}

// 1234567 -> "1,234,567" (toLocaleString is slow on first use).
function commas(n) {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function pct(v, total) {
  return total ? (v / total * 100).toFixed(2) + '%' : '-';
}

// ---------------------------------------------------------------------------

// openProfile(container, model, options) renders the model into the container and
// returns the view: {debugState(), destroy(), setMode(m), setSearch(q),
// setSampleType(t), setLabelFilter(kv), resetZoom()}.
// options: name (shown in the header), mode ('flame' | 'icicle' | 'top'),
// sampleType (index, type name or 'type/unit'), search, labelFilter ('key=value').
export function openProfile(container, model, options = {}) {
  const samples = model.samples || [];
  const sampleTypes = model.sampleTypes || [];
  const name = options.name || 'profile';
  const empty = samples.length === 0;
  const t0 = performance.now();
  const tree = buildTree(model);

  // Label filter entries: every string label's "key=value".
  const labelSet = new Set(), seenLabels = new Set();
  for (const s of samples) {
    if (!s.labels || seenLabels.has(s.labels)) continue; // pprof.js shares label objects
    seenLabels.add(s.labels);
    for (const [k, vs] of Object.entries(s.labels)) for (const v of vs) labelSet.add(k + '=' + v);
  }
  const labelEntries = [...labelSet].sort();

  const state = {
    typeIndex: pickType(options.sampleType),
    mode: MODES.includes(options.mode) ? options.mode : 'flame',
    search: options.search || '',
    labelFilter: labelSet.has(options.labelFilter) ? options.labelFilter : null,
    zoom: 0,          // node whose subtree fills the width
    selected: -1,     // node shown in the details line (flame) ...
    selectedName: -1, // ... or function (top table)
    sort: { key: 'flat', desc: true },
  };
  let agg = null, matcher = makeMatcher(''), matchOf = null, matchCount = 0, matchValue = 0;
  let lastFrames = 0, topRows = [], paintMs = 0;
  let fromBottom = 0; // flame mode: how far the view is scrolled up from the root
  let hits = [];      // per depth: [x, w, node, x, w, node, ...] from the last paint
  let paintQueued = 0, destroyed = false;
  const colours = new Array(tree.names.length);

  function pickType(t) {
    if (typeof t === 'number' && t >= 0 && t < sampleTypes.length) return t;
    if (typeof t === 'string') {
      const i = sampleTypes.findIndex(st => st.type === t || st.type + '/' + st.unit === t);
      if (i >= 0) return i;
    }
    const d = model.defaultSampleType;
    return d >= 0 && d < sampleTypes.length ? d : Math.max(0, sampleTypes.length - 1);
  }
  const typeName = i => (sampleTypes[i] ? sampleTypes[i].type + '/' + sampleTypes[i].unit : '');
  const unit = () => (sampleTypes[state.typeIndex] || {}).unit || 'count';

  // --- DOM -----------------------------------------------------------------
  // Options read "inuse_space", their values "inuse_space/bytes".
  const typeSelect = el('select', { 'data-test': 'sample-type', title: 'Sample type', onchange: () => setSampleType(typeSelect.selectedIndex) },
    sampleTypes.map((st, i) => el('option', { value: typeName(i) }, st.type)));
  const modeButtons = {
    flame: el('button', { type: 'button', 'data-test': 'mode-flame', title: 'Flame graph: root at the bottom', onclick: () => setMode('flame') }, 'Flame graph'),
    icicle: el('button', { type: 'button', 'data-test': 'mode-icicle', title: 'Icicle: root at the top', onclick: () => setMode('icicle') }, 'Icicle'),
    top: el('button', { type: 'button', 'data-test': 'mode-top', title: 'Table of functions, like pprof -top', onclick: () => setMode('top') }, 'Top'),
  };
  const searchBox = el('input', {
    type: 'search', 'data-test': 'search', placeholder: 'Search functions (regex)', spellcheck: 'false',
    oninput: () => setSearch(searchBox.value),
    onkeydown: e => { if (e.key === 'Escape') { searchBox.value = ''; setSearch(''); } },
  });
  const matchLabel = el('span', { class: 'pv-matches', 'data-test': 'match-count' });
  const labelSelect = el('select', { 'data-test': 'label-filter', title: 'Keep only samples with this label', onchange: () => setLabelFilter(labelSelect.value || null) },
    el('option', { value: '' }, 'all samples'),
    labelEntries.map(kv => el('option', { value: kv }, kv)));
  if (labelEntries.length === 0) labelSelect.disabled = true;
  const resetButton = el('button', { type: 'button', 'data-test': 'reset-zoom', onclick: () => resetZoom() }, 'Reset zoom');

  const header = el('div', { class: 'pv-header', 'data-test': 'header' });
  const toolbar = el('div', { class: 'pv-toolbar' },
    el('label', {}, 'Sample ', typeSelect),
    el('span', { class: 'pv-modes' }, modeButtons.flame, modeButtons.icicle, modeButtons.top),
    searchBox, matchLabel,
    el('label', {}, 'Label ', labelSelect),
    resetButton);
  const details = el('div', { class: 'pv-details', 'data-test': 'details' });

  const canvas = el('canvas', { class: 'pv-canvas', 'data-test': 'flame-canvas', role: 'img', 'aria-label': 'Flame graph of ' + name });
  const spacer = el('div', { class: 'pv-spacer' });
  const graph = el('div', { class: 'pv-graph' }, canvas, spacer);
  const tooltip = el('div', { class: 'pv-tooltip', 'data-test': 'tooltip', hidden: true });
  const tableBody = el('tbody');
  const sortHeads = {
    flat: el('th', { class: 'pv-sortable pv-num', 'data-test': 'sort-flat', onclick: () => sortBy('flat') }, 'Flat'),
    cum: el('th', { class: 'pv-sortable pv-num', 'data-test': 'sort-cum', onclick: () => sortBy('cum') }, 'Cum'),
    name: el('th', { class: 'pv-sortable pv-fn-head', 'data-test': 'sort-name', onclick: () => sortBy('name') }, 'Function'),
  };
  const tableNote = el('div', { class: 'pv-table-note' });
  const table = el('table', { class: 'pv-table', 'data-test': 'top-table' },
    el('thead', {}, el('tr', {}, sortHeads.flat, el('th', { class: 'pv-num' }, 'Flat%'), el('th', { class: 'pv-num' }, 'Sum%'),
      sortHeads.cum, el('th', { class: 'pv-num' }, 'Cum%'), sortHeads.name)),
    tableBody);
  const tableWrap = el('div', { class: 'pv-tablewrap' }, table, tableNote);
  const message = el('div', { class: 'pv-message', hidden: true });
  const main = el('div', { class: 'pv-main' }, graph, tableWrap, message, tooltip);
  const root = el('div', { class: 'pv' }, header, toolbar, details, main);
  container.replaceChildren(root);

  const ctx = canvas.getContext('2d');
  ctx.font = FONT;
  const charW = ctx.measureText('M').width || 7;

  // --- state changes -------------------------------------------------------
  function recompute() {
    const filter = state.labelFilter;
    let keep = null;
    if (filter) {
      const eq = filter.indexOf('=');
      const k = filter.slice(0, eq), v = filter.slice(eq + 1);
      keep = s => { const vs = s.labels && s.labels[k]; return !!vs && vs.includes(v); };
    }
    agg = aggregate(tree, samples, state.typeIndex, keep);
    if (state.zoom && !(agg.width[state.zoom] > 0)) state.zoom = 0;
    if (state.selected > 0 && !(agg.width[state.selected] > 0)) state.selected = -1;
    recountMatches();
  }

  // How many functions match, and the value of the samples that have one of
  // them on their stack (a node counts unless an ancestor already did).
  function recountMatches() {
    matchCount = 0;
    matchValue = 0;
    if (!matchOf) return;
    for (const id of agg.present) if (matchOf[id]) matchCount++;
    const n = tree.size, parent = tree.parent, nameOf = tree.nameOf;
    const covered = new Uint8Array(n);
    for (let i = 1; i < n; i++) {
      if (covered[parent[i]]) covered[i] = 1;
      else if (matchOf[nameOf[i]]) {
        covered[i] = 1;
        matchValue += agg.cum[i];
      }
    }
  }

  function setSampleType(t) {
    state.typeIndex = pickType(t);
    recompute();
    render();
  }

  function setLabelFilter(kv) {
    state.labelFilter = kv && labelSet.has(kv) ? kv : null;
    recompute();
    render();
  }

  function setSearch(q) {
    state.search = q || '';
    matcher = makeMatcher(state.search);
    if (matcher.test) {
      matchOf = new Uint8Array(tree.names.length);
      for (let i = 0; i < tree.names.length; i++) matchOf[i] = matcher.test(tree.names[i]) ? 1 : 0;
    } else {
      matchOf = null;
    }
    recountMatches();
    render();
  }

  function setMode(m) {
    if (!MODES.includes(m)) return;
    if (m !== state.mode) {
      // Start at the root: the bottom of a flame graph, the top of an icicle.
      fromBottom = 0;
      graph.scrollTop = 0;
    }
    state.mode = m;
    render();
  }

  function resetZoom() {
    state.zoom = 0;
    render();
  }

  function sortBy(key) {
    if (state.sort.key === key) state.sort.desc = !state.sort.desc;
    else state.sort = { key, desc: key !== 'name' };
    renderTable();
  }

  // --- rendering -----------------------------------------------------------
  function render() {
    if (destroyed) return;
    syncControls();
    renderHeader();
    renderDetails();
    const noValue = !empty && !(agg.width[0] > 0) && state.mode !== 'top';
    message.hidden = !(empty || noValue);
    if (empty) {
      message.setAttribute('data-test', 'empty-message');
      message.textContent = 'This profile has no samples (heap profiles are empty until something is allocated; ' +
        'a CPU profile is empty when the program did not run on a CPU while it was profiled).';
    } else if (noValue) {
      message.setAttribute('data-test', 'zero-message');
      message.textContent = 'The selected samples add up to ' + formatValue(agg.total, unit()) + ' of ' +
        typeName(state.typeIndex) + ': nothing to draw. Try another sample type or label.';
    }
    graph.hidden = empty || noValue || state.mode === 'top';
    tableWrap.hidden = empty || state.mode !== 'top';
    if (!graph.hidden) paint(); else { lastFrames = 0; hits = []; tooltip.hidden = true; }
    renderTable();
  }

  function syncControls() {
    typeSelect.selectedIndex = state.typeIndex;
    for (const m of MODES) modeButtons[m].setAttribute('aria-pressed', String(state.mode === m));
    if (searchBox.value !== state.search) searchBox.value = state.search;
    searchBox.classList.toggle('pv-not-regex', !!state.search && !matcher.regex);
    searchBox.title = state.search && !matcher.regex ? 'Not a valid regular expression: matching it as plain text' : '';
    matchLabel.textContent = !state.search ? ''
      : matchCount + (matchCount === 1 ? ' match' : ' matches') +
        (matchCount ? ', ' + formatValue(matchValue, unit()) + ' (' + pct(matchValue, agg.total) + ')' : '');
    labelSelect.value = state.labelFilter || '';
    resetButton.disabled = state.zoom === 0 || state.mode === 'top';
  }

  function renderHeader() {
    const parts = [el('strong', { class: 'pv-name' }, name)];
    const add = (label, value) => parts.push(el('span', { class: 'pv-fact' }, label + ': ', el('b', {}, value)));
    if (sampleTypes.length) add('Type', typeName(state.typeIndex));
    add('Total', formatValue(agg.total, unit()));
    add('Samples', (state.labelFilter ? commas(agg.count) + ' of ' : '') + commas(samples.length));
    if (model.durationNanos > 0) add('Duration', formatNs(model.durationNanos));
    if (model.timeNanos > 0) add('Taken', new Date(model.timeNanos / 1e6).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC'));
    if (model.comments && model.comments.length) {
      parts.push(el('span', { class: 'pv-comments', 'data-test': 'comments' }, model.comments.join(' · ')));
    }
    header.replaceChildren(...parts);
  }

  function nodeFacts(node) {
    const fn = tree.names[tree.nameOf[node]];
    const f = tree.frames[tree.frameOf[node]];
    const where = f.file ? f.file + (f.line ? ':' + f.line : '') : '';
    return { fn, where, cum: agg.cum[node], self: agg.self[node] };
  }

  function renderDetails() {
    const u = unit(), total = agg.total;
    let content;
    if (state.mode !== 'top' && state.selected > 0) {
      const d = nodeFacts(state.selected);
      content = [el('b', { class: 'pv-fn-name' }, d.fn), d.where && el('span', { class: 'pv-file' }, d.where),
        el('span', {}, 'total ' + formatValue(d.cum, u) + ' (' + pct(d.cum, total) + ')'),
        el('span', {}, 'self ' + formatValue(d.self, u) + ' (' + pct(d.self, total) + ')')];
    } else if (state.mode === 'top' && state.selectedName >= 0) {
      const id = state.selectedName;
      content = [el('b', { class: 'pv-fn-name' }, tree.names[id]), tree.fileOf[id] && el('span', { class: 'pv-file' }, tree.fileOf[id]),
        el('span', {}, 'flat ' + formatValue(agg.flatBy[id], u) + ' (' + pct(agg.flatBy[id], total) + ')'),
        el('span', {}, 'cum ' + formatValue(agg.cumBy[id], u) + ' (' + pct(agg.cumBy[id], total) + ')')];
    } else {
      content = [el('span', { class: 'pv-hint' }, state.mode === 'top'
        ? 'Click a column header to sort, a row for its details.'
        : 'Click a frame to zoom into it and see its details; click the root to zoom out.')];
    }
    details.replaceChildren(...content);
  }

  function colourOf(id) {
    return colours[id] || (colours[id] = warmColour(tree.names[id]));
  }

  // Draws the rows in view. The canvas is as big as the visible part of the
  // scrolling area (it is position: sticky); the spacer makes the area as tall as
  // the whole graph.
  function paint() {
    const started = performance.now();
    try {
      paintRows();
    } finally {
      paintMs = performance.now() - started;
    }
  }

  function paintRows() {
    paintQueued = 0;
    if (destroyed || graph.hidden || !agg) return;
    const W = graph.clientWidth, H = graph.clientHeight;
    const rows = agg.maxDepth + 1;
    const fullH = rows * ROW_H;
    spacer.style.height = Math.max(0, fullH - H) + 'px';
    // A flame graph keeps its distance from the bottom, where its root is, when
    // its height changes (another sample type or filter, a resize).
    if (state.mode === 'flame') {
      const want = Math.max(0, Math.max(fullH, H) - H - fromBottom);
      if (graph.scrollTop !== want) graph.scrollTop = want;
    }
    const dpr = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(W * dpr) || canvas.height !== Math.round(H * dpr)) {
      canvas.width = Math.round(W * dpr);
      canvas.height = Math.round(H * dpr);
      canvas.style.width = W + 'px';
      canvas.style.height = H + 'px';
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, H);
    hits = [];
    lastFrames = 0;
    if (W <= 0 || H <= 0 || !(agg.width[0] > 0)) return;

    const flame = state.mode === 'flame';
    const contentH = Math.max(fullH, H);
    const scroll = graph.scrollTop;
    // y (in the canvas) of the row at a depth.
    const rowY = flame ? d => contentH - (d + 1) * ROW_H - scroll : d => d * ROW_H - scroll;
    // The depths in view.
    let dLo, dHi;
    if (flame) {
      dLo = Math.max(0, Math.floor((contentH - scroll - H) / ROW_H));
      dHi = Math.floor((contentH - scroll) / ROW_H);
    } else {
      dLo = Math.floor(scroll / ROW_H);
      dHi = Math.floor((scroll + H) / ROW_H);
    }

    ctx.font = FONT;
    ctx.textBaseline = 'middle';
    const searching = !!matchOf;
    const width = agg.width, depth = tree.depth, nameOf = tree.nameOf;
    const draw = (node, x, w) => {
      const d = depth[node];
      if (d < dLo || d > dHi) return;
      const y = rowY(d);
      const id = node === 0 ? -1 : nameOf[node];
      let fill, text = '#000';
      if (node === 0) fill = '#c8c8c8';
      else if (searching && matchOf[id]) { fill = HIGHLIGHT; text = '#fff'; }
      else if (searching) { fill = colourOf(id)[1]; text = '#777'; }
      else fill = colourOf(id)[0];
      ctx.fillStyle = fill;
      ctx.fillRect(x, y, w > 2 ? w - 1 : w, ROW_H - 1);
      if (w >= LABEL_MIN_W) {
        let label = node === 0 ? 'root' : tree.names[id];
        const max = Math.floor((w - 6) / charW);
        if (label.length > max) label = max > 1 ? label.slice(0, max - 1) + '…' : '';
        if (label) {
          ctx.fillStyle = text;
          ctx.fillText(label, x + 3, y + ROW_H / 2);
        }
      }
      (hits[d] ||= []).push(x, w, node);
      lastFrames++;
    };

    // Ancestors of the zoomed frame span the whole width.
    const zoom = state.zoom;
    for (let a = tree.parent[zoom]; a >= 0; a = tree.parent[a]) draw(a, 0, W);
    // The zoomed frame's subtree, depth first.
    const scale = W / width[zoom];
    const stackNode = [zoom], stackX = [0];
    const childStart = tree.childStart, childList = tree.childList;
    while (stackNode.length) {
      const node = stackNode.pop(), x = stackX.pop();
      const w = width[node] * scale;
      draw(node, x, w);
      if (depth[node] >= dHi) continue;
      let cx = x;
      for (let c = childStart[node]; c < childStart[node + 1]; c++) {
        const child = childList[c];
        const v = width[child];
        if (!(v > 0)) continue;
        const cw = v * scale;
        if (cw >= MIN_W) {
          stackNode.push(child);
          stackX.push(cx);
        }
        cx += cw;
      }
    }
  }

  function schedulePaint() {
    if (!paintQueued && !destroyed) paintQueued = requestAnimationFrame(paint);
  }

  // The node under a point of the canvas, or -1.
  function hitTest(px, py) {
    const flame = state.mode === 'flame';
    const H = graph.clientHeight;
    const contentH = Math.max((agg.maxDepth + 1) * ROW_H, H);
    const y = py + graph.scrollTop;
    const d = flame ? Math.floor((contentH - y) / ROW_H) : Math.floor(y / ROW_H);
    const row = hits[d];
    if (!row) return -1;
    for (let i = 0; i < row.length; i += 3) {
      if (px >= row[i] && px < row[i] + Math.max(row[i + 1], 1)) return row[i + 2];
    }
    return -1;
  }

  function canvasPoint(e) {
    const r = canvas.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  }

  function onMove(e) {
    const [px, py] = canvasPoint(e);
    const node = hitTest(px, py);
    canvas.style.cursor = node >= 0 ? 'pointer' : '';
    if (node < 0) { tooltip.hidden = true; return; }
    const u = unit(), total = agg.total;
    if (node === 0) {
      tooltip.replaceChildren(el('b', {}, 'root'), el('div', {}, 'total ' + formatValue(total, u)));
    } else {
      const d = nodeFacts(node);
      tooltip.replaceChildren(
        el('b', {}, d.fn),
        d.where && el('div', { class: 'pv-file' }, d.where),
        el('div', {}, formatValue(d.cum, u) + ' (' + pct(d.cum, total) + ' of total)'),
        d.self ? el('div', {}, 'self ' + formatValue(d.self, u) + ' (' + pct(d.self, total) + ')') : null);
    }
    tooltip.hidden = false;
    // Beside the pointer, kept inside the view.
    const m = main.getBoundingClientRect();
    let x = e.clientX - m.left + 14, y = e.clientY - m.top + 14;
    const tw = tooltip.offsetWidth, th = tooltip.offsetHeight;
    if (x + tw > m.width - 4) x = Math.max(4, e.clientX - m.left - tw - 14);
    if (y + th > m.height - 4) y = Math.max(4, e.clientY - m.top - th - 14);
    tooltip.style.left = x + 'px';
    tooltip.style.top = y + 'px';
  }

  function onClick(e) {
    const [px, py] = canvasPoint(e);
    const node = hitTest(px, py);
    if (node < 0) return;
    state.zoom = node;
    state.selected = node === 0 ? -1 : node;
    tooltip.hidden = true;
    render();
  }

  canvas.addEventListener('mousemove', onMove);
  canvas.addEventListener('mouseleave', () => { tooltip.hidden = true; });
  canvas.addEventListener('click', onClick);
  graph.addEventListener('scroll', () => {
    if (state.mode === 'flame' && !graph.hidden) fromBottom = Math.max(0, graph.scrollHeight - graph.clientHeight - graph.scrollTop);
    schedulePaint();
  }, { passive: true });
  const resizer = new ResizeObserver(schedulePaint);
  resizer.observe(graph);

  // --- the top table -------------------------------------------------------
  function renderTable() {
    const present = agg.present;
    const ids = matchOf ? present.filter(id => matchOf[id]) : present.slice();
    const { key, desc } = state.sort;
    const names = tree.names, flatBy = agg.flatBy, cumBy = agg.cumBy;
    const byName = (a, b) => (names[a] < names[b] ? -1 : names[a] > names[b] ? 1 : 0);
    let cmp;
    if (key === 'name') cmp = byName;
    else {
      const v = key === 'flat' ? flatBy : cumBy, w = key === 'flat' ? cumBy : flatBy;
      cmp = (a, b) => (v[a] - v[b]) || (w[a] - w[b]) || -byName(a, b);
    }
    ids.sort(desc ? (a, b) => cmp(b, a) : cmp);
    topRows = ids;
    for (const [k, th] of Object.entries(sortHeads)) {
      th.classList.toggle('pv-sorted', k === key);
      th.setAttribute('aria-sort', k === key ? (desc ? 'descending' : 'ascending') : 'none');
    }
    if (tableWrap.hidden) return;
    const u = unit(), total = agg.total;
    const rows = [];
    let sum = 0;
    for (let i = 0; i < ids.length && i < TOP_ROWS; i++) {
      const id = ids[i];
      sum += flatBy[id];
      rows.push(el('tr', { 'data-fn': names[id], class: id === state.selectedName ? 'pv-row-selected' : null },
        el('td', { class: 'pv-num' }, formatValue(flatBy[id], u)),
        el('td', { class: 'pv-num' }, pct(flatBy[id], total)),
        el('td', { class: 'pv-num' }, pct(sum, total)),
        el('td', { class: 'pv-num' }, formatValue(cumBy[id], u)),
        el('td', { class: 'pv-num' }, pct(cumBy[id], total)),
        el('td', { class: 'pv-fn', title: tree.fileOf[id] || '' }, names[id])));
    }
    tableBody.replaceChildren(...rows);
    tableNote.textContent = ids.length > TOP_ROWS
      ? 'Showing the first ' + TOP_ROWS + ' of ' + commas(ids.length) + ' functions.'
      : ids.length === 0 ? (state.search ? 'No function matches the search.' : 'No functions.') : '';
  }

  tableBody.addEventListener('click', e => {
    const tr = e.target.closest('tr');
    if (!tr) return;
    const id = tree.names.indexOf(tr.dataset.fn);
    state.selectedName = id === state.selectedName ? -1 : id;
    renderDetails();
    for (const row of tableBody.children) row.classList.toggle('pv-row-selected', row === tr && state.selectedName >= 0);
  });

  // --- start ---------------------------------------------------------------
  recompute();
  if (state.search) setSearch(state.search); else render();
  const openMs = performance.now() - t0;

  return {
    debugState() {
      return {
        kind: 'profile',
        name,
        sampleType: typeName(state.typeIndex),
        sampleTypes: sampleTypes.map((_, i) => typeName(i)),
        mode: state.mode,
        total: agg.total,
        search: state.search,
        matches: matchCount,
        matchValue,
        labelFilter: state.labelFilter,
        frames: lastFrames,
        zoomed: state.zoom > 0 ? tree.names[tree.nameOf[state.zoom]] : null,
        top: topRows.slice(0, 20).map(id => ({ name: tree.names[id], flat: agg.flatBy[id], cum: agg.cumBy[id] })),
        empty,
        samples: agg.count,
        openMs: Math.round(openMs),
        paintMs: Math.round(paintMs * 10) / 10,
      };
    },
    destroy() {
      destroyed = true;
      resizer.disconnect();
      if (paintQueued) cancelAnimationFrame(paintQueued);
      container.replaceChildren();
    },
    setMode,
    setSearch,
    setSampleType,
    setLabelFilter,
    resetZoom,
  };
}
