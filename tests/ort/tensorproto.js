#!/usr/bin/env node
'use strict';
// Minimal, dependency-free protobuf encoder/decoder for onnx.TensorProto
// (the format of the ONNX node tests' input_N.pb / output_N.pb files).
//
// Decoded tensor representation:
//   { name: string, dims: number[], dataType: number, data: TypedArray | string[] }
// Element storage per data_type:
//   FLOAT=1 Float32Array   UINT8=2 Uint8Array    INT8=3 Int8Array
//   UINT16=4 Uint16Array   INT16=5 Int16Array    INT32=6 Int32Array
//   INT64=7 BigInt64Array  STRING=8 string[]     BOOL=9 Uint8Array (0/1)
//   FLOAT16=10 Uint16Array (IEEE half bit patterns)  DOUBLE=11 Float64Array
//   UINT32=12 Uint32Array  UINT64=13 BigUint64Array
//   BFLOAT16=16 Uint16Array (bfloat16 bit patterns)
//
// CLI:
//   node tensorproto.js cmp A.pb B.pb [--rtol 1e-3] [--atol 1e-7]
//       exit 0 if equal within tolerance (ints/bools/strings exact), 1 otherwise.
//       |a-b| <= atol + rtol*|b| for floats (B is the reference); NaN==NaN; inf must match.
//   node tensorproto.js dump A.pb [--all]
//   node tensorproto.js name A.pb        (prints the stored tensor name)

const fs = require('fs');

const DT = {
  UNDEFINED: 0, FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7,
  STRING: 8, BOOL: 9, FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13,
  COMPLEX64: 14, COMPLEX128: 15, BFLOAT16: 16,
};
const DT_NAME = {};
for (const k of Object.keys(DT)) DT_NAME[DT[k]] = k;

const DT_ARRAY = {
  1: Float32Array, 2: Uint8Array, 3: Int8Array, 4: Uint16Array, 5: Int16Array, 6: Int32Array,
  7: BigInt64Array, 9: Uint8Array, 10: Uint16Array, 11: Float64Array, 12: Uint32Array,
  13: BigUint64Array, 16: Uint16Array,
};

// onnxruntime-common Tensor type strings (bfloat16 has no JS tensor type in onnxruntime-node).
const DT_TO_ORT = {
  1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64',
  8: 'string', 9: 'bool', 10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64',
};
const ORT_TO_DT = {};
for (const k of Object.keys(DT_TO_ORT)) ORT_TO_DT[DT_TO_ORT[k]] = Number(k);

function isFloatType(dt) {
  return dt === DT.FLOAT || dt === DT.DOUBLE || dt === DT.FLOAT16 || dt === DT.BFLOAT16;
}

// ---------------------------------------------------------------- decoding

class Reader {
  constructor(buf, pos, end) {
    this.buf = buf;
    this.pos = pos || 0;
    this.end = end === undefined ? buf.length : end;
  }
  eof() { return this.pos >= this.end; }
  // varint as BigInt (uint64 bit pattern)
  varintBig() {
    let result = 0n, shift = 0n;
    for (;;) {
      if (this.pos >= this.end) throw new Error('truncated varint');
      const b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) break;
      shift += 7n;
      if (shift > 63n) {
        // consume (malformed) remaining continuation bytes
        while (this.pos < this.end && (this.buf[this.pos - 1] & 0x80)) this.pos++;
        break;
      }
    }
    return BigInt.asUintN(64, result);
  }
  // varint as a JS number for small non-negative values (tags, lengths); falls back to BigInt
  varintNum() {
    let result = 0, mul = 1;
    const start = this.pos;
    for (let i = 0; i < 7; i++) {
      if (this.pos >= this.end) throw new Error('truncated varint');
      const b = this.buf[this.pos++];
      result += (b & 0x7f) * mul;
      if (!(b & 0x80)) return result;
      mul *= 128;
    }
    this.pos = start;
    return Number(BigInt.asIntN(64, this.varintBig()));
  }
  bytes() {
    const len = this.varintNum();
    if (this.pos + len > this.end) throw new Error('truncated length-delimited field');
    const s = this.pos;
    this.pos += len;
    return [s, this.pos];
  }
  skip(wt) {
    switch (wt) {
      case 0: this.varintBig(); break;
      case 1: this.pos += 8; break;
      case 2: { this.bytes(); break; }
      case 5: this.pos += 4; break;
      default: throw new Error(`unsupported wire type ${wt}`);
    }
    if (this.pos > this.end) throw new Error('truncated field');
  }
}

