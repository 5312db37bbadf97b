// The window kernels (KernelTable.conv) in WebAssembly: im2col, col2im and the max-pool argmax, gather and
// scatter run asm/conv.ts on operands copied in with `set`; the three convolution drivers keep a whole stage
// in wasm memory: x (or the cotangent) is copied in once, im2col and the reorders between NCHW and the
// product's [O, N·P] layout run there, and the GEMM, the active backend's `kernels().gemm`, reads and writes
// views on that memory (the system BLAS takes them as pointers through koffi; the wasm GEMM multiplies them
// in place). Only the stage's result is copied out. Float32 and float64; other dtypes, small calls and
// memory that cannot grow run the js kernels (src/kernels/conv.ts), with the same chunks of images, so that
// both hand the GEMM the same products.
//
// The weight gradient computes im2col again rather than keeping the forward pass's columns: in wasm that
// costs about what copying kept columns back in would (the columns are kh·kw times larger than x), and
// keeping them would hold wasm memory per convolution until its gradient ran, or forever if it never did.
import type { TypedArray } from "../../core/dtype.js";
import type { ConvKernels } from "../backend.js";
import {
  chunkSize, col2imInto, conv2dForwardInto, conv2dInputGradInto, conv2dWeightGradInto, im2colInto,
  maxPoolArgmax, maxPoolGatherInto, maxPoolScatterInto, type WindowGeometry,
} from "../conv.js";
import { gemm } from "../matmul.js";
import { floatsFor, type FloatCall } from "./elementwise.js";
import { hold, release, reserve, type Wasm } from "./instance.js";

/** Smallest call (elements of its largest array) worth the copies in and out; below, the js kernel runs. */
const MIN_WINDOW = 256;
/**
 * Most elements im2col and col2im stage at once (they copy whole arrays in; the drivers and pooling work in
 * chunks): wasm memory never shrinks, so larger calls run the js kernels rather than keep 2^24 elements' worth
 * (64 MB of float32) or more.
 */
const MAX_WHOLE = 1 << 24;

/** Bytes for `n` elements, rounded up to whole 64-byte lines so that every region starts aligned. */
function bytes(n: number, size: number): number {
  return Math.ceil((n * size) / 64) * 64;
}

/** Lays out regions of the given element counts from `at`; returns their byte addresses and the total. */
function regions(at: number, size: number, counts: readonly number[]): number[] {
  const out: number[] = [];
  let p = at;
  for (const n of counts) {
    out.push(p);
    p += bytes(n, size);
  }
  return out;
}

/** Total bytes of `regions` for these counts. */
function total(size: number, counts: readonly number[]): number {
  return counts.reduce((s, n) => s + bytes(n, size), 0);
}

/** A view of `n` elements at byte address `at` on the memory as it is now (views die when memory grows). */
function view(c: FloatCall, at: number, n: number): Float32Array | Float64Array {
  const buffer = c.w.exports.memory.buffer;
  return c.f64 ? new Float64Array(buffer, at, n) : new Float32Array(buffer, at, n);
}

/** Copies `src` into memory at byte address `at`. */
function put(c: FloatCall, src: TypedArray, at: number): void {
  if (c.f64) c.w.f64.set(src, at >> 3);
  else c.w.f32.set(src, at >> 2);
}

/** Copies `n` elements at byte address `at` into dst from index `to`. */
function take(c: FloatCall, at: number, n: number, dst: TypedArray, to: number): void {
  dst.set(c.f64 ? c.w.f64.subarray(at >> 3, (at >> 3) + n) : c.w.f32.subarray(at >> 2, (at >> 2) + n), to);
}

/** Zeroes `n` elements from byte address `at`. */
function zero(c: FloatCall, at: number, n: number): void {
  if (c.f64) c.w.f64.fill(0, at >> 3, (at >> 3) + n);
  else c.w.f32.fill(0, at >> 2, (at >> 2) + n);
}

function im2colAt(c: FloatCall, x: number, g: WindowGeometry, n: number, pad: number, cols: number): void {
  (c.f64 ? c.w.exports.im2colF64 : c.w.exports.im2colF32)(x, n, g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.oh, g.ow, pad, cols);
}

