// The layout kernels (KernelTable.layout) and reductions in WebAssembly (asm/layout.ts). Shapes are collapsed
// here first: dimensions of size 1 dropped and neighbours that move together merged (two reduced axes in a
// row, two kept ones, two axes a transpose keeps adjacent, two that a broadcast repeats or copies alike), so
// the kernels see rank 1-3 in the common cases: a trailing or leading reduction, the [N, C, P] bias gradient
// that sums N and P, a 2-D transpose, the [A, B, P] → [B, A, P] reorder of NCHW data. Operands are copied
// in whole with `set` and results copied out the same way.
import type { TypedArray } from "../../core/dtype.js";
import type { Shape } from "../../core/shape.js";
import type { LayoutKernels, ReduceKernel } from "../backend.js";
import { broadcastInto, reduceInto, transposeInto } from "../layout.js";
import { floatsFor, type FloatCall } from "./elementwise.js";
import { reserve } from "./instance.js";

/** Smallest output (broadcast, transpose) or input (reduce) worth the copies; below, the js kernel runs. */
const MIN_LAYOUT = 64;
/**
 * Most elements staged at once (operands are copied in whole): wasm memory never shrinks, so larger calls run
 * the js kernels rather than keep 2^24 elements' worth (64 MB of float32) or more of it.
 */
const MAX_WHOLE = 1 << 24;

const KINDS = { sum: 0, max: 1, min: 2, prod: 3 } as const;

/** Bytes for `n` elements of `size` bytes, in whole 64-byte lines. */
function bytes(n: number, size: number): number {
  return Math.ceil((n * size) / 64) * 64;
}

/** Copies `src` into memory at byte address `at`. */
function put(c: FloatCall, src: TypedArray, at: number): void {
  if (c.f64) c.w.f64.set(src, at >> 3);
  else c.w.f32.set(src, at >> 2);
}

/** Copies `n` elements at byte address `at` into `dst`. */
function take(c: FloatCall, at: number, n: number, dst: TypedArray): void {
  dst.set(c.f64 ? c.w.f64.subarray(at >> 3, (at >> 3) + n) : c.w.f32.subarray(at >> 2, (at >> 2) + n));
}

/** Writes int32 values at byte address `at`. */
function putInts(c: FloatCall, values: readonly number[], at: number): void {
  const i32 = c.w.i32, base = at >> 2;
  for (let i = 0; i < values.length; i++) i32[base + i] = values[i]!;
}

/**
 * The reduction's dimensions after dropping 1s and merging neighbours alike (both reduced or both kept):
 * sizes and whether each is reduced, plus each one's stride in the kept output (0 for reduced ones).
 */
export function collapseReduction(shape: Shape, axes: readonly number[]): { dims: number[]; reduced: boolean[]; keptStrides: number[] } {
  const dims: number[] = [], reduced: boolean[] = [];
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i]!, r = axes.includes(i);
    if (d === 1) continue;
    if (dims.length > 0 && reduced[reduced.length - 1] === r) dims[dims.length - 1]! *= d;
    else {
      dims.push(d);
      reduced.push(r);
    }
  }
  const keptStrides = new Array<number>(dims.length).fill(0);
  let s = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    if (reduced[i]) continue;
    keptStrides[i] = s;
    s *= dims[i]!;
  }
  return { dims, reduced, keptStrides };
}

/**
 * Whether `wasmReduce` sums a float32 array of `n` elements to one in wasm (four running sums, asm/layout.ts's
 * reduceRun) rather than in the js kernel's order: jit's fused loops sum in the same order (wasm/fused.ts).
 */
export function wasmSumsInLanes(n: number): boolean {
  return n > 0 && n + 1 <= MAX_WHOLE && floatsFor(MIN_LAYOUT, n, FLOAT32) !== null;
}
/** A float32 operand for `floatsFor`'s type test (it reads only the array's type). */
const FLOAT32 = new Float32Array(0);

/**
 * The reduce kernel (any axes; sum, max, min, prod) for float32 and float64 in wasm, accumulating in float64
 * and rounding once: sums of a contiguous run use four running sums, everything else goes in the js kernel's
 * order for each output, so max/min (NaN propagating, the first of tied zeros) and products match it exactly
 * and sums agree to within float64 rounding before the final one. Int32 and bool inputs, outputs with no
 * elements to reduce and inputs under 64 elements run `reduceInto`.
 */
export const wasmReduce: ReduceKernel = (src, shape, axes, dst, kind) => {
  const c = dst.length > 0 && src.length > 0 && src.length + dst.length <= MAX_WHOLE ? floatsFor(MIN_LAYOUT, src.length, src, dst) : null;
  if (c === null) return reduceInto(src, shape, axes, dst, kind);
  const size = c.f64 ? 8 : 4;
  const { dims, reduced, keptStrides } = collapseReduction(shape, axes);
  const rank = Math.max(dims.length - 1, 0);
  const inner = dims.length > 0 ? dims[dims.length - 1]! : 1;
  const innerReduced = dims.length > 0 ? reduced[reduced.length - 1]! : true;
  const need = bytes(src.length, size) + bytes(dst.length, 8) + bytes(3 * rank + 1, 4) + (c.f64 ? 0 : bytes(dst.length, 4));
  const at = reserve(c.w, need);
  if (at < 0) return reduceInto(src, shape, axes, dst, kind);
  const acc = at + bytes(src.length, size), meta = acc + bytes(dst.length, 8), out = meta + bytes(3 * rank + 1, 4);
  put(c, src, at);
  putInts(c, [...dims.slice(0, rank), ...keptStrides.slice(0, rank)], meta);
  const init = kind === "sum" ? 0 : kind === "prod" ? 1 : kind === "max" ? -Infinity : Infinity;
  c.w.f64.fill(init, acc >> 3, (acc >> 3) + dst.length);
  (c.f64 ? c.w.exports.reduceF64 : c.w.exports.reduceF32)(KINDS[kind], at, rank, meta, inner, innerReduced ? 1 : 0, acc);
  if (c.f64) take(c, acc, dst.length, dst);
  else {
    c.w.exports.narrowF64(acc, dst.length, out);
    take(c, out, dst.length, dst);
  }
};

