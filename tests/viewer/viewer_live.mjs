// SPDX-License-Identifier: MIT
// The viewer as a running program serves it at /debug/pprof/ui/, in headless Chromium: the
// live profiles and a thread dump from the list, and recordings made on request with the
// page's buttons (a trace and a CPU profile of a few seconds), checked for the program's own
// threads and functions.
// Usage: node viewer_live.mjs URL OUT_DIR THREAD_NAME CPU_FUNCTION
import { launch, ready, state, openSource, screenshot, check, step, finish } from './browser.mjs';

const [url, outDir, threadName, cpuFunction] = process.argv.slice(2);
const { browser, page, problems } = await launch();
const waitTab = (n, timeout) => page.waitForFunction(k => {
  const t = window.ltprof.tabs();
  return t.length > k && t[t.length - 1].kind !== 'loading';
}, n, { timeout });
try {
  await page.goto(url);
  await ready(page);
  const names = await page.$$eval('[data-test=source]', a => a.map(x => x.dataset.name));
  check(['heap', 'goroutine', 'mutex', 'thread dump'].every(n => names.includes(n)), `the list offers the live profiles: ${names.join(', ')}`);

  step('live profiles');
  let t = await openSource(page, 'thread dump');
  let s = await state(page);
  check(t.kind === 'dump' && s.totals[0] >= 2, `the thread dump opens: ${s.totals ? s.totals[0] : '?'} threads`);
  t = await openSource(page, 'heap');
  s = await state(page);
  check(t.kind === 'profile' && s.sampleTypes.includes('inuse_space/bytes'), `heap opens as a profile (${s.sampleType}, total ${s.total})`);

  step('record a trace and a CPU profile from the page');
  await page.fill('[data-test=record-seconds]', '2');
  let n = await page.evaluate(() => window.ltprof.tabs().length);
  await page.click('[data-test=record-trace]');
  await waitTab(n, 60000);
  t = await page.evaluate(() => window.ltprof.tabs().at(-1));
  s = await state(page);
  check(t.kind === 'trace' && s.rows >= 2, `"record trace" opens a trace of 2 s: ${s ? s.rows : 0} rows, ${s ? s.events : 0} events`);
  check(s && s.rowNames.some(r => r.includes(threadName)), `a row for the program's thread ${threadName}`);
  await screenshot(page, `${outDir}/live-trace.png`, 'recorded trace');
  n = await page.evaluate(() => window.ltprof.tabs().length);
  await page.click('[data-test=record-profile]');
  await waitTab(n, 60000);
  t = await page.evaluate(() => window.ltprof.tabs().at(-1));
  await page.click('.pane:not([hidden]) [data-test=mode-top]');
  s = await state(page);
  check(t.kind === 'profile' && s.top.some(r => r.name === cpuFunction), `"record CPU profile" shows ${cpuFunction} (top: ${s.top ? s.top.slice(0, 3).map(r => r.name).join(', ') : ''})`);
} catch (e) {
  check(false, 'the test ran to its end: ' + e.message);
} finally {
  await browser.close();
}
finish(problems);
