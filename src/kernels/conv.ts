import type { TypedArray } from "../core/dtype.js";

/** Geometry of a sliding 2-D window over an NCHW batch. */
export interface WindowGeometry {
  readonly n: number;
  readonly c: number;
  readonly h: number;
  readonly w: number;
  readonly kh: number;
  readonly kw: number;
  readonly sh: number;
  readonly sw: number;
  readonly ph: number;
  readonly pw: number;
  readonly oh: number;
  readonly ow: number;
}

/**
 * im2col: copies every kh×kw window of `x` (NCHW) into `cols`, laid out [C, kh, kw, N, OH, OW] so that
 * the [C·kh·kw, N·OH·OW] matrix a convolution multiplies needs no further copy. Positions in the padding
 * read `padValue` (0 for convolution, −∞ for max pooling).
 */
export function im2colInto(x: TypedArray, g: WindowGeometry, padValue: number, cols: TypedArray): void {
  const { n, c, h, w, kh, kw, sh, sw, ph, pw, oh, ow } = g;
  let o = 0;
  for (let ci = 0; ci < c; ci++) {
    for (let ki = 0; ki < kh; ki++) {
      for (let kj = 0; kj < kw; kj++) {
        // Output columns ow with 0 ≤ ow·sw − pw + kj < w: a contiguous range [lo, hi).
        const lo = Math.min(ow, Math.max(0, Math.ceil((pw - kj) / sw)));
        const hi = Math.max(lo, Math.min(ow, Math.floor((w - 1 + pw - kj) / sw) + 1));
        for (let ni = 0; ni < n; ni++) {
          const plane = (ni * c + ci) * h * w;
          for (let r = 0; r < oh; r++, o += ow) {
            const ih = r * sh - ph + ki;
            if (ih < 0 || ih >= h) {
              cols.fill(padValue, o, o + ow);
              continue;
            }
            if (lo > 0) cols.fill(padValue, o, o + lo);
            if (hi < ow) cols.fill(padValue, o + hi, o + ow);
            const src = plane + ih * w - pw + kj;
            if (sw === 1) cols.set(x.subarray(src + lo, src + hi), o + lo);
            else for (let q = lo; q < hi; q++) cols[o + q] = x[src + q * sw]!;
          }
        }
      }
    }
  }
}

/**
 * col2im, the transpose of `im2colInto`: adds each window entry of `cols` ([C, kh, kw, N, OH, OW]) back
 * into the image position it was read from; entries that came from the padding are dropped.
 * `x` must be zeroed by the caller.
 */
export function col2imInto(cols: TypedArray, g: WindowGeometry, x: TypedArray): void {
  const { n, c, h, w, kh, kw, sh, sw, ph, pw, oh, ow } = g;
  let o = 0;
  for (let ci = 0; ci < c; ci++) {
    for (let ki = 0; ki < kh; ki++) {
      for (let kj = 0; kj < kw; kj++) {
        const lo = Math.min(ow, Math.max(0, Math.ceil((pw - kj) / sw)));
        const hi = Math.max(lo, Math.min(ow, Math.floor((w - 1 + pw - kj) / sw) + 1));
        for (let ni = 0; ni < n; ni++) {
          const plane = (ni * c + ci) * h * w;
          for (let r = 0; r < oh; r++, o += ow) {
            const ih = r * sh - ph + ki;
            if (ih < 0 || ih >= h) continue;
            const dst = plane + ih * w - pw + kj;
            for (let q = lo; q < hi; q++) x[dst + q * sw] = x[dst + q * sw]! + cols[o + q]!;
          }
        }
      }
    }
  }
}
