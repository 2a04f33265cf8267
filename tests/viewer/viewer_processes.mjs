// SPDX-License-Identifier: MIT
// A trace of several processes (one LTTng session around two programs) in the viewer: its rows
// are grouped by process, each group with the threads of that process.
// Usage: node viewer_processes.mjs URL 'process PID · N threads'...
import { launch, ready, state, check, finish } from './browser.mjs';

const [url, ...groups] = process.argv.slice(2);
const { browser, page, problems } = await launch();
try {
  await page.goto(url);
  await ready(page);
  const s = await state(page);
  check(s && s.kind === 'trace', `the trace opens (${s ? s.rows : 0} rows)`);
  for (const g of groups)
    check(s.processes.includes(g), `a group "${g}" (the groups: ${s.processes.join('; ')})`);
} catch (e) {
  check(false, 'the test ran to its end: ' + e.message);
} finally {
  await browser.close();
}
finish(problems);
