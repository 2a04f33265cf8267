// SPDX-License-Identifier: MIT
// Small helpers shared by the viewer's modules: bytes, gzip, formatting, DOM.

export class ViewerError extends Error {}

// True when the bytes start with gzip's magic number.
export function isGzip(bytes) {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

// The bytes, inflated when they are gzip (a pprof file), as a Uint8Array.
export async function gunzipIfNeeded(bytes) {
  if (!isGzip(bytes)) return bytes;
  try {
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (e) {
    throw new ViewerError('the gzip data is damaged or cut short (' + e.message + ')');
  }
}

// "1.23 ms", "4.5 s", "120 ns" for a duration in nanoseconds.
export function formatNs(ns) {
  const a = Math.abs(ns);
  if (a < 1e3) return ns.toFixed(0) + ' ns';
  if (a < 1e6) return (ns / 1e3).toPrecision(3) + ' µs';
  if (a < 1e9) return (ns / 1e6).toPrecision(3) + ' ms';
  return (ns / 1e9).toPrecision(4) + ' s';
}

// "1.5 MiB" for a byte count.
export function formatBytes(b) {
  const a = Math.abs(b);
  if (a < 1024) return b.toFixed(0) + ' B';
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = b / 1024, i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return v.toPrecision(3) + ' ' + units[i];
}

// A value in a pprof unit ("nanoseconds", "bytes", "count"...), readable.
export function formatValue(v, unit) {
  if (unit === 'nanoseconds') return formatNs(v);
  if (unit === 'bytes') return formatBytes(v);
  return Math.round(v).toLocaleString('en-US');
}

// document.createElement with attributes and children in one call.
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(typeof c === 'string' || typeof c === 'number' ? String(c) : c);
  }
  return e;
}
