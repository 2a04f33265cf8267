// SPDX-License-Identifier: MIT
// Reads a pprof profile (perftools.profiles.Profile, proto/profile.proto) from its
// protobuf bytes, already inflated, into a plain model that profile_view.js draws.
//
// The decoder is a small hand-written protobuf wire reader: the profile uses only
// varints (wire type 0) and length-delimited fields (wire type 2); other wire types
// are skipped when they belong to fields we do not know.

import { ViewerError } from './util.js';

const TWO_32 = 4294967296;
const NO_LABELS = Object.freeze({ labels: Object.freeze({}), numLabels: Object.freeze({}) });

function bad(why) {
  return new ViewerError('not a valid pprof profile: ' + why);
}

// A cursor over bytes[pos, end). Every read checks the end, so truncated input
// throws instead of reading garbage.
class Reader {
  constructor(bytes, pos = 0, end = bytes.length) {
    this.b = bytes;
    this.pos = pos;
    this.end = end;
    this.lo = 0; // the last varint's low and high 32 bits
    this.hi = 0;
  }

  // A varint as an unsigned number (exact below 2^53, which covers every id,
  // index and count in practice). The value's 64 bits are kept in this.lo and
  // this.hi so that int64() can tell negative numbers apart exactly.
  varint() {
    const b = this.b;
    let pos = this.pos;
    if (pos >= this.end) throw bad('a number is cut short at byte ' + pos);
    let byte = b[pos++];
    if (byte < 0x80) { // the common one-byte case
      this.pos = pos;
      this.lo = byte;
      this.hi = 0;
      return byte;
    }
    // Bits 0..27 from the first four bytes, 28..31 from the fifth's low nibble,
    // 32..63 from the fifth's high bits and the rest.
    let lo = byte & 0x7f, hi = 0, shift = 7, hiShift = -1;
    for (;;) {
      if (pos >= this.end) throw bad('a number is cut short at byte ' + pos);
      byte = b[pos++];
      if (hiShift < 0) {
        lo |= (byte & 0x7f) << shift;
        shift += 7;
        if (shift > 28) { // that was the fifth byte
          hi = (byte & 0x7f) >>> 4;
          hiShift = 3;
        }
      } else {
        if (hiShift > 31) throw bad('a number is longer than 10 bytes at byte ' + (pos - 1));
        hi |= (byte & 0x7f) << hiShift;
        hiShift += 7;
      }
      if (byte < 0x80) break;
    }
    this.pos = pos;
    this.hi = hi >>> 0;
    if (this.hi === 0 && lo >= 0) { // below 2^31: keep it a small integer for V8
      this.lo = lo;
      return lo;
    }
    this.lo = lo >>> 0;
    return this.hi * TWO_32 + this.lo;
  }

  // A varint read as int64 (two's complement): -1 is ten 0xff-ish bytes.
  int64() {
    const u = this.varint();
    if (this.hi < 0x80000000) return u;
    return -((~this.hi >>> 0) * TWO_32 + (~this.lo >>> 0) + 1);
  }

  // Skips a length-delimited field's payload and returns where it starts; it
  // ends where the cursor is afterwards.
  span() {
    const at = this.pos;
    const len = this.varint();
    if (len > this.end - this.pos) throw bad('a field of ' + len + ' bytes at byte ' + at + ' runs past the end of its message');
    const start = this.pos;
    this.pos += len;
    return start;
  }

  skip(wire, field) {
    switch (wire) {
      case 0: this.varint(); return;
      case 1: this.need(8, field); this.pos += 8; return;
      case 2: this.span(); return;
      case 5: this.need(4, field); this.pos += 4; return;
      default: throw bad('field ' + field + ' has wire type ' + wire + ', which no profile uses (at byte ' + this.pos + ')');
    }
  }

  need(n, field) {
    if (this.end - this.pos < n) throw bad('field ' + field + ' is cut short at byte ' + this.pos);
  }
}

// Reads a message's fields, calling onField(field, wire, reader) for each; the
// callback returns false for fields it does not know, which are then skipped.
function eachField(r, what, onField) {
  while (r.pos < r.end) {
    const at = r.pos;
    const key = r.varint();
    const field = Math.floor(key / 8), wire = key & 7;
    if (field === 0) throw bad('field number 0 in a ' + what + ' at byte ' + at);
    if (!onField(field, wire, r, at)) r.skip(wire, field);
  }
}