function col2imAt(c: FloatCall, cols: number, g: WindowGeometry, n: number, x: number): void {
  (c.f64 ? c.w.exports.col2imF64 : c.w.exports.col2imF32)(cols, n, g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.oh, g.ow, x);
}

/**
 * Runs `stage` on `need` bytes held at the start of the scratch area (so that a wasm GEMM it calls copies
 * nothing over them), releasing them afterwards; false when memory cannot grow that far.
 */
function staged(w: Wasm, need: number, stage: (at: number) => void): boolean {
  const at = hold(w, need);
  if (at < 0) return false;
  try {
    stage(at);
  } finally {
    release(w, at);
  }
  return true;
}

function forward(x: TypedArray, wt: TypedArray, bias: TypedArray | null, g: WindowGeometry, o: number, y: TypedArray): void {
  const c = floatsFor(MIN_WINDOW, y.length + x.length, x, wt, y, bias ?? undefined);
  if (c === null) return conv2dForwardInto(x, wt, bias, g, o, y);
  const size = c.f64 ? 8 : 4;
  const ckk = g.c * g.kh * g.kw, p = g.oh * g.ow, img = g.c * g.h * g.w, chunk = chunkSize(g);
  const counts = [o * ckk, chunk * img, ckk * chunk * p, o * chunk * p, chunk * o * p, bias === null ? 0 : o];
  const ok = staged(c.w, total(size, counts), (at) => {
    const [wa, xa, ca, ta, ya, ba] = regions(at, size, counts) as [number, number, number, number, number, number];
    put(c, wt, wa);
    if (bias !== null) put(c, bias, ba);
    for (let n0 = 0; n0 < g.n; n0 += chunk) {
      const nb = Math.min(chunk, g.n - n0);
      put(c, x.subarray(n0 * img, (n0 + nb) * img), xa);
      im2colAt(c, xa, g, nb, 0, ca);
      // tmp[O, nb·P] = W[O, C·kh·kw] · cols[C·kh·kw, nb·P], where they lie.
      gemm(o, nb * p, ckk, { data: view(c, wa, o * ckk), offset: 0, rowStride: ckk, colStride: 1 },
        { data: view(c, ca, ckk * nb * p), offset: 0, rowStride: nb * p, colStride: 1 }, view(c, ta, o * nb * p), 0, nb * p, false);
      // [O, nb, P] → [nb, O, P], adding the bias on the way.
      if (bias === null) c.w.exports.swapLeading(ta, o, nb, p, size, ya);
      else (c.f64 ? c.w.exports.swapBiasF64 : c.w.exports.swapBiasF32)(ta, o, nb, p, ba, ya);
      take(c, ya, nb * o * p, y, n0 * o * p);
    }
  });
  if (!ok) conv2dForwardInto(x, wt, bias, g, o, y);
}

function inputGrad(ct: TypedArray, wt: TypedArray, g: WindowGeometry, o: number, dx: TypedArray): void {
  const c = floatsFor(MIN_WINDOW, dx.length + ct.length, ct, wt, dx);
  if (c === null) return conv2dInputGradInto(ct, wt, g, o, dx);
  const size = c.f64 ? 8 : 4;
  const ckk = g.c * g.kh * g.kw, p = g.oh * g.ow, img = g.c * g.h * g.w, chunk = chunkSize(g);
  const counts = [o * ckk, chunk * o * p, o * chunk * p, ckk * chunk * p, chunk * img];
  const ok = staged(c.w, total(size, counts), (at) => {
    const [wa, ga, ta, ca, xa] = regions(at, size, counts) as [number, number, number, number, number];
    put(c, wt, wa);
    for (let n0 = 0; n0 < g.n; n0 += chunk) {
      const nb = Math.min(chunk, g.n - n0);
      put(c, ct.subarray(n0 * o * p, (n0 + nb) * o * p), ga);
      c.w.exports.swapLeading(ga, nb, o, p, size, ta); // [nb, O, P] → [O, nb, P]
      // dcols[C·kh·kw, nb·P] = Wᵀ · ct, Wᵀ read through swapped strides.
      gemm(ckk, nb * p, o, { data: view(c, wa, o * ckk), offset: 0, rowStride: 1, colStride: ckk },
        { data: view(c, ta, o * nb * p), offset: 0, rowStride: nb * p, colStride: 1 }, view(c, ca, ckk * nb * p), 0, nb * p, false);
      zero(c, xa, nb * img);
      col2imAt(c, ca, g, nb, xa);
      take(c, xa, nb * img, dx, n0 * img);
    }
  });
  if (!ok) conv2dInputGradInto(ct, wt, g, o, dx);
}