// Read a repeated varint field (packed or unpacked) into the `out` array of BigInt.
function readRepeatedVarint(r, wt, out) {
  if (wt === 2) {
    const [s, e] = r.bytes();
    const sub = new Reader(r.buf, s, e);
    while (!sub.eof()) out.push(sub.varintBig());
  } else if (wt === 0) {
    out.push(r.varintBig());
  } else {
    throw new Error(`bad wire type ${wt} for varint field`);
  }
}

function readRepeatedFixed(r, wt, out, size, isFloat32) {
  const buf = r.buf;
  const readOne = (p) => (size === 4
    ? (isFloat32 ? buf.readFloatLE(p) : buf.readUInt32LE(p))
    : buf.readDoubleLE(p));
  if (wt === 2) {
    const [s, e] = r.bytes();
    if ((e - s) % size) throw new Error('packed fixed field length not a multiple of element size');
    for (let p = s; p < e; p += size) out.push(readOne(p));
  } else if ((size === 4 && wt === 5) || (size === 8 && wt === 1)) {
    if (r.pos + size > r.end) throw new Error('truncated fixed field');
    out.push(readOne(r.pos));
    r.pos += size;
  } else {
    throw new Error(`bad wire type ${wt} for fixed${size * 8} field`);
  }
}

function numel(dims) {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/** Decode a TensorProto from a Buffer/Uint8Array. */
function decode(bytes) {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const r = new Reader(buf);
  const dims = [];
  let dataType = 0;
  let name = '';
  let raw = null;
  const floatData = [], int32Data = [], int64Data = [], doubleData = [], uint64Data = [];
  const stringData = [];
  let dataLocation = 0;
  while (!r.eof()) {
    const tag = r.varintNum();
    const field = Math.floor(tag / 8), wt = tag & 7;
    switch (field) {
      case 1: { const tmp = []; readRepeatedVarint(r, wt, tmp); for (const v of tmp) dims.push(Number(BigInt.asIntN(64, v))); break; }
      case 2: dataType = Number(BigInt.asIntN(32, r.varintBig())); break;
      case 4: readRepeatedFixed(r, wt, floatData, 4, true); break;
      case 5: readRepeatedVarint(r, wt, int32Data); break;
      case 6: { if (wt !== 2) throw new Error('bad wire type for string_data'); const [s, e] = r.bytes(); stringData.push(buf.toString('utf8', s, e)); break; }
      case 7: readRepeatedVarint(r, wt, int64Data); break;
      case 8: { if (wt !== 2) throw new Error('bad wire type for name'); const [s, e] = r.bytes(); name = buf.toString('utf8', s, e); break; }
      case 9: { if (wt !== 2) throw new Error('bad wire type for raw_data'); const [s, e] = r.bytes(); raw = buf.subarray(s, e); break; }
      case 10: readRepeatedFixed(r, wt, doubleData, 8, false); break;
      case 11: readRepeatedVarint(r, wt, uint64Data); break;
      case 14: dataLocation = r.varintNum(); break;
      default: r.skip(wt);
    }
  }
  if (dataLocation === 1) throw new Error('TensorProto with external data is not supported');
  const notTP = ' (not a TensorProto? SequenceProto/OptionalProto/MapProto files are not supported)';
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new Error(`implausible dims [${dims}]${notTP}`);
  const n = numel(dims);
  if (!(n <= 2 ** 32)) throw new Error(`implausible element count ${n} for dims [${dims}]${notTP}`);
  let data;
  if (dataType === DT.STRING) {
    data = stringData;
  } else {
    const Ctor = DT_ARRAY[dataType];
    if (!Ctor) {
      const extra = { 0: notTP, 17: 'FLOAT8E4M3FN', 18: 'FLOAT8E4M3FNUZ', 19: 'FLOAT8E5M2', 20: 'FLOAT8E5M2FNUZ',
        21: 'UINT4', 22: 'INT4', 23: 'FLOAT4E2M1' }[dataType];
      throw new Error(`unsupported TensorProto data_type ${dataType} (${DT_NAME[dataType] || extra || '?'})`);
    }
    if (raw !== null) {
      if (raw.length !== n * Ctor.BYTES_PER_ELEMENT) {
        throw new Error(`raw_data has ${raw.length} bytes, expected ${n * Ctor.BYTES_PER_ELEMENT} for dims [${dims}] ${DT_NAME[dataType]}${notTP}`);
      }
      // copy into a fresh (aligned) ArrayBuffer; host is assumed little-endian like raw_data
      const ab = new ArrayBuffer(raw.length);
      new Uint8Array(ab).set(raw);
      data = new Ctor(ab);
    } else {
      data = new Ctor(n);
      let src;
      switch (dataType) {
        case DT.FLOAT: src = floatData; break;
        case DT.DOUBLE: src = doubleData; break;
        case DT.INT64: src = int64Data.map((v) => BigInt.asIntN(64, v)); break;
        case DT.UINT64: src = uint64Data.map((v) => BigInt.asUintN(64, v)); break;
        case DT.UINT32: src = uint64Data.map((v) => Number(BigInt.asUintN(32, v))); break;
        case DT.INT32: case DT.INT16: case DT.INT8:
          src = int32Data.map((v) => Number(BigInt.asIntN(32, v))); break;
        case DT.UINT8: case DT.UINT16: case DT.FLOAT16: case DT.BFLOAT16:
          src = int32Data.map((v) => Number(BigInt.asUintN(32, v))); break;
        case DT.BOOL: src = int32Data.map((v) => (v !== 0n ? 1 : 0)); break;
        default: throw new Error(`unsupported data_type ${dataType}`);
      }
      if (src.length !== n) {
        throw new Error(`typed data field has ${src.length} elements, expected ${n} for dims [${dims}] ${DT_NAME[dataType]}` +
          (src.length === 0 ? notTP : ''));
      }
      for (let i = 0; i < n; i++) data[i] = src[i];
    }
  }
  return { name, dims, dataType, data };
}

function readFile(file) {
  return decode(fs.readFileSync(file));
}

// ---------------------------------------------------------------- encoding

function encVarint(out, v) {
  // v: number (non-negative safe integer or negative int) or BigInt
  let b = BigInt.asUintN(64, BigInt(v));
  if (b < 0x80n) { out.push(Number(b)); return; }
  while (b >= 0x80n) {
    out.push(Number(b & 0x7fn) | 0x80);
    b >>= 7n;
  }
  out.push(Number(b));
}

/**
 * Encode a tensor {name?, dims, dataType, data} as TensorProto bytes:
 * dims (packed) + data_type + name + raw_data (string tensors: string_data).
 */
function encode(t) {
  const head = [];
  const dims = (t.dims || []).map(Number);
  if (dims.length) {
    const packed = [];
    for (const d of dims) encVarint(packed, d);
    head.push(0x0a); encVarint(head, packed.length); for (const b of packed) head.push(b);
  }
  head.push(0x10); encVarint(head, t.dataType);
  const parts = [Buffer.from(head)];
  if (t.dataType === DT.STRING) {
    for (const s of t.data) {
      const sb = Buffer.from(String(s), 'utf8');
      const h = [0x32]; encVarint(h, sb.length);
      parts.push(Buffer.from(h), sb);
    }
  }
  if (t.name) {
    const nb = Buffer.from(t.name, 'utf8');
    const h = [0x42]; encVarint(h, nb.length);
    parts.push(Buffer.from(h), nb);
  }
  if (t.dataType !== DT.STRING) {
    const Ctor = DT_ARRAY[t.dataType];
    if (!Ctor) throw new Error(`cannot encode data_type ${t.dataType}`);
    let arr = t.data;
    if (!(arr instanceof Ctor)) arr = Ctor.from(arr);
    const n = numel(dims);
    if (arr.length !== n) throw new Error(`data has ${arr.length} elements, dims [${dims}] need ${n}`);
    const rb = Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength);
    const h = [0x4a]; encVarint(h, rb.length);
    parts.push(Buffer.from(h), rb);
  }
  return Buffer.concat(parts);
}

