// SPDX-License-Identifier: MIT
// The viewer as `ltprof view DIR` serves it, in headless Chromium: the recorded trace's rows,
// states and stacks against what `go tool trace` read from the same file (EXPECT, a JSON file
// the shell test writes), clicks, zoom, pan, range selection, thread statistics, the CPU
// profile's flame graph, search and top table, a thread-dump series, the bad files' messages,
// non-blank screenshots, and no console errors.
// Usage: node viewer_files.mjs URL OUT_DIR EXPECT.json
import { readFileSync } from 'node:fs';
import { launch, ready, state, openSource, screenshot, check, step, finish } from './browser.mjs';

const [url, outDir, expectPath] = process.argv.slice(2);
const expect = JSON.parse(readFileSync(expectPath, 'utf8'));
const { browser, page, problems } = await launch();
try {
  await page.goto(url);
  await ready(page);
  const names = await page.$$eval('[data-test=source]', a => a.map(x => x.dataset.name));
  check(names.includes('trace.out') && names.includes('cpu.pb.gz'), `the file list offers trace.out and cpu.pb.gz (${names.length} files)`);

  step('trace.out: rows, states, stacks');
  const tab = await openSource(page, 'trace.out');
  check(tab.kind === 'trace', `trace.out opens as a trace (in ${tab.openMs} ms)`);
  let s = await state(page);
  check(s.rows === expect.goroutines, `one row per thread lifetime: ${s.rows} rows, go tool trace counts ${expect.goroutines} goroutines`);
  for (const n of expect.threads)
    check(s.rowNames.includes(n), `a row for thread ${n}`);
  check(s.drawnRows > 0, `${s.drawnRows} rows drawn`);
  const totals = await page.evaluate(() => {
    const m = window.ltprof.current().model;
    let sync = 0, sleep = 0;
    for (const g of m.goroutines)
      for (let i = 0; i < g.n; i++) {
        const d = (i + 1 < g.n ? g.t[i + 1] : g.end) - g.t[i];
        if (g.state[i] === 4 || g.state[i] === 5) sync += d;
        if (g.state[i] === 8) sleep += d;
      }
    return { sync, sleep };
  });
  const syncErr = Math.abs(totals.sync - expect.syncNs) / expect.syncNs;
  check(syncErr < 0.02, `time blocked on sync in all rows ${(totals.sync / 1e6).toFixed(3)} ms, go tool trace -pprof=sync ${(expect.syncNs / 1e6).toFixed(3)} ms (${(syncErr * 100).toFixed(2)}% apart)`);

  // a click on the first mutex wait of the lock thread shows where it waited and who woke it
  const at = await page.evaluate(([row]) => window.ltprof.current().view.locate(row, 'blocked on sync'), [expect.lockThread]);
  check(at !== null, `${expect.lockThread} has a slice blocked on sync`);
  if (at) {
    await page.mouse.click(at.x, at.y);
    s = await state(page);
    const sel = s.selected || {};
    check(sel.state === 'blocked on sync' && sel.thread === expect.lockThread, `the click selects it (${sel.state} on ${sel.thread}, ${(sel.duration / 1e3).toFixed(1)} µs)`);
    check((sel.stack || []).includes('pthread_mutex_lock') && (sel.stack || []).includes(expect.lockCaller),
      `its stack: ${(sel.stack || []).slice(0, 3).join(' < ')}`);
    check(!!sel.wokenBy, `woken by ${sel.wokenBy}`);
    const details = await page.textContent('[data-test=details]');
    check(details.includes('pthread_mutex_lock') && details.includes(expect.lockCaller), 'the details panel shows the stack');
    await screenshot(page, `${outDir}/timeline-details.png`, 'timeline with details');
  }

  step('zoom, pan, select');
  await page.keyboard.press('0');
  await page.waitForTimeout(50);
  const whole = await state(page);
  const box = await page.locator('[data-test=timeline-canvas]').boundingBox();
  await page.mouse.move(box.x + box.width * 0.6, box.y + box.height * 0.5);
  for (let i = 0; i < 6; i++) { await page.keyboard.press('w'); await page.waitForTimeout(20); }
  s = await state(page);
  const zoomed = s.viewEnd - s.viewStart, full = whole.viewEnd - whole.viewStart;
  check(zoomed < full * 0.35, `W zooms in: ${(full / 1e6).toFixed(2)} ms → ${(zoomed / 1e6).toFixed(2)} ms shown`);
  await page.keyboard.down('Control');
  await page.mouse.wheel(0, -300);
  await page.keyboard.up('Control');
  await page.waitForTimeout(50);
  const s2 = await state(page);
  check(s2.viewEnd - s2.viewStart < zoomed, `ctrl+wheel zooms in further (${((s2.viewEnd - s2.viewStart) / 1e6).toFixed(3)} ms)`);
  await page.mouse.move(box.x + box.width * 0.6, box.y + box.height * 0.5);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.5, { steps: 5 });
  await page.mouse.up();
  await page.waitForTimeout(50);
  const s3 = await state(page);
  check(s3.viewStart > s2.viewStart, `dragging left pans later (${(s2.viewStart / 1e6).toFixed(3)} → ${(s3.viewStart / 1e6).toFixed(3)} ms)`);
  for (let i = 0; i < 5; i++) { await page.keyboard.press('d'); await page.waitForTimeout(20); }
  const s4 = await state(page);
  check(s4.viewStart > s3.viewStart, 'D pans later');
  await page.keyboard.press('0');
  await page.waitForTimeout(50);
  await page.keyboard.down('Shift');
  await page.mouse.move(box.x + 300, box.y + 150);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width - 50, box.y + 200, { steps: 5 });
  await page.mouse.up();
  await page.keyboard.up('Shift');
  await page.waitForTimeout(50);
  s = await state(page);
  check(s.summary && s.summary.threads > 0 && s.summary.running > 0,
    `shift+drag sums up a range: ${s.summary ? s.summary.threads : 0} threads, ${s.summary ? (s.summary.running / 1e6).toFixed(2) : 0} ms running`);
  check(await page.locator('[data-test=selection-summary]').count() === 1, 'the range summary table is shown');
  // Frame times are measured by bench/viewer_open.sh; here they are only shown (a functional
  // test on a loaded 2-core machine is no place for a time limit).
  console.log(`  info  frames took ${s.medianFrameMs.toFixed(1)} ms (median), ${s.maxFrameMs.toFixed(1)} ms at most`);
  await page.keyboard.press('Escape');
  await screenshot(page, `${outDir}/timeline.png`, 'timeline');

  step('thread statistics');
  await page.click('.pane:not([hidden]) [data-test=view-threads]');
  s = await state(page);
  check(s.kind === 'thread-stats' && s.rows.length > 0, `thread statistics: ${s.rows.length} rows shown`);
  const lock = s.rows.find(r => r.name === expect.lockThread);
  check(lock && lock.sync > 0 && lock.running > 0, `${expect.lockThread}: ${lock ? (lock.running / 1e6).toFixed(2) : '?'} ms running, ${lock ? (lock.sync / 1e6).toFixed(2) : '?'} ms blocked on sync`);
  await page.click('.pane:not([hidden]) [data-test=sort-sync]');
  s = await state(page);
  check(s.sortKey === 'sync' && s.rows.every((r, i) => i === 0 || s.rows[i - 1].sync >= r.sync), 'sorting by "blocked on sync" orders the rows');

  step('cpu.pb.gz: flame graph, search, top');
  const cpu = await openSource(page, 'cpu.pb.gz');
  check(cpu.kind === 'profile', 'cpu.pb.gz opens as a profile');
  s = await state(page);
  check(s.total > 0 && s.frames > 0, `flame graph of ${s.sampleType}: ${s.frames} frames drawn`);
  await page.fill('.pane:not([hidden]) [data-test=search]', expect.cpuFunction);
  await page.waitForTimeout(100);
  s = await state(page);
  check(s.matches >= 1, `search "${expect.cpuFunction}" highlights ${s.matches} function(s)`);
  await screenshot(page, `${outDir}/flamegraph.png`, 'flame graph');
  await page.click('.pane:not([hidden]) [data-test=mode-top]');
  s = await state(page);
  check(s.mode === 'top' && s.top.some(r => r.name === expect.cpuFunction), `the top table lists ${expect.cpuFunction}`);
  await page.fill('.pane:not([hidden]) [data-test=search]', '');
  await page.click('.pane:not([hidden]) [data-test=mode-icicle]');
  s = await state(page);
  check(s.mode === 'icicle' && s.frames > 0, 'icicle mode draws');

  step('a thread-dump series');
  const dump = await openSource(page, expect.dumpFile);
  check(dump.kind === 'dump', `${expect.dumpFile} opens as thread dumps`);
  s = await state(page);
  check(s.dumps === expect.dumps, `${s.dumps} dumps read (${expect.dumps} written)`);
  check(s.profile && s.profile.total === s.totals[s.selected], `the call graph counts ${s.profile ? s.profile.total : '?'} threads, the dump says ${s.totals[s.selected]}`);
  await screenshot(page, `${outDir}/thread-dumps.png`, 'thread dumps');

  step('bad files get a message');
  for (const [name, words] of expect.bad) {
    const t = await openSource(page, name);
    const text = await page.locator('.pane:not([hidden])').innerText();
    check((t.kind === "error" || t.kind === "profile") && new RegExp(words, "i").test(text),
      `${name}: "${text.replace(/\s+/g, ' ').trim().slice(0, 140)}"`);
  }
} catch (e) {
  check(false, 'the test ran to its end: ' + e.message);
} finally {
  await browser.close();
}
finish(problems);
