// SPDX-License-Identifier: MIT
// Opens a trace in the viewer (served by `ltprof view`) in headless Chromium and measures how
// long it takes to open and how long frames take while zooming and panning. Prints one JSON
// line. Run by viewer_open.sh; needs tests/viewer's playwright-core.
// Usage: node viewer_open.mjs URL
import { launch, ready } from '../tests/viewer/browser.mjs';

const [url] = process.argv.slice(2);
const { browser, page, problems } = await launch();
const t0 = Date.now();
await page.goto(url);
await ready(page);
const wall = Date.now() - t0;
const tab = await page.evaluate(() => window.ltprof.tabs().at(-1));
if (tab.kind !== 'trace') throw new Error('the trace did not open: ' + JSON.stringify(tab));
const box = await page.locator('[data-test=timeline-canvas]').boundingBox();
await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.4);
await page.click('[data-test=timeline-canvas]');
// Frames from here on: zoomed out (the worst case: every pixel column summarises), zooming in
// step by step, panning, zooming out again.
await page.evaluate(() => { window.ltprof.current().view.frameTimes.length = 0; });
const keys = [...'dddaaa', ...'wwwwwwwwwwww', ...'ddddddaaaaaa', ...'ssssssssssss'];
for (const k of keys) {
  await page.keyboard.press(k);
  await page.evaluate(() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r))));
}
const frames = await page.evaluate(() => [...window.ltprof.current().view.frameTimes]);
frames.sort((a, b) => a - b);
const q = p => frames[Math.min(frames.length - 1, Math.floor(p * frames.length))];
const st = await page.evaluate(() => window.ltprof.state());
// The model's typed arrays (outside the JS heap, which Chromium reports rounded anyway).
const arrays = await page.evaluate(() => {
  let n = 0;
  for (const g of window.ltprof.current().model.goroutines)
    for (const k of ['t', 'state', 'stack', 'from', 'ev', 'cumRun', 'samples', 'sampleStacks'])
      n += g[k].byteLength;
  return n;
});
console.log(JSON.stringify({ events: st.events, rows: st.rows, wallMs: wall, openMs: tab.openMs,
  frames: frames.length, frameMedianMs: q(0.5), frameP95Ms: q(0.95), frameMaxMs: frames.at(-1),
  arraysMB: Math.round(arrays / 1e6), problems }));
await browser.close();