function writeFile(file, t) {
  fs.writeFileSync(file, encode(t));
}

// ---------------------------------------------------------------- ORT conversion

/** Convert a decoded tensor to an onnxruntime Tensor (ort = the onnxruntime-node module). */
function toOrtTensor(ort, t) {
  const type = DT_TO_ORT[t.dataType];
  if (!type) throw new Error(`data_type ${DT_NAME[t.dataType] || t.dataType} has no onnxruntime-node Tensor type`);
  let data = t.data;
  if (t.dataType === DT.BOOL) data = Uint8Array.from(data, (v) => (v ? 1 : 0));
  return new ort.Tensor(type, data, t.dims.slice());
}

/** Convert an onnxruntime Tensor to the decoded-tensor representation. */
function fromOrtTensor(tensor, name) {
  const dataType = ORT_TO_DT[tensor.type];
  if (!dataType) throw new Error(`unsupported onnxruntime tensor type '${tensor.type}'`);
  let data = tensor.data;
  if (dataType === DT.STRING) {
    data = Array.from(data);
  } else {
    const Ctor = DT_ARRAY[dataType];
    if (!(data instanceof Ctor)) {
      // e.g. float16 may come back as Float16Array on newer runtimes: keep bit patterns
      data = data.buffer && data.BYTES_PER_ELEMENT === Ctor.BYTES_PER_ELEMENT
        ? new Ctor(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength))
        : Ctor.from(data);
    } else {
      data = Ctor.from(data); // own the memory
    }
  }
  return { name: name || '', dims: tensor.dims.map(Number), dataType, data };
}

