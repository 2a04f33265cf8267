// SPDX-License-Identifier: MIT
// The viewer's page: the list of what can be opened (files served by `ltprof view`, or the live
// profiles of a process under /debug/pprof/ui/), files opened from disk or dropped on the page,
// and one tab per opened trace, profile or thread dump. What a file is comes from its bytes,
// not its name.

import { ViewerError, gunzipIfNeeded, isGzip, el, formatBytes } from './util.js';
import { parseTrace } from './gotrace.js';
import { openTimeline } from './timeline.js';
import { openThreadStats } from './thread_stats.js';

const tabs = [];        // {title, view, pane, button, kind}
let active = -1;
let config = { title: 'ltprof viewer', live: false, sources: [] };
const errors = [];      // messages shown to the user, for tests

const $ = sel => document.querySelector(sel);

// ---- opening things ------------------------------------------------------------------------

function looksLikeText(bytes) {
  const n = Math.min(bytes.length, 512);
  for (let i = 0; i < n; i++) {
    const c = bytes[i];
    if (c === 0 || (c < 9) || (c > 13 && c < 32)) return false;
  }
  return true;
}

function describeStart(bytes) {
  const head = Array.from(bytes.subarray(0, 8), b => b.toString(16).padStart(2, '0')).join(' ');
  if (looksLikeText(bytes)) {
    const text = new TextDecoder().decode(bytes.subarray(0, 60)).split('\n')[0];
    return `it starts with the text "${text}"`;
  }
  return `it starts with the bytes ${head}`;
}

// Opens `bytes` (a Uint8Array) named `name` in a new tab; errors become a tab with the message.
export async function openBytes(name, bytes) {
  const pane = el('div', { class: 'pane' });
  const tab = addTab(name, pane);
  const status = el('p', { class: 'loading', 'data-test': 'loading' }, `opening ${name} (${formatBytes(bytes.length)})…`);
  pane.append(status);
  await new Promise(r => setTimeout(r, 0)); // let the page show the message
  const t0 = performance.now();
  try {
    if (bytes.length === 0) throw new ViewerError(`${name} is empty (0 bytes)`);
    if (bytes.length >= 5 && new TextDecoder('latin1').decode(bytes.subarray(0, 5)) === 'go 1.') {
      const model = parseTrace(bytes, f => { status.textContent = `reading ${name}: ${Math.round(f * 100)}%`; });
      status.remove();
      openTraceTab(tab, model, name);
    } else if (looksLikeText(bytes) && !isGzip(bytes)) {
      const text = new TextDecoder().decode(bytes);
      const dump = await import('./dump.js');
      if (!dump.looksLikeDump(text))
        throw new ViewerError(`${name} is not a Go execution trace, a pprof profile or a thread dump: ${describeStart(bytes)}`);
      const dumps = dump.parseDumps(text);
      status.remove();
      tab.view = dump.openDump(pane, dumps, { name });
      tab.kind = 'dump';
    } else {
      const raw = await gunzipIfNeeded(bytes);
      const { parseProfile } = await import('./pprof.js');
      const { openProfile } = await import('./profile_view.js');
      let model;
      try {
        model = parseProfile(raw);
      } catch (e) {
        if (!isGzip(bytes) && e instanceof ViewerError)
          throw new ViewerError(`${name} is not a Go execution trace, a pprof profile or a thread dump: ${describeStart(bytes)}`);
        throw e;
      }
      status.remove();
      tab.view = openProfile(pane, model, { name });
      tab.kind = 'profile';
    }
    tab.openMs = performance.now() - t0;
  } catch (e) {
    status.remove();
    showError(pane, name, e);
    tab.kind = 'error';
  }
  return tab;
}

function showError(pane, name, e) {
  const msg = e instanceof ViewerError ? e.message : `could not open ${name}: ${e.message || e}`;
  errors.push(msg);
  pane.append(el('div', { class: 'error', 'data-test': 'error', role: 'alert' },
    el('h3', {}, `Cannot show ${name}`), el('p', {}, msg)));
  if (!(e instanceof ViewerError)) console.warn(e); // a bug of ours: keep the trace for reports
}

function openTraceTab(tab, model, name) {
  const sub = el('div', { class: 'subtabs' });
  const body = el('div', { class: 'subpane' });
  tab.pane.append(sub, body);
  const views = {};
  const show = which => {
    for (const b of sub.children) b.classList.toggle('active', b.dataset.view === which);
    for (const v of Object.values(views)) v.box.hidden = true;
    if (!views[which]) {
      const box = el('div', { class: 'subview' });
      body.append(box);
      views[which] = { box, view: which === 'timeline' ? openTimeline(box, model, { name }) : openThreadStats(box, model) };
    }
    views[which].box.hidden = false;
    tab.view = views[which].view;
    tab.subview = which;
  };
  sub.append(
    el('button', { 'data-view': 'timeline', 'data-test': 'view-timeline', onclick: () => show('timeline') }, 'Timeline'),
    el('button', { 'data-view': 'threads', 'data-test': 'view-threads', onclick: () => show('threads') }, 'Thread statistics'));
  tab.kind = 'trace';
  tab.model = model;
  tab.show = show;
  show('timeline');
}

