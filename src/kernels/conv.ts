// The js sliding-window kernels: im2col/col2im, the three convolution drivers (im2col + one GEMM per chunk
// of images, the GEMM being the active backend's) and max pooling by argmax. They are the KernelTable's `conv`
// group on the js backend and the fallback of the others (src/kernels/wasm/conv.ts does the same in wasm).
// Exported as function declarations: js-backend.ts reads them while this module's imports may still be
// evaluating (matmul.ts → registry.ts → js-backend.ts → here), and only declarations exist by then.
import type { TypedArray } from "../core/dtype.js";
import { gemm } from "./matmul.js";

/**
 * Geometry of a sliding 2-D window over an NCHW batch: n images of c planes h×w, a kh×kw window moved by
 * (sh, sw) over the input padded by (ph, pw) on each side, giving oh×ow positions per plane
 * (oh = ⌊(h + 2·ph − kh)/sh⌋ + 1, the same for ow).
 */
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
            // Rows are short (OW ≈ 10–30): a plain loop beats subarray + set, which allocate a view each time.
            if (sw === 1) for (let q = lo; q < hi; q++) cols[o + q] = x[src + q]!;
            else for (let q = lo; q < hi; q++) cols[o + q] = x[src + q * sw]!;
          }
        }
      }
    }
  }
}

/**
 * col2im, the transpose of `im2colInto`: adds each window entry of `cols` ([C, kh, kw, N, OH, OW]) into
 * the image position of `x` (NCHW) it was read from; entries that came from the padding are dropped.
 * Adds to what `x` holds: pass zeros for col2im proper (the table's `conv.col2im` zeroes first).
 */