// ---------------------------------------------------------------- numeric helpers

function halfToFloat(h) {
  const s = (h & 0x8000) ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * Math.pow(2, -24);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * Math.pow(2, e - 15);
}

const _f32 = new Float32Array(1);
const _u32 = new Uint32Array(_f32.buffer);
function bf16ToFloat(b) {
  _u32[0] = (b & 0xffff) << 16;
  return _f32[0];
}

/** Element values as plain JS numbers (floats decoded from 16-bit patterns) or BigInt for 64-bit ints. */
function values(t) {
  if (t.dataType === DT.FLOAT16) return Array.from(t.data, halfToFloat);
  if (t.dataType === DT.BFLOAT16) return Array.from(t.data, bf16ToFloat);
  return Array.from(t.data);
}

/**
 * Compare tensor a against reference b.
 * Returns { equal, reason, maxAbsDiff, maxRelDiff, mismatches, firstMismatch }.
 */
function compare(a, b, opts) {
  const rtol = opts && opts.rtol !== undefined ? opts.rtol : 1e-3;
  const atol = opts && opts.atol !== undefined ? opts.atol : 1e-7;
  const res = { equal: true, reason: '', maxAbsDiff: 0, maxRelDiff: 0, mismatches: 0, firstMismatch: -1 };
  if (a.dataType !== b.dataType) {
    res.equal = false;
    res.reason = `data_type differs: ${DT_NAME[a.dataType]} vs ${DT_NAME[b.dataType]}`;
    return res;
  }
  if (a.dims.length !== b.dims.length || a.dims.some((d, i) => d !== b.dims[i])) {
    res.equal = false;
    res.reason = `dims differ: [${a.dims}] vs [${b.dims}]`;
    return res;
  }
  const va = values(a), vb = values(b);
  if (va.length !== vb.length) {
    res.equal = false;
    res.reason = `element count differs: ${va.length} vs ${vb.length}`;
    return res;
  }
  const fl = isFloatType(a.dataType);
  for (let i = 0; i < va.length; i++) {
    const x = va[i], y = vb[i];
    let ok;
    if (fl) {
      if (Number.isNaN(x) || Number.isNaN(y)) {
        ok = Number.isNaN(x) && Number.isNaN(y);
        if (!ok) res.maxAbsDiff = NaN;
      } else if (!Number.isFinite(x) || !Number.isFinite(y)) {
        ok = x === y;
        if (!ok) res.maxAbsDiff = Infinity;
      } else {
        const d = Math.abs(x - y);
        if (d > res.maxAbsDiff) res.maxAbsDiff = d;
        const rel = y !== 0 ? d / Math.abs(y) : (d ? Infinity : 0);
        if (rel > res.maxRelDiff) res.maxRelDiff = rel;
        ok = d <= atol + rtol * Math.abs(y);
      }
    } else if (a.dataType === DT.STRING) {
      ok = x === y;
    } else {
      ok = x === y;
      if (!ok) {
        const d = typeof x === 'bigint' ? Number(x > y ? x - y : y - x) : Math.abs(x - y);
        if (d > res.maxAbsDiff) res.maxAbsDiff = d;
      }
    }
    if (!ok) {
      if (res.firstMismatch < 0) res.firstMismatch = i;
      res.mismatches++;
      res.equal = false;
    }
  }
  if (!res.equal) {
    const i = res.firstMismatch;
    res.reason = `${res.mismatches}/${va.length} elements differ; first at flat index ${i}: ${va[i]} vs ${vb[i]}`;
  }
  return res;
}

