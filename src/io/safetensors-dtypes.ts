import { allocate, type DType, type TypedArray } from "../core/dtype.js";

// The safetensors element types chainrule reads, and how each maps to a chainrule dtype. chainrule
// computes in float32, float64, int32 and bool, so narrower types are widened on reading: F16 and BF16 to
// float32 (exact: every half and bfloat16 value is a float32), I8, U8 and I16 to int32 (exact). I64 is
// read as int32 when every value fits, as float64 when some value needs up to 53 bits (still exact), and
// refused beyond ±(2⁵³ − 1), where float64 would round it.

/** A safetensors dtype code chainrule reads. */
export type SafetensorsDType = "F16" | "BF16" | "F32" | "F64" | "I8" | "U8" | "I16" | "I32" | "I64" | "BOOL";

/** Bytes per element of each code. */
export const ELEMENT_BYTES: Record<SafetensorsDType, number> = { F16: 2, BF16: 2, F32: 4, F64: 8, I8: 1, U8: 1, I16: 2, I32: 4, I64: 8, BOOL: 1 };

/** The codes a file may use, in the order error messages list them. */
export const READ_CODES = Object.keys(ELEMENT_BYTES) as SafetensorsDType[];

export function isReadCode(code: unknown): code is SafetensorsDType {
  return typeof code === "string" && Object.hasOwn(ELEMENT_BYTES, code);
}

/** What decoding found wrong with a tensor's bytes (the caller adds the file and tensor names). */
export class ElementError extends Error {}

/** IEEE 754 binary16 bits → number (exact). */
export function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // zero and subnormals
  if (exp === 0x1f) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** number → binary16 bits, rounding to nearest even as IEEE 754 (and PyTorch's `.half()`); overflow gives ±∞. */
export function numberToHalf(v: number): number {
  if (Number.isNaN(v)) return 0x7e00;
  const sign = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
  const a = Math.abs(v);
  if (a >= 65520) return sign | 0x7c00; // 65520 is halfway between the largest half (65504) and 2¹⁶: rounds up to ∞
  if (a < 2 ** -14) {
    // Subnormal (or zero): a multiple of 2⁻²⁴; Math.round's ties go up, so settle ties to even by hand.
    const q = a * 2 ** 24;
    let n = Math.floor(q);
    const r = q - n;
    if (r > 0.5 || (r === 0.5 && (n & 1) === 1)) n++;
    return sign | n; // n = 1024 carries into the smallest normal, as it should
  }
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--; // log2 may round up just below a power of two
  else if (2 ** (e + 1) <= a) e++;
  const q = (a / 2 ** e - 1) * 1024; // exact: a has at most 53 bits
  let m = Math.floor(q);
  const r = q - m;
  if (r > 0.5 || (r === 0.5 && (m & 1) === 1)) m++;
  if (m === 1024) {
    m = 0;
    e++;
  }
  if (e > 15) return sign | 0x7c00;
  return sign | ((e + 15) << 10) | m;
}

/** bfloat16 bits → number: the upper half of a float32 (exact). */
export function bfloat16ToNumber(b: number): number {
  u32[0] = b << 16;
  return f32[0]!;
}

/** number → bfloat16 bits: rounded to float32, then to nearest even on the upper 16 bits (as PyTorch); NaN stays NaN. */
export function numberToBfloat16(v: number): number {
  f32[0] = v;
  const bits = u32[0]!;
  if (Number.isNaN(f32[0]!)) return ((bits >>> 16) | 0x40) & 0xffff;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

/** The chainrule dtype a code is read as (I64 depends on the values: see `decodeElements`). */
export function dtypeOfCode(code: SafetensorsDType): DType {
  switch (code) {
    case "F16": case "BF16": case "F32": return "float32";
    case "F64": return "float64";
    case "BOOL": return "bool";
    default: return "int32";
  }
}

/**
 * Decodes `count` little-endian elements of `code` from `src` (exactly count·ELEMENT_BYTES bytes).
 * Allocates only the result, whose size follows from bytes present in the file.
 * @throws ElementError for a BOOL byte other than 0 or 1, or an I64 value beyond ±(2⁵³ − 1)
 */
export function decodeElements(code: SafetensorsDType, src: Uint8Array, count: number): { data: TypedArray; dtype: DType } {
  const dv = new DataView(src.buffer, src.byteOffset, src.byteLength);
  if (code === "I64") return decodeInt64(dv, count);
  const dtype = dtypeOfCode(code);
  const data = allocate(dtype, count);
  if (littleEndian && (code === "F32" || code === "F64" || code === "I32")) {
    new Uint8Array(data.buffer, data.byteOffset, data.byteLength).set(src); // same layout: copy the bytes
    return { data, dtype };
  }
  switch (code) {
    case "F16": for (let i = 0; i < count; i++) data[i] = halfToNumber(dv.getUint16(2 * i, true)); break;
    case "BF16": for (let i = 0; i < count; i++) data[i] = bfloat16ToNumber(dv.getUint16(2 * i, true)); break;
    case "F32": for (let i = 0; i < count; i++) data[i] = dv.getFloat32(4 * i, true); break;
    case "F64": for (let i = 0; i < count; i++) data[i] = dv.getFloat64(8 * i, true); break;
    case "I8": for (let i = 0; i < count; i++) data[i] = dv.getInt8(i); break;
    case "U8": for (let i = 0; i < count; i++) data[i] = dv.getUint8(i); break;
    case "I16": for (let i = 0; i < count; i++) data[i] = dv.getInt16(2 * i, true); break;
    case "I32": for (let i = 0; i < count; i++) data[i] = dv.getInt32(4 * i, true); break;
    case "BOOL":
      for (let i = 0; i < count; i++) {
        const b = dv.getUint8(i);
        if (b > 1) throw new ElementError(`is BOOL but holds bytes other than 0 and 1 (byte ${b} at element ${i})`);
        data[i] = b;
      }
      break;
  }
  return { data, dtype };
}

function decodeInt64(dv: DataView, count: number): { data: TypedArray; dtype: DType } {
  let fitsInt32 = true;
  for (let i = 0; i < count; i++) {
    const lo = dv.getInt32(8 * i, true), hi = dv.getInt32(8 * i + 4, true);
    if (hi === lo >> 31) continue; // the high word is the low word's sign extension: an int32
    fitsInt32 = false;
    const v = hi * 4294967296 + (lo >>> 0);
    if (!Number.isSafeInteger(v)) {
      throw new ElementError(`is I64 and element ${i} (${dv.getBigInt64(8 * i, true)}) is beyond ±(2^53 − 1), which float64 cannot hold exactly; store it as F64 or split it`);
    }
  }
  const dtype: DType = fitsInt32 ? "int32" : "float64";
  const data = allocate(dtype, count);
  for (let i = 0; i < count; i++) data[i] = dv.getInt32(8 * i + 4, true) * 4294967296 + (dv.getUint32(8 * i, true));
  return { data, dtype };
}

/** The formats `encodeSafetensors` can store float tensors in, on request. */
export type FloatStorage = "F16" | "BF16";

/** Encodes a float tensor's values as little-endian F16 or BF16 bytes. */
export function encodeHalf(code: FloatStorage, data: TypedArray): Uint8Array {
  const out = new Uint8Array(2 * data.length);
  const dv = new DataView(out.buffer);
  const conv = code === "F16" ? numberToHalf : numberToBfloat16;
  for (let i = 0; i < data.length; i++) dv.setUint16(2 * i, conv(data[i]!), true);
  return out;
}