/**
 * A strided copy's dimensions after dropping 1s and merging neighbours where the outer one's source stride is
 * the inner one's times its size (a contiguous block, or a repeat of 0 over 0): sizes and source strides.
 */
function collapseCopy(dims: readonly number[], strides: readonly number[]): { dims: number[]; strides: number[] } {
  const d: number[] = [], s: number[] = [];
  for (let i = 0; i < dims.length; i++) {
    if (dims[i] === 1) continue;
    const last = d.length - 1;
    if (last >= 0 && s[last] === strides[i]! * dims[i]!) {
      d[last]! *= dims[i]!;
      s[last] = strides[i]!;
    } else {
      d.push(dims[i]!);
      s.push(strides[i]!);
    }
  }
  if (d.length === 0) return { dims: [1], strides: [1] };
  return { dims: d, strides: s };
}

/** Runs asm's stridedCopy: dst (contiguous, `dims`) = src read with element `strides`. Returns false when memory cannot grow. */
function stridedCopy(c: FloatCall, src: TypedArray, dims: number[], strides: number[], dst: TypedArray): boolean {
  const size = c.f64 ? 8 : 4, rank = dims.length;
  const at = reserve(c.w, bytes(src.length, size) + bytes(dst.length, size) + bytes(3 * rank, 4));
  if (at < 0) return false;
  const da = at + bytes(src.length, size), meta = da + bytes(dst.length, size);
  put(c, src, at);
  putInts(c, [...dims, ...strides], meta);
  (c.f64 ? c.w.exports.stridedCopyF64 : c.w.exports.stridedCopyF32)(at, da, rank, meta);
  take(c, da, dst.length, dst);
  return true;
}

/** Source strides of `to`'s dimensions when `from` broadcasts to it (0 along repeated dimensions). */
function broadcastStrides(from: Shape, to: Shape): number[] {
  const st = new Array<number>(to.length).fill(0);
  const offset = to.length - from.length;
  let s = 1;
  for (let d = from.length - 1; d >= 0; d--) {
    st[d + offset] = from[d] === 1 ? 0 : s;
    s *= from[d]!;
  }
  return st;
}

function broadcast(src: TypedArray, from: Shape, dst: TypedArray, to: Shape): void {
  const c = src.length > 1 && dst.length > 0 && src.length + dst.length <= MAX_WHOLE ? floatsFor(MIN_LAYOUT, dst.length, src, dst) : null;
  if (c === null) return broadcastInto(src, from, dst, to);
  const { dims, strides } = collapseCopy(to, broadcastStrides(from, to));
  if (!stridedCopy(c, src, dims, strides, dst)) broadcastInto(src, from, dst, to);
}

function transpose(src: TypedArray, shape: Shape, perm: readonly number[], dst: TypedArray): void {
  const c = src.length > 0 && 2 * src.length <= MAX_WHOLE ? floatsFor(MIN_LAYOUT, src.length, src, dst) : null;
  if (c === null) return transposeInto(src, shape, perm, dst);
  const inStrides = new Array<number>(shape.length);
  for (let d = shape.length - 1, s = 1; d >= 0; d--) {
    inStrides[d] = s;
    s *= shape[d]!;
  }
  const { dims, strides } = collapseCopy(perm.map((p) => shape[p]!), perm.map((p) => inStrides[p]!));
  const rank = dims.length;
  // A batch of 2-D transposes ([B, R, C] → [B, C, R], B possibly 1): tiled, so that the strided side of the
  // copy stays in cache; everything else (contiguous rows moved around) is a strided copy.
  const last = strides[rank - 1]!;
  const is2d = rank >= 2 && last !== 1 && strides[rank - 2] === 1 && last === dims[rank - 2]! && (rank === 2 || (rank === 3 && strides[0] === dims[1]! * dims[2]!));
  if (is2d) {
    const size = c.f64 ? 8 : 4;
    const at = reserve(c.w, 2 * bytes(src.length, size));
    if (at < 0) return transposeInto(src, shape, perm, dst);
    const da = at + bytes(src.length, size);
    put(c, src, at);
    const batch = rank === 3 ? dims[0]! : 1, rows = dims[rank - 1]!, cols = dims[rank - 2]!;
    (c.f64 ? c.w.exports.transpose2dF64 : c.w.exports.transpose2dF32)(at, batch, rows, cols, da);
    take(c, da, dst.length, dst);
    return;
  }
  if (!stridedCopy(c, src, dims, strides, dst)) transposeInto(src, shape, perm, dst);
}

/**
 * The wasm backend's layout kernels, float32 and float64 (other dtypes, and outputs under 64 elements, run
 * the js kernels): results identical to the js ones, since they only move values.
 */
export const wasmLayoutKernels: LayoutKernels = { broadcast, transpose };