export function col2imAddInto(cols: TypedArray, g: WindowGeometry, x: TypedArray): void {
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

/**
 * col2im, the transpose of `im2colInto`: `x` (NCHW, overwritten) = the sum, for each image position, of the
 * window entries of `cols` ([C, kh, kw, N, OH, OW]) read from it; padding entries are dropped.
 */
export function col2imInto(cols: TypedArray, g: WindowGeometry, x: TypedArray): void {
  x.fill(0);
  col2imAddInto(cols, g, x);
}

/** A zeroed array of `x`'s type (Float32Array or Float64Array) and length `n`. */
function like(x: TypedArray, n: number): TypedArray {
  return x instanceof Float64Array ? new Float64Array(n) : x instanceof Int32Array ? new Int32Array(n) : x instanceof Uint8Array ? new Uint8Array(n) : new Float32Array(n);
}

/**
 * How many images to im2col at once: enough columns for one big product, few enough to stay near 1M values.
 * The wasm drivers use the same chunks, so that both hand the GEMM the same products (the same sums).
 */
export function chunkSize(g: WindowGeometry): number {
  return Math.max(1, Math.min(g.n, Math.floor(1_048_576 / (g.c * g.kh * g.kw * g.oh * g.ow))));
}

/** A geometry for `count` images starting at image `n0` (the kernels address x by image offset). */
function part(g: WindowGeometry, count: number): WindowGeometry {
  return { ...g, n: count };
}

/**
 * y[N, O, OH, OW] = conv(x[N, C, H, W], w[O, C, kh, kw]) (cross-correlation, as PyTorch's conv2d) + bias[O]
 * when given, by im2col + one product per chunk of images: tmp[O, nb·P] = W[O, C·kh·kw] · cols[C·kh·kw, nb·P]
 * with the active backend's GEMM, then each image's [O, P] block is copied into y, adding the bias on the way
 * (the sums a separate broadcast add would make). All arrays of one float type.
 */
export function conv2dForwardInto(x: TypedArray, w: TypedArray, bias: TypedArray | null, g: WindowGeometry, o: number, y: TypedArray): void {
  const ckk = g.c * g.kh * g.kw, p = g.oh * g.ow, img = g.c * g.h * g.w;
  const chunk = chunkSize(g);
  const cols = like(x, ckk * chunk * p);
  const tmp = like(x, o * chunk * p);
  for (let n0 = 0; n0 < g.n; n0 += chunk) {
    const nb = Math.min(chunk, g.n - n0);
    im2colInto(x.subarray(n0 * img), part(g, nb), 0, cols);
    gemm(o, nb * p, ckk, { data: w, offset: 0, rowStride: ckk, colStride: 1 }, { data: cols, offset: 0, rowStride: nb * p, colStride: 1 }, tmp, 0, nb * p, false);
    for (let i = 0; i < nb; i++) for (let oc = 0; oc < o; oc++) {
      const src = oc * nb * p + i * p, dst = ((n0 + i) * o + oc) * p;
      if (bias === null) for (let q = 0; q < p; q++) y[dst + q] = tmp[src + q]!;
      else for (let q = 0, b = bias[oc]!; q < p; q++) y[dst + q] = tmp[src + q]! + b;
    }
  }
}

/** Copies ct[n0:n0+nb, O, P] into tmp[O, nb·P] (the column layout of a chunk). */
function gatherChunk(ct: TypedArray, n0: number, nb: number, o: number, p: number, tmp: TypedArray): void {
  for (let i = 0; i < nb; i++) for (let oc = 0; oc < o; oc++) {
    const src = ((n0 + i) * o + oc) * p, dst = oc * nb * p + i * p;
    for (let q = 0; q < p; q++) tmp[dst + q] = ct[src + q]!;
  }
}

/**
 * dx[N, C, H, W] = convᵀ(ct[N, O, OH, OW], w[O, C, kh, kw]), the input gradient: per chunk,
 * dcols = Wᵀ · ct (Wᵀ read through swapped strides), then col2im adds the columns back into the images.
 * `dx` is overwritten.
 */
export function conv2dInputGradInto(ct: TypedArray, w: TypedArray, g: WindowGeometry, o: number, dx: TypedArray): void {
  const ckk = g.c * g.kh * g.kw, p = g.oh * g.ow, img = g.c * g.h * g.w;
  const chunk = chunkSize(g);
  const cols = like(ct, ckk * chunk * p);
  const tmp = like(ct, o * chunk * p);
  dx.fill(0);
  for (let n0 = 0; n0 < g.n; n0 += chunk) {
    const nb = Math.min(chunk, g.n - n0);
    gatherChunk(ct, n0, nb, o, p, tmp);
    gemm(ckk, nb * p, o, { data: w, offset: 0, rowStride: 1, colStride: ckk }, { data: tmp, offset: 0, rowStride: nb * p, colStride: 1 }, cols, 0, nb * p, false);
    col2imAddInto(cols, part(g, nb), dx.subarray(n0 * img));
  }
}

/**
 * dw[O, C, kh, kw] = Σ over images of ct[n] · cols[n]ᵀ, the weight gradient of conv(x, w) for the output
 * cotangent ct[N, O, OH, OW]: per chunk, one product of [O, nb·P] by the transposed [C·kh·kw, nb·P] columns
 * (read through swapped strides), accumulated. `dw` is overwritten.
 */
export function conv2dWeightGradInto(x: TypedArray, ct: TypedArray, g: WindowGeometry, o: number, dw: TypedArray): void {
  const ckk = g.c * g.kh * g.kw, p = g.oh * g.ow, img = g.c * g.h * g.w;
  const chunk = chunkSize(g);
  const cols = like(x, ckk * chunk * p);
  const tmp = like(x, o * chunk * p);
  dw.fill(0);
  for (let n0 = 0; n0 < g.n; n0 += chunk) {
    const nb = Math.min(chunk, g.n - n0);
    im2colInto(x.subarray(n0 * img), part(g, nb), 0, cols);
    gatherChunk(ct, n0, nb, o, p, tmp);
    gemm(o, ckk, nb * p, { data: tmp, offset: 0, rowStride: nb * p, colStride: 1 }, { data: cols, offset: 0, rowStride: 1, colStride: nb * p }, dw, 0, ckk, true);
  }
}

/**
 * For each output of a max pool over x (NCHW), the flat index in x of its window's maximum (the first one
 * on ties; NaN wins, so it propagates). Padding never wins: windows only visit in-bounds positions.
 * `out` has N·C·OH·OW entries, in NCHW order.
 */
export function maxPoolArgmax(x: TypedArray, g: WindowGeometry, out: Int32Array): void {
  let k = 0;
  for (let plane = 0; plane < g.n * g.c; plane++) {
    const base = plane * g.h * g.w;
    for (let r = 0; r < g.oh; r++) {
      const i0 = Math.max(0, r * g.sh - g.ph), i1 = Math.min(g.h, r * g.sh - g.ph + g.kh);
      for (let q = 0; q < g.ow; q++, k++) {
        const j0 = Math.max(0, q * g.sw - g.pw), j1 = Math.min(g.w, q * g.sw - g.pw + g.kw);
        let best = base + i0 * g.w + j0;
        let bv = x[best]!;
        for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) {
          const idx = base + i * g.w + j;
          const v = x[idx]!;
          if (v > bv || (v !== v && bv === bv)) { bv = v; best = idx; }
        }
        out[k] = best;
      }
    }
  }
}

/**
 * out[N, C, OH, OW] = y at the max-pool argmax of x (`maxPoolArgmax`): the pool itself when y is x, its
 * tangent (forward mode) or the transpose of `maxPoolScatterInto` otherwise. x and y have x's shape.
 */
export function maxPoolGatherInto(x: TypedArray, y: TypedArray, g: WindowGeometry, out: TypedArray): void {
  const idx = new Int32Array(out.length);
  maxPoolArgmax(x, g, idx);
  for (let i = 0; i < idx.length; i++) out[i] = y[idx[i]!]!;
}

/**
 * out (x's shape, overwritten) = ct[N, C, OH, OW] added into the max-pool argmax positions of x: the
 * pool's VJP. Contributions to one position are added in output order.
 */
export function maxPoolScatterInto(x: TypedArray, ct: TypedArray, g: WindowGeometry, out: TypedArray): void {
  const idx = new Int32Array(ct.length);
  maxPoolArgmax(x, g, idx);
  out.fill(0);
  for (let i = 0; i < idx.length; i++) out[idx[i]!] += ct[i]!;
}