function weightGrad(x: TypedArray, ct: TypedArray, g: WindowGeometry, o: number, dw: TypedArray): void {
  const c = floatsFor(MIN_WINDOW, x.length + ct.length, x, ct, dw);
  if (c === null) return conv2dWeightGradInto(x, ct, g, o, dw);
  const size = c.f64 ? 8 : 4;
  const ckk = g.c * g.kh * g.kw, p = g.oh * g.ow, img = g.c * g.h * g.w, chunk = chunkSize(g);
  const counts = [o * ckk, chunk * img, ckk * chunk * p, chunk * o * p, o * chunk * p];
  const ok = staged(c.w, total(size, counts), (at) => {
    const [da, xa, ca, ga, ta] = regions(at, size, counts) as [number, number, number, number, number];
    zero(c, da, o * ckk);
    for (let n0 = 0; n0 < g.n; n0 += chunk) {
      const nb = Math.min(chunk, g.n - n0);
      put(c, x.subarray(n0 * img, (n0 + nb) * img), xa);
      im2colAt(c, xa, g, nb, 0, ca);
      put(c, ct.subarray(n0 * o * p, (n0 + nb) * o * p), ga);
      c.w.exports.swapLeading(ga, nb, o, p, size, ta); // [nb, O, P] → [O, nb, P]
      // dW[O, C·kh·kw] += ct[O, nb·P] · colsᵀ, colsᵀ read through swapped strides.
      gemm(o, ckk, nb * p, { data: view(c, ta, o * nb * p), offset: 0, rowStride: nb * p, colStride: 1 },
        { data: view(c, ca, ckk * nb * p), offset: 0, rowStride: 1, colStride: nb * p }, view(c, da, o * ckk), 0, ckk, true);
    }
    take(c, da, o * ckk, dw, 0);
  });
  if (!ok) conv2dWeightGradInto(x, ct, g, o, dw);
}

function im2col(x: TypedArray, g: WindowGeometry, padValue: number, cols: TypedArray): void {
  const c = cols.length + x.length <= MAX_WHOLE ? floatsFor(MIN_WINDOW, cols.length, x, cols) : null;
  const at = c === null ? -1 : reserve(c.w, total(c.f64 ? 8 : 4, [x.length, cols.length]));
  if (c === null || at < 0) return im2colInto(x, g, padValue, cols);
  const [xa, ca] = regions(at, c.f64 ? 8 : 4, [x.length, cols.length]) as [number, number];
  put(c, x, xa);
  im2colAt(c, xa, g, g.n, padValue, ca);
  take(c, ca, cols.length, cols, 0);
}

function col2im(cols: TypedArray, g: WindowGeometry, x: TypedArray): void {
  const c = cols.length + x.length <= MAX_WHOLE ? floatsFor(MIN_WINDOW, cols.length, cols, x) : null;
  const at = c === null ? -1 : reserve(c.w, total(c.f64 ? 8 : 4, [cols.length, x.length]));
  if (c === null || at < 0) return col2imInto(cols, g, x);
  const [ca, xa] = regions(at, c.f64 ? 8 : 4, [cols.length, x.length]) as [number, number];
  put(c, cols, ca);
  zero(c, xa, x.length);
  col2imAt(c, ca, g, g.n, xa);
  take(c, xa, x.length, x, 0);
}

// Modes of asm/conv.ts's maxPool kernels.
const ARGMAX = 0, GATHER = 1, SCATTER = 2;

/** Input values per chunk of planes for pooling: a few MB of wasm memory whatever the batch. */
const POOL_CHUNK = 1 << 20;

/**
 * Runs a max-pool kernel over chunks of whole planes: `stage(c, p0, np, xa, ya, oa)` copies chunk [p0, p0 + np)
 * in, with `counts(np)` giving the element counts of x's, y's and the output's regions, runs and copies out.
 * False when memory cannot grow (then the js kernel runs).
 */
