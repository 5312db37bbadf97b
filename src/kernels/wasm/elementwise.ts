import type { TypedArray } from "../../core/dtype.js";
import type { KernelTable } from "../backend.js";
import type { BinaryKernel } from "../binary.js";
import type { FusedGradKernel, SaturatingGradKernel } from "../fused.js";
import type { UnaryKernel } from "../unary.js";
import { getWasm, reserve, type Wasm } from "./instance.js";
import { minimumSize } from "../minimums.js";
import { markNaNFree, markZeroFree, nanMarksRequested } from "../nan-marks.js";

// Wrappers that give the module's elementwise kernels the js kernels' signatures (typed arrays in and out):
// operands are copied into wasm memory a chunk at a time (the chunk stays in L1/L2 while it is copied in,
// computed in place and copied out), and anything the wasm kernels do not cover runs the js kernel.

/** Elements per chunk: three 32 KB regions (a, b, result in a's place) stay in L2. */
const CHUNK = 8192;

/**
 * The one fallback rule of every elementwise wrapper: the wasm module, when the output and operands are
 * Float32Arrays, the output has at least `min` elements (below that, copying costs more than the kernel
 * saves, and scalars keep the js kernels' per-op cost) and the module is ready; else null, meaning: run
 * the js kernel.
 */
export function wasmFor(min: number, o: TypedArray, x: TypedArray, y?: TypedArray): Wasm | null {
  if (o.length < minimumSize(min) || !(o instanceof Float32Array) || !(x instanceof Float32Array)) return null;
  if (y !== undefined && !(y instanceof Float32Array)) return null;
  return getWasm();
}

/** The module and element type for `floatsFor`'s kernels: `f64` says Float64Array (8-byte elements), else Float32Array. */
export interface FloatCall {
  readonly w: Wasm;
  readonly f64: boolean;
}

/**
 * `wasmFor`'s rule for kernels that take float64 as well (layout and window kernels): the module when the
 * arrays are all Float32Arrays or all Float64Arrays, `size` (the work, in elements) is at least `min` and
 * the module is ready; else null, meaning: run the js kernel.
 */
export function floatsFor(min: number, size: number, a: TypedArray, b?: TypedArray, c?: TypedArray, d?: TypedArray): FloatCall | null {
  if (size < minimumSize(min)) return null;
  const f64 = a instanceof Float64Array;
  if (!f64 && !(a instanceof Float32Array)) return null;
  const ctor = a.constructor;
  if ((b !== undefined && b.constructor !== ctor) || (c !== undefined && c.constructor !== ctor) || (d !== undefined && d.constructor !== ctor)) return null;
  const w = getWasm();
  return w === null ? null : { w, f64 };
}

/** `k` chunk regions of `count` floats, each rounded to whole vectors: [a | b | …] (within the first MiB, always there). Returns the byte address of a. */
function regions(w: Wasm, count: number, k = 2): number {
  return reserve(w, k * count * 4);
}

/** Below this length a plain loop copies faster than `set` with a `subarray` (which allocates a view). */
const SHORT = 16;

/** Copies x[from, from + len) into wasm memory at float32 index `at`. */
function copyIn(f32: Float32Array, x: TypedArray, from: number, len: number, at: number): void {
  if (len <= SHORT) for (let i = 0; i < len; i++) f32[at + i] = x[from + i]!;
  else f32.set(from === 0 && len === x.length ? x : x.subarray(from, from + len), at);
}

/** Copies `len` floats from wasm memory at float32 index `at` into o[from, from + len). */
function copyOut(f32: Float32Array, at: number, len: number, o: TypedArray, from: number): void {
  if (len <= SHORT) for (let i = 0; i < len; i++) o[from + i] = f32[at + i]!;
  else o.set(f32.subarray(at, at + len), from);
}

