import { Tensor } from "../core/tensor.js";
import { isFloat, type DType } from "../core/dtype.js";
import { fmtShape, sizeOf } from "../core/shape.js";
import { ParseError, ValueError } from "../core/errors.js";
import { decodeElements, ELEMENT_BYTES, ElementError, encodeHalf, isReadCode, READ_CODES, type FloatStorage, type SafetensorsDType } from "./safetensors-dtypes.js";

// The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian header
// length N, N bytes of UTF-8 JSON mapping each tensor name to { dtype, shape, data_offsets: [begin, end] }
// (offsets relative to the data section) plus an optional "__metadata__" string map, then the raw
// little-endian data. Written here (about 200 lines) rather than taken from npm: no small, maintained
// JavaScript package for it exists, and reading untrusted files needs exactly the checks below.

/** Largest header accepted (the reference implementation's limit), so a corrupt length cannot allocate gigabytes. */
export const MAX_HEADER_BYTES = 100_000_000;

const CODES: Record<DType, SafetensorsDType> = { float32: "F32", float64: "F64", int32: "I32", bool: "BOOL" };
const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Adds `key` as an ordinary own property. Plain assignment would treat "__proto__" as the prototype
 * setter (a tensor named so would vanish, or become the object's prototype); names come from files.
 */
function setEntry<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Named tensors and the string metadata stored with them. */
export interface SafetensorsContent {
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
}

function tensorBytes(t: Tensor): Uint8Array {
  const data = t.data;
  if (littleEndian || t.dtype === "bool") return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) {
    if (t.dtype === "float32") view.setFloat32(4 * i, data[i]!, true);
    else if (t.dtype === "float64") view.setFloat64(8 * i, data[i]!, true);
    else view.setInt32(4 * i, data[i]!, true);
  }
  return out;
}

/** Options for writing safetensors files. */
export interface SafetensorsWriteOptions {
  /**
   * Store every float tensor as F16 (IEEE half) or BF16 (bfloat16), rounded to nearest even as PyTorch's
   * `.half()` / `.bfloat16()`; half overflows to ±∞ beyond 65504. Default: each tensor's own dtype (F32, F64).
   * Reading such a file gives float32 tensors.
   */
  floatAs?: FloatStorage;
}

/**
 * Encodes tensors as a safetensors byte array, in the given key order, with optional string metadata.
 * The header is padded with spaces to a multiple of 8 bytes so the data section stays aligned.
 * @throws ValueError for the reserved name "__metadata__", an empty name, non-string metadata, or an
 *   unknown `floatAs`
 */
export function encodeSafetensors(tensors: Record<string, Tensor>, metadata: Record<string, string> = {}, options: SafetensorsWriteOptions = {}): Uint8Array {
  const floatAs = options.floatAs;
  if (floatAs !== undefined && floatAs !== "F16" && floatAs !== "BF16") {
    throw new ValueError(`encodeSafetensors: floatAs must be "F16" or "BF16", got ${JSON.stringify(floatAs)}`);
  }
  const header: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== "string") throw new ValueError(`encodeSafetensors: metadata "${k}" must be a string, got ${typeof v}`);
  }
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    if (name === "" || name === "__metadata__") throw new ValueError(`encodeSafetensors: invalid tensor name ${JSON.stringify(name)}`);
    if (!(t instanceof Tensor)) throw new ValueError(`encodeSafetensors: "${name}" is not a tensor`);
    const half = floatAs !== undefined && isFloat(t.dtype);
    const bytes = half ? encodeHalf(floatAs, t.data) : tensorBytes(t);
    setEntry(header, name, { dtype: half ? floatAs : CODES[t.dtype], shape: [...t.shape], data_offsets: [offset, offset + bytes.byteLength] });
    parts.push(bytes);
    offset += bytes.byteLength;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.byteLength / 8) * 8;
  if (padded !== json.byteLength) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.byteLength), true);
  out.set(json, 8);
  let pos = 8 + json.byteLength;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.byteLength;
  }
  return out;
}

function fail(what: string, source: string): never {
  throw new ParseError(`safetensors: ${source}: ${what}`);
}

function isIntArray(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((d) => Number.isSafeInteger(d) && d >= 0);
}

