import type { TypedArray } from "../core/dtype.js";
import type { Shape } from "../core/shape.js";
import { sizeOf, stridesOf } from "../core/shape.js";

/**
 * Copies `src` (shape `from`) into `dst` (shape `to`), repeating along broadcast dimensions
 * (KernelTable.layout.broadcast). `from` must already be known to broadcast to `to`. Any dtype.
 */
export function broadcastInto(src: TypedArray, from: Shape, dst: TypedArray, to: Shape): void {
  const n = dst.length;
  if (n === 0) return;
  if (src.length === 1) { dst.fill(src[0]!); return; }
  const rank = to.length;
  const offset = rank - from.length;
  const srcStrides = stridesOf(from);
  // Stride of each output dimension in the source: 0 where the source is broadcast.
  const st = new Array<number>(rank).fill(0);
  for (let d = 0; d < from.length; d++) st[d + offset] = from[d] === 1 ? 0 : srcStrides[d]!;
  // Copy the innermost run at a time when it is contiguous in the source.
  const inner = to[rank - 1]!;
  const innerStride = st[rank - 1]!;
  const idx = new Array<number>(rank).fill(0);
  let si = 0;
  for (let o = 0; o < n; o += inner) {
    if (innerStride === 1) dst.set(src.subarray(si, si + inner), o);
    else if (innerStride === 0) dst.fill(src[si]!, o, o + inner);
    else for (let k = 0; k < inner; k++) dst[o + k] = src[si + k * innerStride]!;
    for (let d = rank - 2; d >= 0; d--) {
      idx[d]!++;
      si += st[d]!;
      if (idx[d]! < to[d]!) break;
      si -= st[d]! * to[d]!;
      idx[d] = 0;
    }
  }
}

/** Permutes the axes of a row-major array: output dimension i is input dimension `perm[i]` (KernelTable.layout.transpose). Any dtype. */
export function transposeInto(src: TypedArray, shape: Shape, perm: readonly number[], dst: TypedArray): void {
  const rank = shape.length;
  const n = src.length;
  if (n === 0) return;
  if (rank === 2 && perm[0] === 1) {
    const r = shape[0]!, c = shape[1]!;
    // Blocked so both reads and writes stay within a few cache lines.
    const B = 32;
    for (let i0 = 0; i0 < r; i0 += B)
      for (let j0 = 0; j0 < c; j0 += B) {
        const i1 = Math.min(i0 + B, r), j1 = Math.min(j0 + B, c);
        for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) dst[j * r + i] = src[i * c + j]!;
      }
    return;
  }
  const inStrides = stridesOf(shape);
  const outShape = perm.map((p) => shape[p]!);
  const st = perm.map((p) => inStrides[p]!);
  const idx = new Array<number>(rank).fill(0);
  let si = 0;
  for (let o = 0; o < n; o++) {
    dst[o] = src[si]!;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      si += st[d]!;
      if (idx[d]! < outShape[d]!) break;
      si -= st[d]! * outShape[d]!;
      idx[d] = 0;
    }
  }
}

/**
 * Reduces `src` over the sorted `axes`, writing into `dst` of the kept shape (KernelTable.reduce).
 * Float results accumulate in float64 and are rounded once into a Float32Array; `max`/`min` propagate NaN
 * and keep the first of tied values.
 */
export function reduceInto(src: TypedArray, shape: Shape, axes: readonly number[], dst: TypedArray, kind: "sum" | "max" | "min" | "prod"): void {
  const init = kind === "sum" ? 0 : kind === "prod" ? 1 : kind === "max" ? -Infinity : Infinity;
  dst.fill(init);
  const n = src.length;
  if (n === 0) return;
  const rank = shape.length;
  const reduced = new Array<boolean>(rank).fill(false);
  for (const a of axes) reduced[a] = true;
  // Output strides for each input dimension (0 along reduced dimensions).
  const keptShape = shape.map((d, i) => (reduced[i] ? 1 : d));
  const keptStrides = stridesOf(keptShape);
  const st = shape.map((_, i) => (reduced[i] ? 0 : keptStrides[i]!));
  // Fast path: reducing a trailing block of contiguous axes → each output sums a contiguous run.
  const trailing = axes.every((a, i) => a === rank - axes.length + i);
  if (trailing) {
    const firstReduced = rank - axes.length;
    const run = sizeOf(shape.slice(firstReduced));
    const outer = dst.length;
    for (let o = 0; o < outer; o++) {
      let acc = init;
      const base = o * run;
      if (kind === "sum") for (let k = 0; k < run; k++) acc += src[base + k]!;
      else if (kind === "prod") for (let k = 0; k < run; k++) acc *= src[base + k]!;
      else if (kind === "max") for (let k = 0; k < run; k++) { const v = src[base + k]!; if (v > acc || v !== v) acc = v; }
      else for (let k = 0; k < run; k++) { const v = src[base + k]!; if (v < acc || v !== v) acc = v; }
      dst[o] = acc;
    }
    return;
  }
  // Float32 results accumulate in float64 and are rounded once, as in the trailing case above.
  const acc = dst instanceof Float32Array ? new Float64Array(dst.length).fill(init) : dst;
  const idx = new Array<number>(rank).fill(0);
  let oi = 0;
  for (let i = 0; i < n; i++) {
    const v = src[i]!;
    const cur = acc[oi]!;
    if (kind === "sum") acc[oi] = cur + v;
    else if (kind === "prod") acc[oi] = cur * v;
    else if (kind === "max") { if (v > cur || v !== v) acc[oi] = v; }
    else if (v < cur || v !== v) acc[oi] = v;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      oi += st[d]!;
      if (idx[d]! < shape[d]!) break;
      oi -= st[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
  if (acc !== dst) dst.set(acc);
}