/** A unary wrapper: op code `code` of unaryF32 for float32 arrays of at least `min` elements, else `js`. */
export function unaryVia(code: number, min: number, js: UnaryKernel): UnaryKernel {
  return (a, o) => {
    const w = wasmFor(min, o, a);
    if (w === null) return js(a, o);
    const n = o.length;
    const at = regions(w, CHUNK);
    const f32 = w.f32;
    for (let i = 0; i < n; i += CHUNK) {
      const len = Math.min(CHUNK, n - i);
      copyIn(f32, a, i, len, at >> 2);
      w.exports.unaryF32(code, at, at, len);
      copyOut(f32, at >> 2, len, o, i);
    }
  };
}

/** A binary wrapper (modes as BinaryKernel: 0 both full, 1 b scalar, 2 a scalar) for binaryF32's op `code`. */
export function binaryVia(code: number, min: number, js: BinaryKernel): BinaryKernel {
  return (a, b, o, mode) => {
    const w = wasmFor(min, o, a, b);
    if (w === null) return js(a, b, o, mode);
    const n = o.length;
    const at = regions(w, CHUNK), bt = at + CHUNK * 4;
    const f32 = w.f32;
    const full = mode === 2 ? b : a;
    const scalar = mode === 1 ? b[0]! : mode === 2 ? a[0]! : 0;
    let check = nanMarksRequested(), zeroCheck = check;
    for (let i = 0; i < n; i += CHUNK) {
      const len = Math.min(CHUNK, n - i);
      copyIn(f32, full, i, len, at >> 2);
      if (mode === 0) copyIn(f32, b, i, len, bt >> 2);
      w.exports.binaryF32(code, at, bt, at, len, mode, scalar);
      if (check && w.exports.anyNaNF32(at, len) !== 0) check = false;
      if (zeroCheck && w.exports.anyZeroF32(at, len) !== 0) zeroCheck = false;
      copyOut(f32, at >> 2, len, o, i);
    }
    if (check) markNaNFree(o);
    if (zeroCheck) markZeroFree(o);
  };
}

/** A fused-gradient wrapper for fusedGradF32's op `code`: o = g(x, ct). */
export function fusedVia(code: number, min: number, js: FusedGradKernel): FusedGradKernel {
  return (x, ct, o) => {
    const w = wasmFor(min, o, x, ct);
    if (w === null) return js(x, ct, o);
    const n = o.length;
    const at = regions(w, CHUNK), bt = at + CHUNK * 4;
    const f32 = w.f32;
    let check = nanMarksRequested(), zeroCheck = check;
    for (let i = 0; i < n; i += CHUNK) {
      const len = Math.min(CHUNK, n - i);
      copyIn(f32, x, i, len, at >> 2);
      copyIn(f32, ct, i, len, bt >> 2);
      w.exports.fusedGradF32(code, at, bt, at, len);
      if (check && w.exports.anyNaNF32(at, len) !== 0) check = false;
      if (zeroCheck && w.exports.anyZeroF32(at, len) !== 0) zeroCheck = false;
      copyOut(f32, at >> 2, len, o, i);
    }
    if (check) markNaNFree(o);
    if (zeroCheck) markZeroFree(o);
  };
}

/**
 * A wrapper for saturatingGradF32's op `code` (0 tanh, 1 sigmoid): o = g(x, y, ct) with y the op's output. x is
 * copied into wasm memory only for chunks where some output is past the saturation point (see asm/elementwise.ts).
 */
export function saturatingVia(code: number, min: number, js: SaturatingGradKernel): SaturatingGradKernel {
  return (x, y, ct, o) => {
    const w = wasmFor(min, o, x, y);
    if (w === null || !(ct instanceof Float32Array)) return js(x, y, ct, o);
    const n = o.length;
    const yt = regions(w, CHUNK, 4), ctt = yt + CHUNK * 4, xt = ctt + CHUNK * 4, dt = xt + CHUNK * 4;
    const f32 = w.f32;
    let check = nanMarksRequested(), zeroCheck = check;
    for (let i = 0; i < n; i += CHUNK) {
      const len = Math.min(CHUNK, n - i);
      copyIn(f32, y, i, len, yt >> 2);
      copyIn(f32, ct, i, len, ctt >> 2);
      if (w.exports.saturatingGradF32(code, yt, ctt, dt, len) !== 0) {
        copyIn(f32, x, i, len, xt >> 2);
        w.exports.saturatingFixF32(code, xt, yt, ctt, dt, len);
      }
      if (check && w.exports.anyNaNF32(dt, len) !== 0) check = false;
      if (zeroCheck && w.exports.anyZeroF32(dt, len) !== 0) zeroCheck = false;
      copyOut(f32, dt >> 2, len, o, i);
    }
    if (check) markNaNFree(o);
    if (zeroCheck) markZeroFree(o);
  };
}