/**
 * Decodes and validates a safetensors byte array: header length within the file and below
 * MAX_HEADER_BYTES, a JSON object header, known dtypes (F16, BF16, F32, F64, I8, U8, I16, I32, I64, BOOL;
 * F16/BF16 widen to float32, I8/U8/I16 to int32, I64 to int32 or, past ±2³¹, float64, refused past ±(2⁵³ − 1)), offsets that match each shape and tile the data
 * section exactly (no gaps, overlaps or trailing bytes), and a file long enough for all of it.
 * Tensor data is copied out, so the result does not keep `bytes` alive.
 * @param source a name for error messages (e.g. the file path)
 * @throws ParseError naming the problem for a truncated, corrupt or unsupported file
 */
export function decodeSafetensors(bytes: Uint8Array, source = "input"): SafetensorsContent {
  if (bytes.byteLength < 8) fail(`file is ${bytes.byteLength} bytes, too short for the 8-byte header length (truncated?)`, source);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) fail(`header length ${n} exceeds the limit of ${MAX_HEADER_BYTES} bytes (not a safetensors file, or corrupt)`, source);
  const headerLen = Number(n);
  if (8 + headerLen > bytes.byteLength) fail(`header length ${headerLen} runs past the end of the ${bytes.byteLength}-byte file (truncated)`, source);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)));
  } catch (e) {
    fail(`header is not valid UTF-8 JSON (${(e as Error).message})`, source);
  }
  if (header === null || typeof header !== "object" || Array.isArray(header)) fail("header must be a JSON object", source);
  const dataStart = 8 + headerLen;
  const dataLen = bytes.byteLength - dataStart;
  const metadata: Record<string, string> = {};
  const entries: { name: string; code: SafetensorsDType; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (raw === null || typeof raw !== "object" || Array.isArray(raw)) fail("__metadata__ must be an object of strings", source);
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== "string") fail(`__metadata__ "${k}" must be a string`, source);
        setEntry(metadata, k, v);
      }
      continue;
    }
    const info = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
    if (info === null || typeof info !== "object") fail(`entry "${name}" must be an object`, source);
    const code = info.dtype;
    if (!isReadCode(code)) fail(`tensor "${name}" has unsupported dtype ${JSON.stringify(code)}; expected one of ${READ_CODES.join(", ")}`, source);
    if (!isIntArray(info.shape)) fail(`tensor "${name}" has an invalid shape ${JSON.stringify(info.shape)}`, source);
    const off = info.data_offsets;
    if (!isIntArray(off) || off.length !== 2 || off[0]! > off[1]!) fail(`tensor "${name}" has invalid data_offsets ${JSON.stringify(off)}`, source);
    const expected = sizeOf(info.shape) * ELEMENT_BYTES[code];
    if (off[1]! - off[0]! !== expected) {
      fail(`tensor "${name}" (${info.dtype} ${fmtShape(info.shape)}) needs ${expected} bytes, but its data_offsets span ${off[1]! - off[0]!}`, source);
    }
    entries.push({ name, code, shape: info.shape, begin: off[0]!, end: off[1]! });
  }
  // The data section must be tiled exactly, in any order: this catches truncation and overlapping or stray bytes.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  for (const e of sorted) {
    if (e.begin !== pos) fail(`tensor "${e.name}" starts at byte ${e.begin} of the data section, expected ${pos} (gap or overlap)`, source);
    pos = e.end;
  }
  if (pos > dataLen) fail(`data section is ${dataLen} bytes but the header describes ${pos} (truncated)`, source);
  if (pos < dataLen) fail(`data section has ${dataLen - pos} bytes not described by the header (corrupt)`, source);
  const tensors: Record<string, Tensor> = {};
  for (const e of entries) {
    // Offsets were checked against the shape and the file above, so the allocation follows from bytes present.
    let decoded;
    try {
      decoded = decodeElements(e.code, bytes.subarray(dataStart + e.begin, dataStart + e.end), sizeOf(e.shape));
    } catch (err) {
      if (err instanceof ElementError) fail(`tensor "${e.name}" ${err.message}`, source);
      throw err;
    }
    setEntry(tensors, e.name, Tensor._concrete(decoded.data, e.shape, decoded.dtype));
  }
  return { tensors, metadata };
}