function describe(t, all) {
  const v = values(t);
  const shown = all ? v : v.slice(0, 16);
  return `name=${JSON.stringify(t.name)} dtype=${DT_NAME[t.dataType]} dims=[${t.dims}] n=${v.length}\n` +
    `values: ${shown.map(String).join(', ')}${!all && v.length > 16 ? ', ...' : ''}`;
}

// ---------------------------------------------------------------- CLI

function main(argv) {
  const cmd = argv[0];
  const usage = 'usage: tensorproto.js cmp A.pb B.pb [--rtol R] [--atol A] | dump A.pb [--all] | name A.pb';
  if (cmd === 'cmp') {
    const files = [];
    const opts = {};
    for (let i = 1; i < argv.length; i++) {
      if (argv[i] === '--rtol') opts.rtol = Number(argv[++i]);
      else if (argv[i] === '--atol') opts.atol = Number(argv[++i]);
      else files.push(argv[i]);
    }
    if (files.length !== 2) { console.error(usage); return 2; }
    let a, b;
    try {
      a = readFile(files[0]);
      b = readFile(files[1]);
    } catch (e) {
      console.error(`error: ${e.message}`);
      return 2;
    }
    const r = compare(a, b, opts);
    console.log(`${r.equal ? 'equal' : 'DIFFERENT'} dtype=${DT_NAME[b.dataType]} dims=[${b.dims}] ` +
      `max_abs_diff=${r.maxAbsDiff} max_rel_diff=${r.maxRelDiff}${r.reason ? ' (' + r.reason + ')' : ''}`);
    return r.equal ? 0 : 1;
  }
  if (cmd === 'name') {
    for (const f of argv.slice(1)) console.log(readFile(f).name);
    return 0;
  }
  if (cmd === 'dump') {
    const all = argv.includes('--all');
    const files = argv.slice(1).filter((x) => x !== '--all');
    if (!files.length) { console.error(usage); return 2; }
    for (const f of files) console.log(`${f}: ${describe(readFile(f), all)}`);
    return 0;
  }
  console.error(usage);
  return 2;
}

module.exports = {
  DT, DT_NAME, DT_ARRAY, DT_TO_ORT, ORT_TO_DT,
  decode, encode, readFile, writeFile,
  toOrtTensor, fromOrtTensor,
  halfToFloat, bf16ToFloat, values, compare, describe, isFloatType, numel,
};

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}
