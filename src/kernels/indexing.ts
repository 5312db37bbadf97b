import type { TypedArray } from "../core/dtype.js";
import type { Shape } from "../core/shape.js";
import { sizeOf, stridesOf } from "../core/shape.js";

/**
 * Visits a strided window of a row-major array of shape `big`: the window has shape `win` and element
 * `i` (a multi-index) sits at `start + i·step` in `big`. Calls `f(k, offset)` with the window's flat
 * index k and the element's flat offset in `big`. Steps may be negative.
 */
function forEachStrided(big: Shape, start: readonly number[], step: readonly number[], win: Shape, f: (k: number, off: number) => void): void {
  const n = sizeOf(win);
  if (n === 0) return;
  const rank = win.length;
  if (rank === 0) { f(0, 0); return; }
  const strides = stridesOf(big);
  const jump = strides.map((s, d) => s * step[d]!);
  let off = 0;
  for (let d = 0; d < rank; d++) off += start[d]! * strides[d]!;
  const idx = new Array<number>(rank).fill(0);
  const inner = win[rank - 1]!;
  const innerJump = jump[rank - 1]!;
  for (let k = 0; k < n; k += inner) {
    for (let j = 0; j < inner; j++) f(k + j, off + j * innerJump);
    for (let d = rank - 2; d >= 0; d--) {
      idx[d]!++;
      off += jump[d]!;
      if (idx[d]! < win[d]!) break;
      off -= jump[d]! * win[d]!;
      idx[d] = 0;
    }
  }
}

/** dst (shape `win`) = the strided window of src (shape `big`). */
export function sliceInto(src: TypedArray, big: Shape, start: readonly number[], step: readonly number[], win: Shape, dst: TypedArray): void {
  forEachStrided(big, start, step, win, (k, off) => { dst[k] = src[off]!; });
}

/** Writes src (shape `win`) into the strided window of dst (shape `big`); the rest of dst is untouched. */
export function embedInto(src: TypedArray, big: Shape, start: readonly number[], step: readonly number[], win: Shape, dst: TypedArray): void {
  forEachStrided(big, start, step, win, (k, off) => { dst[off] = src[k]!; });
}

/** Concatenates row-major blocks along `axis`: each source contributes shape[axis]·inner contiguous elements per outer index. */
export function concatInto(srcs: readonly TypedArray[], shapes: readonly Shape[], axis: number, dst: TypedArray): void {
  const outer = sizeOf(shapes[0]!.slice(0, axis));
  const runs = shapes.map((s) => sizeOf(s.slice(axis)));
  let o = 0;
  for (let i = 0; i < outer; i++) {
    for (let s = 0; s < srcs.length; s++) {
      const run = runs[s]!;
      if (run === 0) continue;
      dst.set(srcs[s]!.subarray(i * run, (i + 1) * run), o);
      o += run;
    }
  }
}

/**
 * Gather along an axis: src viewed as [outer, n, inner], idx (already in [0, n)) of length K,
 * dst as [outer, K, inner].
 */
export function gatherInto(src: TypedArray, outer: number, n: number, inner: number, idx: Int32Array, dst: TypedArray): void {
  const K = idx.length;
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < K; k++) {
      const from = (o * n + idx[k]!) * inner;
      const to = (o * K + k) * inner;
      if (inner === 1) dst[to] = src[from]!;
      else dst.set(src.subarray(from, from + inner), to);
    }
  }
}

/** The transpose of `gatherInto`: adds upd ([outer, K, inner]) into dst ([outer, n, inner]) at rows idx; repeated indices accumulate. */
export function scatterAddInto(upd: TypedArray, outer: number, n: number, inner: number, idx: Int32Array, dst: TypedArray): void {
  const K = idx.length;
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < K; k++) {
      const to = (o * n + idx[k]!) * inner;
      const from = (o * K + k) * inner;
      for (let j = 0; j < inner; j++) dst[to + j] = dst[to + j]! + upd[from + j]!;
    }
  }
}

/**
 * Index of the largest ("max") or smallest ("min") element of each contiguous row of length m;
 * the first occurrence wins ties, and the first NaN wins over everything (as NumPy).
 */
export function argReduceRows(src: TypedArray, rows: number, m: number, kind: "max" | "min", dst: Int32Array): void {
  for (let r = 0; r < rows; r++) {
    const base = r * m;
    let best = 0;
    let bv = src[base]!;
    if (bv === bv) {
      for (let k = 1; k < m; k++) {
        const v = src[base + k]!;
        if (v !== v) { best = k; break; }
        if (kind === "max" ? v > bv : v < bv) { best = k; bv = v; }
      }
    }
    dst[r] = best;
  }
}
