// SPDX-License-Identifier: MIT
// What the viewer's browser tests share: Debian's Chromium driven by playwright-core (never a
// downloaded browser), a log of console errors and page errors that fails the test, checks
// that print "ok"/"FAIL" lines like the shell tests, and a PNG reader to prove a screenshot
// is not blank.
import { chromium } from 'playwright-core';
import { inflateSync } from 'node:zlib';
import { writeFileSync } from 'node:fs';

export const failures = [];

export function check(ok, what) {
  console.log((ok ? '  ok    ' : '  FAIL  ') + what);
  if (!ok) failures.push(what);
  return ok;
}

export function step(what) { console.log('== ' + what); }

// Chromium as the machine's probe found it works here: no sandbox as root, no GPU, none of the
// background connections that this closed network refuses.
export async function launch() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  // bypassCSP: playwright's waitForFunction evaluates strings, which the viewer's CSP forbids
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 }, bypassCSP: true });
  const problems = [];
  page.on('console', m => { if (m.type() === 'error') problems.push('console error: ' + m.text()); });
  page.on('pageerror', e => problems.push('page error: ' + e.message));
  page.on('requestfailed', r => problems.push('request failed: ' + r.url()));
  return { browser, page, problems };
}

// Waits until the page's window.ltprof is ready.
export async function ready(page) {
  await page.waitForFunction(() => window.ltprof && window.ltprof.ready, null, { timeout: 30000 });
}

// The state of the current view (its debugState()).
export const state = page => page.evaluate(() => window.ltprof.state());

// Opens the source named `name` from the list and waits for its tab to be something.
export async function openSource(page, name, timeout = 60000) {
  const before = await page.evaluate(() => window.ltprof.tabs().length);
  await page.click(`[data-test=source][data-name="${name}"]`);
  await page.waitForFunction(n => {
    const t = window.ltprof.tabs();
    return t.length > n && t[t.length - 1].kind !== 'loading';
  }, before, { timeout });
  return page.evaluate(() => window.ltprof.tabs().at(-1));
}

// Decodes an 8-bit RGB or RGBA PNG (what Chromium writes) into {width, height, channels, px}.
export function decodePng(buf) {
  if (buf.readUInt32BE(0) !== 0x89504e47) throw new Error('not a PNG');
  let pos = 8, width = 0, height = 0, type = 0;
  const idat = [];
  while (pos < buf.length) {
    const len = buf.readUInt32BE(pos), kind = buf.toString('latin1', pos + 4, pos + 8);
    const data = buf.subarray(pos + 8, pos + 8 + len);
    if (kind === 'IHDR') {
      width = data.readUInt32BE(0); height = data.readUInt32BE(4);
      if (data[8] !== 8 || (data[9] !== 2 && data[9] !== 6) || data[12] !== 0)
        throw new Error('unexpected PNG layout');
      type = data[9];
    } else if (kind === 'IDAT') idat.push(data);
    pos += 12 + len;
  }
  const ch = type === 6 ? 4 : 3, stride = width * ch;
  const raw = inflateSync(Buffer.concat(idat));
  const px = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)], src = y * (stride + 1) + 1, dst = y * stride;
    for (let x = 0; x < stride; x++) {
      const a = x >= ch ? px[dst + x - ch] : 0, b = y ? px[dst - stride + x] : 0;
      const c = x >= ch && y ? px[dst - stride + x - ch] : 0;
      let v = raw[src + x];
      if (f === 1) v += a;
      else if (f === 2) v += b;
      else if (f === 3) v += (a + b) >> 1;
      else if (f === 4) { const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c; }
      px[dst + x] = v & 0xff;
    }
  }
  return { width, height, channels: ch, px };
}

// Distinct colours and the share of pixels that are not the most common colour (the
// background) in a region of a screenshot.
export function pngStats(buf, region = null) {
  const { width, height, channels, px } = decodePng(buf);
  const r = region || { x: 0, y: 0, w: width, h: height };
  const counts = new Map();
  for (let y = r.y; y < Math.min(height, r.y + r.h); y++)
    for (let x = r.x; x < Math.min(width, r.x + r.w); x++) {
      const i = (y * width + x) * channels;
      const key = (px[i] << 16) | (px[i + 1] << 8) | px[i + 2];
      counts.set(key, (counts.get(key) || 0) + 1);
    }
  let total = 0, top = 0;
  for (const n of counts.values()) { total += n; if (n > top) top = n; }
  return { colours: counts.size, foreground: total ? 1 - top / total : 0 };
}

// Saves a screenshot of the page (or of `selector`) to `path` and checks it is not blank.
export async function screenshot(page, path, what, selector = null) {
  const buf = selector ? await page.locator(selector).first().screenshot() : await page.screenshot();
  writeFileSync(path, buf);
  const s = pngStats(buf);
  check(s.colours >= 8 && s.foreground >= 0.05,
    `${what}: screenshot ${path} is not blank (${s.colours} colours, ${(s.foreground * 100).toFixed(1)}% not background)`);
  return s;
}

export function finish(problems) {
  check(problems.length === 0, `no console or page errors${problems.length ? ': ' + problems.slice(0, 5).join(' | ') : ''}`);
  if (failures.length) {
    console.log(`${failures.length} check(s) failed`);
    process.exit(1);
  }
  console.log('all checks passed');
}