/**
 * The Adam/AdamW update (KernelTable.adamUpdate) on float32 p, g, m, v in wasm, in float64 with the js
 * kernel's operation order: bit-identical results. Other dtypes and short arrays run `js`.
 */
export function adamVia(min: number, js: KernelTable["adamUpdate"]): KernelTable["adamUpdate"] {
  return (p, g, m, v, lr, beta1, beta2, eps, weightDecay, decoupled, t) => {
    const w = v instanceof Float32Array ? wasmFor(min, p, g, m) : null;
    if (w === null) return js(p, g, m, v, lr, beta1, beta2, eps, weightDecay, decoupled, t);
    // The scalars exactly as src/kernels/optim.ts computes them.
    const stepSize = lr / (1 - Math.pow(beta1, t));
    const bc2Sqrt = Math.sqrt(1 - Math.pow(beta2, t));
    const shrink = decoupled ? 1 - lr * weightDecay : 1;
    const l2 = decoupled ? 0 : weightDecay;
    const n = p.length;
    const at = reserve(w, 4 * CHUNK * 4);
    const f32 = w.f32;
    const [pa, ga, ma, va] = [at, at + CHUNK * 4, at + 2 * CHUNK * 4, at + 3 * CHUNK * 4];
    for (let i = 0; i < n; i += CHUNK) {
      const len = Math.min(CHUNK, n - i);
      copyIn(f32, p, i, len, pa >> 2);
      copyIn(f32, g, i, len, ga >> 2);
      copyIn(f32, m, i, len, ma >> 2);
      copyIn(f32, v, i, len, va >> 2);
      w.exports.adamF32(pa, ga, ma, va, len, stepSize, bc2Sqrt, shrink, l2, beta1, 1 - beta1, beta2, 1 - beta2, eps);
      copyOut(f32, pa >> 2, len, p, i);
      copyOut(f32, ma >> 2, len, m, i);
      copyOut(f32, va >> 2, len, v, i);
    }
  };
}

/**
 * Softmax cross-entropy per row (KernelTable.softmaxCrossEntropyRows) of float32 logits and targets in wasm:
 * the js kernel's definition, with exp and log in float64 from vmath (within 1 ulp of the js results after
 * rounding to float32). Whole rows are copied a chunk at a time. Other dtypes and small inputs run `js`.
 */
export function softmaxCrossEntropyVia(min: number, js: KernelTable["softmaxCrossEntropyRows"]): KernelTable["softmaxCrossEntropyRows"] {
  return (x, t, rows, classes, out) => {
    const w = out instanceof Float32Array && classes > 0 ? wasmFor(min, x, x, t) : null;
    if (w === null) return js(x, t, rows, classes, out);
    const per = Math.max(1, Math.floor(2 * CHUNK / classes));
    const at = reserve(w, (2 * per * classes + per + 8) * 4);
    if (at < 0) return js(x, t, rows, classes, out);
    const tt = at + per * classes * 4, ot = tt + per * classes * 4;
    const f32 = w.f32;
    for (let r = 0; r < rows; r += per) {
      const count = Math.min(per, rows - r);
      copyIn(f32, x, r * classes, count * classes, at >> 2);
      copyIn(f32, t, r * classes, count * classes, tt >> 2);
      w.exports.softmaxXentF32(at, tt, count, classes, ot);
      copyOut(f32, ot >> 2, count, out, r);
    }
  };
}