function wrongWire(what, field, wire, at) {
  return bad('field ' + field + ' of a ' + what + ' has wire type ' + wire + ' at byte ' + at);
}

// Reads a scalar varint field (wire type 0).
function scalar(r, what, field, wire, at, signed = true) {
  if (wire !== 0) throw wrongWire(what, field, wire, at);
  return signed ? r.int64() : r.varint();
}

// Appends a repeated varint field, packed (wire 2) or not (wire 0), to out.
function repeated(r, what, field, wire, at, out, signed) {
  if (wire === 0) {
    out.push(signed ? r.int64() : r.varint());
  } else if (wire === 2) {
    const start = r.span(), end = r.pos;
    const sub = new Reader(r.b, start, end);
    while (sub.pos < end) out.push(signed ? sub.int64() : sub.varint());
  } else {
    throw wrongWire(what, field, wire, at);
  }
}

function subReader(r, what, field, wire, at) {
  if (wire !== 2) throw wrongWire(what, field, wire, at);
  const start = r.span();
  return new Reader(r.b, start, r.pos);
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

// Short ASCII strings (nearly all of a profile's) are built directly: a
// TextDecoder call per string costs more than the string.
function decodeString(b, start, end) {
  if (end - start <= 64) {
    let s = '';
    for (let i = start; i < end; i++) {
      const c = b[i];
      if (c >= 0x80) return utf8.decode(b.subarray(start, end));
      s += String.fromCharCode(c);
    }
    return s;
  }
  return utf8.decode(b.subarray(start, end));
}

function hex(n) {
  return '0x' + n.toString(16);
}

// Reads Sample messages. It is the hot loop of a big profile, so it is a class
// whose read() is called once per sample (V8 optimizes such a method well,
// unlike one long loop inside parseProfile) and reads fields without callbacks.
// All stacks go into one growing Int32Array of frame ids (this.data).
class SampleReader {
  constructor(bytes, locs, str) {
    this.r = new Reader(bytes);
    this.dense = locs.dense;           // location ids index the arrays directly
    this.exists = locs.exists;         // see parseProfile
    this.frameStart = locs.frameStart;
    this.frameIds = locs.frameIds;
    this.keyOf = locs.keyOf;           // location id -> index, when not dense
    this.str = str;
    this.data = new Int32Array(4096);
    this.used = 0;
    this.labelSets = new Map();
  }

  addLocation(id, i) {
    const k = this.dense ? id : (this.keyOf.get(id) ?? -1);
    if (!(k >= 0 && k < this.exists.length && this.exists[k])) {
      throw bad('sample ' + i + ' refers to location ' + id + ', which does not exist');
    }
    const start = this.frameStart[k], end = this.frameStart[k + 1];
    let used = this.used;
    if (used + end - start > this.data.length) {
      const bigger = new Int32Array(Math.max(this.data.length * 2, used + end - start));
      bigger.set(this.data);
      this.data = bigger;
    }
    const data = this.data, ids = this.frameIds;
    for (let f = start; f < end; f++) data[used++] = ids[f];
    this.used = used;
  }

  // The labels and numeric labels of a sample, from "key:str:num:unit,..." (string
  // indices). Samples share few label sets, so each is built once and frozen:
  // a big profile then holds no per-sample label objects.
  labelSet(labelKey) {
    let set = this.labelSets.get(labelKey);
    if (set) return set;
    const labels = {}, numLabels = {};
    for (const item of labelKey.split(',')) {
      const [k, strIdx, num, numUnit] = item.split(':').map(Number);
      const name = this.str(k, 'a label key');
      if (strIdx !== 0) (labels[name] ??= []).push(this.str(strIdx, 'the label ' + name));
      else (numLabels[name] ??= []).push(Object.freeze({ num, unit: this.str(numUnit, 'the unit of label ' + name) }));
    }
    for (const v of Object.values(labels)) Object.freeze(v);
    for (const v of Object.values(numLabels)) Object.freeze(v);
    set = { labels: Object.freeze(labels), numLabels: Object.freeze(numLabels) };
    this.labelSets.set(labelKey, set);
    return set;
  }

  read(start, end, i) {
    const r = this.r;
    r.pos = start;
    r.end = end;
    const values = [];
    let labelKey = '';
    while (r.pos < end) {
      const at = r.pos;
      const key = r.varint();
      const field = Math.floor(key / 8), wire = key & 7;
      if (field === 1 && wire === 2) { // packed location ids, the usual form
        const from = r.span(), to = r.pos;
        r.pos = from;
        r.end = to;
        while (r.pos < to) this.addLocation(r.varint(), i);
        r.end = end;
      } else if (field === 1) {
        if (wire !== 0) throw wrongWire('Sample', field, wire, at);
        this.addLocation(r.varint(), i);
      } else if (field === 2) {
        repeated(r, 'Sample', field, wire, at, values, true);
      } else if (field === 3) {
        if (wire !== 2) throw wrongWire('Sample', field, wire, at);
        const from = r.span(), to = r.pos;
        r.pos = from;
        r.end = to;
        let k = 0, strIdx = 0, num = 0, numUnit = 0;
        while (r.pos < to) {
          const at2 = r.pos, key2 = r.varint(), f2 = Math.floor(key2 / 8), w2 = key2 & 7;
          if (f2 === 0) throw bad('field number 0 in a Label at byte ' + at2);
          if (f2 > 4) { r.skip(w2, f2); continue; }
          const v = scalar(r, 'Label', f2, w2, at2);
          if (f2 === 1) k = v; else if (f2 === 2) strIdx = v; else if (f2 === 3) num = v; else numUnit = v;
        }
        r.end = end;
        labelKey += (labelKey ? ',' : '') + k + ':' + strIdx + ':' + num + ':' + numUnit;
      } else {
        if (field === 0) throw bad('field number 0 in a Sample at byte ' + at);
        r.skip(wire, field);
      }
    }
    const set = labelKey ? this.labelSet(labelKey) : NO_LABELS;
    return { stack: null, values, labels: set.labels, numLabels: set.numLabels };
  }
}

// parseProfile(bytes) -> model; bytes is the inflated Profile message.
//
// The model:
//   sampleTypes: [{type, unit}], defaultSampleType: index into sampleTypes,
//   periodType: {type, unit} | null, period, durationNanos, timeNanos,
//   comments: [string], dropFrames, keepFrames, docUrl: string,
//   mappings: [{id, memoryStart, memoryLimit, fileOffset, filename, buildId}],
//   functions: [{id, name, systemName, filename, startLine}],
//   locations: [{id, mappingId, address, lines: [{functionId, line}], isFolded, frameIds}],
//   frames: [{name, systemName, file, line, address, functionId, locationId}],
//   samples: [{stack, values, labels: {key: [str]}, numLabels: {key: [{num, unit}]}}]
// A sample's stack is an Int32Array of indices into frames, leaf first, with
// inlined calls expanded (a location's line[0], the innermost, comes first).
// Stacks are ids rather than frame objects because a big profile has millions
// of stack entries: typed arrays keep them compact and out of the garbage
// collector's way, and the view maps each frame id to a function once.
// A location without lines (not symbolized) gets one frame named by its address.
// Samples with the same labels share one frozen labels (and numLabels) object.
// Values are numbers: exact below 2^53, int64 negatives included.
export function parseProfile(bytes) {
  if (!(bytes instanceof Uint8Array)) throw new ViewerError('parseProfile needs a Uint8Array');
  const r = new Reader(bytes);

  // Pass 1: the top-level fields. Sub-messages are remembered as byte ranges
  // (start, end pairs) and read once the string table, which usually comes
  // after them, is known.
  const ranges = { 1: [], 2: [], 3: [], 4: [], 5: [] };
  const strings = [];
  const comments = [];
  let periodType = null;
  const top = {
    dropFrames: 0, keepFrames: 0, timeNanos: 0, durationNanos: 0,
    period: 0, defaultSampleType: 0, docUrl: 0,
  };
  const scalarFields = {
    7: 'dropFrames', 8: 'keepFrames', 9: 'timeNanos', 10: 'durationNanos',
    12: 'period', 14: 'defaultSampleType', 15: 'docUrl',
  };
  eachField(r, 'Profile', (field, wire, r, at) => {
    if (field >= 1 && field <= 5) {
      if (wire !== 2) throw wrongWire('Profile', field, wire, at);
      ranges[field].push(r.span(), r.pos);
    } else if (field === 6) {
      if (wire !== 2) throw wrongWire('Profile', field, wire, at);
      const start = r.span();
      strings.push(decodeString(bytes, start, r.pos));
    } else if (field === 11) {
      periodType = subReader(r, 'Profile', field, wire, at);
    } else if (field === 13) {
      repeated(r, 'Profile', field, wire, at, comments, true);
    } else if (scalarFields[field]) {
      top[scalarFields[field]] = scalar(r, 'Profile', field, wire, at);
    } else {
      return false;
    }
    return true;
  });

  if (strings.length === 0) {
    // An empty message decodes to nothing at all: almost surely not a profile.
    if (bytes.length === 0) throw bad('the file is empty');
    throw bad('it has no string table');
  }
  if (strings[0] !== '') throw bad('the first entry of the string table is not empty');

  const str = (i, what) => {
    if (!Number.isInteger(i) || i < 0 || i >= strings.length) {
      throw bad(what + ' refers to string ' + i + ' but the string table has ' + strings.length + ' entries');
    }
    return strings[i];
  };

  const readValueType = (vr, what) => {
    let type = 0, unit = 0;
    eachField(vr, what, (field, wire, r, at) => {
      if (field === 1) type = scalar(r, what, field, wire, at);
      else if (field === 2) unit = scalar(r, what, field, wire, at);
      else return false;
      return true;
    });
    return { type: str(type, 'the type of a ' + what), unit: str(unit, 'the unit of a ' + what) };
  };

  const sampleTypes = [];
  for (let i = 0; i < ranges[1].length; i += 2) sampleTypes.push(readValueType(new Reader(bytes, ranges[1][i], ranges[1][i + 1]), 'sample type'));
  if (periodType) periodType = readValueType(periodType, 'period type');

  // Mappings.
  const mappings = [];
  const mappingById = new Map();
  for (let i = 0; i < ranges[3].length; i += 2) {
    const s = ranges[3][i], e = ranges[3][i + 1];
    const m = { id: 0, memoryStart: 0, memoryLimit: 0, fileOffset: 0, filename: 0, buildId: 0 };
    const names = { 1: 'id', 2: 'memoryStart', 3: 'memoryLimit', 4: 'fileOffset', 5: 'filename', 6: 'buildId' };
    eachField(new Reader(bytes, s, e), 'Mapping', (field, wire, r, at) => {
      if (!names[field]) return false;
      m[names[field]] = scalar(r, 'Mapping', field, wire, at, field >= 5);
      return true;
    });
    m.filename = str(m.filename, 'a mapping\'s file name');
    m.buildId = str(m.buildId, 'a mapping\'s build id');
    mappings.push(m);
    mappingById.set(m.id, m);
  }

  // Functions.
  const functions = [];
  const functionById = new Map();
  for (let i = 0; i < ranges[5].length; i += 2) {
    const s = ranges[5][i], e = ranges[5][i + 1];
    const f = { id: 0, name: 0, systemName: 0, filename: 0, startLine: 0 };
    const names = { 1: 'id', 2: 'name', 3: 'systemName', 4: 'filename', 5: 'startLine' };
    eachField(new Reader(bytes, s, e), 'Function', (field, wire, r, at) => {
      if (!names[field]) return false;
      f[names[field]] = scalar(r, 'Function', field, wire, at, field !== 1);
      return true;
    });
    if (f.id === 0) throw bad('a function has id 0');
    f.name = str(f.name, 'function ' + f.id + '\'s name');
    f.systemName = str(f.systemName, 'function ' + f.id + '\'s system name');
    f.filename = str(f.filename, 'function ' + f.id + '\'s file name');
    functions.push(f);
    functionById.set(f.id, f);
  }

  // Locations, each with its frames (innermost inlined call first).
  const locations = [];
  const locationById = new Map();
  const frames = [];
  for (let i = 0; i < ranges[4].length; i += 2) {
    const s = ranges[4][i], e = ranges[4][i + 1];
    const loc = { id: 0, mappingId: 0, address: 0, lines: [], isFolded: false, frameIds: null };
    eachField(new Reader(bytes, s, e), 'Location', (field, wire, r, at) => {
      if (field === 1) loc.id = scalar(r, 'Location', field, wire, at, false);
      else if (field === 2) loc.mappingId = scalar(r, 'Location', field, wire, at, false);
      else if (field === 3) loc.address = scalar(r, 'Location', field, wire, at, false);
      else if (field === 5) loc.isFolded = scalar(r, 'Location', field, wire, at) !== 0;
      else if (field === 4) {
        const line = { functionId: 0, line: 0 };
        eachField(subReader(r, 'Location', field, wire, at), 'Line', (f2, w2, r2, at2) => {
          if (f2 === 1) line.functionId = scalar(r2, 'Line', f2, w2, at2, false);
          else if (f2 === 2) line.line = scalar(r2, 'Line', f2, w2, at2);
          else return false;
          return true;
        });
        loc.lines.push(line);
      } else return false;
      return true;
    });
    if (loc.id === 0) throw bad('a location has id 0');
    const mapping = loc.mappingId ? mappingById.get(loc.mappingId) : null;
    if (loc.mappingId && !mapping) throw bad('location ' + loc.id + ' refers to mapping ' + loc.mappingId + ', which does not exist');
    if (loc.lines.length === 0) {
      // Not symbolized: pprof names such a frame by its address.
      loc.frameIds = [frames.length];
      frames.push({
        name: hex(loc.address), systemName: '', file: mapping ? mapping.filename : '',
        line: 0, address: loc.address, functionId: 0, locationId: loc.id,
      });
    } else {
      loc.frameIds = loc.lines.map(l => {
        const f = functionById.get(l.functionId);
        if (!f) throw bad('location ' + loc.id + ' refers to function ' + l.functionId + ', which does not exist');
        frames.push({
          name: f.name || hex(loc.address), systemName: f.systemName, file: f.filename,
          line: l.line, address: loc.address, functionId: f.id, locationId: loc.id,
        });
        return frames.length - 1;
      });
    }
    locations.push(loc);
    locationById.set(loc.id, loc);
  }
  // Each location's frame ids, flattened for the sample loop: location number
  // k has frameIds[frameStart[k] .. frameStart[k + 1]), where k is the
  // location's id when ids are small (as they usually are: 1..n), else its
  // index, found through keyOf.
  const dense = locations.every(l => l.id <= 2 * locations.length + 16);
  const nKeys = dense ? locations.reduce((a, l) => Math.max(a, l.id), 0) + 1 : locations.length;
  const byKey = new Array(nKeys).fill(null);
  const keyOf = new Map();
  locations.forEach((l, i) => {
    const k = dense ? l.id : i;
    byKey[k] = l;
    if (!dense) keyOf.set(l.id, k);
  });
  const exists = new Uint8Array(nKeys);
  const frameStart = new Int32Array(nKeys + 1);
  const frameIds = new Int32Array(locations.reduce((a, l) => a + l.frameIds.length, 0));
  let nIds = 0;
  for (let k = 0; k < nKeys; k++) {
    frameStart[k] = nIds;
    if (!byKey[k]) continue;
    exists[k] = 1;
    for (const f of byKey[k].frameIds) frameIds[nIds++] = f;
  }
  frameStart[nKeys] = nIds;

  // Samples: the bulk of a big profile (see SampleReader).
  const nSamples = ranges[2].length / 2;
  const samples = new Array(nSamples);
  const nTypes = sampleTypes.length;
  const sr = new SampleReader(bytes, { dense, exists, frameStart, frameIds, keyOf }, str);
  const stackEnds = new Int32Array(nSamples);
  for (let i = 0; i < nSamples; i++) {
    const sample = sr.read(ranges[2][2 * i], ranges[2][2 * i + 1], i);
    if (sample.values.length !== nTypes) {
      throw bad('sample ' + i + ' has ' + sample.values.length + ' values but the profile has ' + nTypes + ' sample types');
    }
    stackEnds[i] = sr.used;
    samples[i] = sample;
  }
  // Each stack is a view of its part of the one array, now that it is complete.
  for (let i = 0, start = 0; i < nSamples; i++) {
    samples[i].stack = sr.data.subarray(start, stackEnds[i]);
    start = stackEnds[i];
  }

  if (samples.length > 0 && nTypes === 0) throw bad('it has samples but no sample types');

  // Like go tool pprof: the type named by default_sample_type, else the last.
  let defaultSampleType = Math.max(0, nTypes - 1);
  const defName = str(top.defaultSampleType, 'default_sample_type');
  if (defName) {
    const i = sampleTypes.findIndex(t => t.type === defName);
    if (i >= 0) defaultSampleType = i;
  }

  return {
    sampleTypes,
    defaultSampleType,
    periodType,
    period: top.period,
    durationNanos: top.durationNanos,
    timeNanos: top.timeNanos,
    comments: comments.map(i => str(i, 'a comment')),
    dropFrames: str(top.dropFrames, 'drop_frames'),
    keepFrames: str(top.keepFrames, 'keep_frames'),
    docUrl: str(top.docUrl, 'doc_url'),
    mappings,
    functions,
    locations,
    frames,
    samples,
  };
}