function pooled(c: FloatCall, g: WindowGeometry, counts: (np: number) => readonly [number, number, number], stage: (p0: number, np: number, xa: number, ya: number, oa: number) => void): boolean {
  const planes = g.n * g.c, per = Math.max(1, Math.min(planes, Math.floor(POOL_CHUNK / (g.h * g.w))));
  const size = c.f64 ? 8 : 4;
  const [nx, ny, no] = counts(per);
  const at = reserve(c.w, total(size, [nx, ny]) + Math.max(total(size, [no]), total(4, [no])));
  if (at < 0) return false;
  const [xa, ya, oa] = regions(at, size, [nx, ny, 0]) as [number, number, number];
  for (let p0 = 0; p0 < planes; p0 += per) stage(p0, Math.min(per, planes - p0), xa, ya, oa);
  return true;
}

function poolAt(c: FloatCall, mode: number, x: number, planes: number, g: WindowGeometry, y: number, out: number, indexBase: number): void {
  (c.f64 ? c.w.exports.maxPoolF64 : c.w.exports.maxPoolF32)(mode, x, planes, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.oh, g.ow, y, out, indexBase);
}

function maxPoolArgmaxWasm(x: TypedArray, g: WindowGeometry, idx: Int32Array): void {
  const c = floatsFor(MIN_WINDOW, x.length, x);
  const hw = g.h * g.w, ohw = g.oh * g.ow;
  const ok = c !== null && pooled(c, g, (np) => [np * hw, 0, np * ohw], (p0, np, xa, _ya, oa) => {
    put(c, x.subarray(p0 * hw, (p0 + np) * hw), xa);
    poolAt(c, ARGMAX, xa, np, g, 0, oa, p0 * hw);
    idx.set(c.w.i32.subarray(oa >> 2, (oa >> 2) + np * ohw), p0 * ohw);
  });
  if (!ok) maxPoolArgmax(x, g, idx);
}

function maxPoolGather(x: TypedArray, y: TypedArray, g: WindowGeometry, out: TypedArray): void {
  const c = floatsFor(MIN_WINDOW, x.length, x, y, out);
  const same = y === x, hw = g.h * g.w, ohw = g.oh * g.ow;
  const ok = c !== null && pooled(c, g, (np) => [np * hw, same ? 0 : np * hw, np * ohw], (p0, np, xa, ya, oa) => {
    put(c, x.subarray(p0 * hw, (p0 + np) * hw), xa);
    if (!same) put(c, y.subarray(p0 * hw, (p0 + np) * hw), ya);
    poolAt(c, GATHER, xa, np, g, same ? xa : ya, oa, 0);
    take(c, oa, np * ohw, out, p0 * ohw);
  });
  if (!ok) maxPoolGatherInto(x, y, g, out);
}

function maxPoolScatter(x: TypedArray, ct: TypedArray, g: WindowGeometry, out: TypedArray): void {
  const c = floatsFor(MIN_WINDOW, x.length, x, ct, out);
  const hw = g.h * g.w, ohw = g.oh * g.ow;
  const ok = c !== null && pooled(c, g, (np) => [np * hw, np * ohw, np * hw], (p0, np, xa, ga, oa) => {
    put(c, x.subarray(p0 * hw, (p0 + np) * hw), xa);
    put(c, ct.subarray(p0 * ohw, (p0 + np) * ohw), ga);
    zero(c, oa, np * hw);
    poolAt(c, SCATTER, xa, np, g, ga, oa, 0);
    take(c, oa, np * hw, out, p0 * hw);
  });
  if (!ok) maxPoolScatterInto(x, ct, g, out);
}

/**
 * The wasm backend's window kernels (KernelTable.conv), float32 and float64, results identical to the js
 * kernels': im2col, the pooling gather and the reorders only move values; col2im and the pooling scatter add
 * into each position in the js kernels' order; the drivers call the same GEMM on the same chunks (the active
 * backend's, which for the blas backend is the system library reading wasm memory through pointers). Calls
 * below 256 elements, other dtypes, mixed dtypes and sizes that wasm32 memory cannot hold run the js kernels.
 */
export const wasmConvKernels: ConvKernels = {
  im2col,
  col2im,
  forward,
  inputGrad,
  weightGrad,
  maxPoolArgmax: maxPoolArgmaxWasm,
  maxPoolGather,
  maxPoolScatter,
};