async function openUrl(name, url) {
  let resp;
  try {
    resp = await fetch(url);
  } catch (e) {
    return failTab(name, new ViewerError(`could not fetch ${url}: ${e.message}`));
  }
  if (!resp.ok) {
    const text = (await resp.text()).trim();
    return failTab(name, new ViewerError(`${url} answered ${resp.status} ${resp.statusText}${text ? ': ' + text.slice(0, 300) : ''}`));
  }
  return openBytes(name, new Uint8Array(await resp.arrayBuffer()));
}

function failTab(name, e) {
  const pane = el('div', { class: 'pane' });
  const tab = addTab(name, pane);
  showError(pane, name, e);
  tab.kind = 'error';
  return tab;
}

// ---- tabs ----------------------------------------------------------------------------------

function addTab(title, pane) {
  const button = el('button', { class: 'tab', 'data-test': 'tab' }, title);
  const close = el('span', { class: 'close', title: 'close' }, '×');
  button.append(close);
  const tab = { title, pane, button, view: null, kind: 'loading' };
  button.addEventListener('click', e => {
    if (e.target === close) closeTab(tabs.indexOf(tab)); else activate(tabs.indexOf(tab));
  });
  tabs.push(tab);
  $('#tabs').append(button);
  $('#panes').append(pane);
  $('#welcome').hidden = true;
  activate(tabs.length - 1);
  return tab;
}

function activate(i) {
  active = i;
  tabs.forEach((t, k) => { t.pane.hidden = k !== i; t.button.classList.toggle('active', k === i); });
}

function closeTab(i) {
  const [t] = tabs.splice(i, 1);
  if (t.view && t.view.destroy) t.view.destroy();
  t.pane.remove(); t.button.remove();
  if (tabs.length) activate(Math.min(i, tabs.length - 1));
  else { active = -1; $('#welcome').hidden = false; }
}

// ---- sources -------------------------------------------------------------------------------

function sourceList() {
  const list = $('#sources');
  list.replaceChildren();
  if (config.live) {
    const secs = el('input', { type: 'number', min: '1', max: '600', value: '5', class: 'seconds', 'data-test': 'record-seconds' });
    list.append(el('h2', {}, 'Record now'),
      el('div', { class: 'record' },
        el('button', { 'data-test': 'record-trace', onclick: () => openUrl(`trace ${secs.value} s`, `${config.record.trace}?seconds=${secs.value}`) }, 'record trace'),
        el('button', { 'data-test': 'record-profile', onclick: () => openUrl(`cpu ${secs.value} s`, `${config.record.profile}?seconds=${secs.value}`) }, 'record CPU profile'),
        secs, ' s'));
  }
  if (config.sources.length) {
    list.append(el('h2', {}, config.live ? 'Profiles now' : 'Files'));
    list.append(el('ul', {}, config.sources.map(s => el('li', {},
      el('a', { href: '#', 'data-test': 'source', 'data-name': s.name,
        onclick: e => { e.preventDefault(); openUrl(s.name, s.url); } }, s.name),
      s.size !== undefined ? el('span', { class: 'size' }, ' ' + formatBytes(s.size)) : null,
      s.description ? el('span', { class: 'size' }, ' ' + s.description) : null))));
  }
}

async function loadConfig() {
  try {
    const resp = await fetch('api/sources');
    if (resp.ok) config = { ...config, ...(await resp.json()) };
  } catch (e) { /* opened without a server that lists sources: files from disk only */ }
  document.title = config.title;
  $('#title').textContent = config.title;
  sourceList();
}

async function openFiles(files) {
  for (const f of files) await openBytes(f.name, new Uint8Array(await f.arrayBuffer()));
}

function bindPage() {
  const input = $('#file');
  input.addEventListener('change', () => { openFiles([...input.files]); input.value = ''; });
  $('#open').addEventListener('click', () => input.click());
  document.addEventListener('dragover', e => { e.preventDefault(); document.body.classList.add('dropping'); });
  document.addEventListener('dragleave', () => document.body.classList.remove('dropping'));
  document.addEventListener('drop', e => {
    e.preventDefault();
    document.body.classList.remove('dropping');
    openFiles([...e.dataTransfer.files]);
  });
}

// What tests and scripts can look at: the open tabs and their views' state.
window.ltprof = {
  ready: false,
  errors,
  tabs: () => tabs.map(t => ({ title: t.title, kind: t.kind, subview: t.subview ?? null,
    openMs: t.openMs ?? null })),
  current: () => (active >= 0 ? tabs[active] : null),
  state: () => {
    const t = active >= 0 ? tabs[active] : null;
    return t && t.view && t.view.debugState ? t.view.debugState() : null;
  },
  openUrl, openBytes,
};

async function main() {
  bindPage();
  await loadConfig();
  const want = new URLSearchParams(location.search).getAll('open');
  for (const name of want) {
    const s = config.sources.find(x => x.name === name);
    if (s) await openUrl(s.name, s.url);
    else failTab(name, new ViewerError(`${name} is not among the files this server offers`));
  }
  window.ltprof.ready = true;
}
main();
