import type { TypedArray } from "../core/dtype.js";
import type { UnaryKernel } from "./unary.js";
import type { BinaryKernel } from "./binary.js";

// Elementwise math beyond the core set: rounding, base-2/base-10 logarithms and powers, inverse
// trigonometric and hyperbolic functions (all through JavaScript's Math, correctly rounded or within
// an ulp in V8), and the floored remainder. One loop per op so V8 compiles each on its own.

/** Round half to even (banker's rounding, IEEE 754 roundTiesToEven), as PyTorch's and NumPy's round. */
function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  let r: number;
  if (d < 0.5) r = f;
  else if (d > 0.5) r = f + 1;
  else r = f % 2 === 0 ? f : f + 1;
  // Keep the sign of zero: round(−0.4) and round(−0.5) are −0, as in IEEE 754.
  return r === 0 && (v < 0 || Object.is(v, -0)) ? -0 : r;
}

export const mathKernels = {
  round: (a, o) => { for (let i = 0; i < o.length; i++) o[i] = roundHalfEven(a[i]!); },
  floor: (a, o) => { for (let i = 0; i < o.length; i++) o[i] = Math.floor(a[i]!); },
  ceil: (a, o) => { for (let i = 0; i < o.length; i++) o[i] = Math.ceil(a[i]!); },
  trunc: (a, o) => { for (let i = 0; i < o.length; i++) o[i] = Math.trunc(a[i]!); },
  log2: (a, o) => { for (let i = 0; i < o.length; i++) o[i] = Math.log2(a[i]!); },
  log10: (a, o) => { for (let i = 0; i < o.length; i++) o[i] = Math.log10(a[i]!); },
  exp2: (a, o) => { for (let i = 0; i < o.length; i++) o[i] = Math.pow(2, a[i]!); },
  asin: (a, o) => { for (let i = 0; i < o.length; i++) o[i] = Math.asin(a[i]!); },
  acos: (a, o) => { for (let i = 0; i < o.length; i++) o[i] = Math.acos(a[i]!); },
  atan: (a, o) => { for (let i = 0; i < o.length; i++) o[i] = Math.atan(a[i]!); },
  sinh: (a, o) => { for (let i = 0; i < o.length; i++) o[i] = Math.sinh(a[i]!); },
  cosh: (a, o) => { for (let i = 0; i < o.length; i++) o[i] = Math.cosh(a[i]!); },
  asinh: (a, o) => { for (let i = 0; i < o.length; i++) o[i] = Math.asinh(a[i]!); },
  acosh: (a, o) => { for (let i = 0; i < o.length; i++) o[i] = Math.acosh(a[i]!); },
  atanh: (a, o) => { for (let i = 0; i < o.length; i++) o[i] = Math.atanh(a[i]!); },
} satisfies Record<string, UnaryKernel>;

/** The floored remainder a − b·⌊a/b⌋ (sign of the divisor), computed exactly from `%` as Python's and PyTorch's. */
function floorMod(x: number, y: number): number {
  const r = x % y;
  return r !== 0 && r < 0 !== y < 0 ? r + y : r;
}

/** o = remainder(a, b) with the operands lined up by `mode` (see BinaryKernel). */
export const remainderKernel: BinaryKernel = (a, b, o, mode) => {
  const n = o.length;
  if (mode === 0) for (let i = 0; i < n; i++) o[i] = floorMod(a[i]!, b[i]!);
  else if (mode === 1) { const s = b[0]!; for (let i = 0; i < n; i++) o[i] = floorMod(a[i]!, s); }
  else { const s = a[0]!; for (let i = 0; i < n; i++) o[i] = floorMod(s, b[i]!); }
};

/** log(eᵃ + eᵇ) without overflow; −∞ when both are −∞. */
function logAddExp(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const m = a > b ? a : b;
  return m + Math.log1p(Math.exp(-Math.abs(a - b)));
}

/**
 * Inclusive scans along the middle axis of `src` viewed as [outer, n, inner]: dst[o, j, i] = the sum,
 * product or log-sum-exp of src[o, 0..j, i] (of src[o, j..n−1, i] when `reverse`). dst has src's length.
 */
export function scanInto(src: TypedArray, outer: number, n: number, inner: number, kind: "sum" | "prod" | "logsumexp", reverse: boolean, dst: TypedArray): void {
  for (let o = 0; o < outer; o++) {
    const base = o * n * inner;
    for (let i = 0; i < inner; i++) {
      let acc = kind === "sum" ? 0 : kind === "prod" ? 1 : -Infinity;
      for (let s = 0; s < n; s++) {
        const j = reverse ? n - 1 - s : s;
        const at = base + j * inner + i;
        const v = src[at]!;
        acc = kind === "sum" ? acc + v : kind === "prod" ? acc * v : logAddExp(acc, v);
        dst[at] = acc;
      }
    }
  }
}

/**
 * For each contiguous row of length m, the indices that sort it (stable: equal values keep their order).
 * NaN sorts as the largest value, as PyTorch and NumPy: last ascending, first descending.
 */
export function argsortRows(src: TypedArray, rows: number, m: number, descending: boolean, dst: Int32Array): void {
  const idx = new Array<number>(m);
  for (let r = 0; r < rows; r++) {
    const base = r * m;
    for (let i = 0; i < m; i++) idx[i] = i;
    const cmp = (i: number, j: number): number => {
      const a = src[base + i]!, b = src[base + j]!;
      const an = a !== a, bn = b !== b;
      let c: number;
      if (an || bn) c = an === bn ? 0 : an ? 1 : -1;
      else c = a < b ? -1 : a > b ? 1 : 0;
      if (descending) c = -c;
      return c !== 0 ? c : i - j; // explicit tie-break keeps the sort stable whatever the engine does
    };
    idx.sort(cmp);
    for (let i = 0; i < m; i++) dst[base + i] = idx[i]!;
  }
}

/**
 * RMSprop in place, as PyTorch's `RMSprop` (Hinton's lecture 6e form): g ← g + wd·p;
 * v ← α·v + (1−α)·g²; with `centered`, gAvg ← α·gAvg + (1−α)·g and the denominator is √(v − gAvg²) + ε,
 * else √v + ε; with momentum μ > 0, buf ← μ·buf + g/denominator and p ← p − lr·buf, else p ← p − lr·g/denominator.
 * `gAvg` is null unless centered, `buf` null unless momentum > 0.
 */
export function rmspropUpdate(
  p: TypedArray, g: TypedArray, v: TypedArray, gAvg: TypedArray | null, buf: TypedArray | null,
  lr: number, alpha: number, eps: number, weightDecay: number, momentum: number,
): void {
  for (let i = 0; i < p.length; i++) {
    const pi = p[i]!;
    const gi = g[i]! + weightDecay * pi;
    const vi = alpha * v[i]! + (1 - alpha) * gi * gi;
    v[i] = vi;
    let avg = vi;
    if (gAvg !== null) {
      const m = alpha * gAvg[i]! + (1 - alpha) * gi;
      gAvg[i] = m;
      avg = vi - m * m;
    }
    const den = Math.sqrt(avg) + eps;
    if (buf !== null) {
      const b = momentum * buf[i]! + gi / den;
      buf[i] = b;
      p[i] = pi - lr * b;
    } else {
      p[i] = pi - (lr * gi) / den;
    }
  }
}

/**
 * Adagrad in place, as PyTorch's `Adagrad` (Duchi, Hazan & Singer 2011), step t ≥ 1: g ← g + wd·p;
 * clr = lr / (1 + (t−1)·lrDecay); sum ← sum + g²; p ← p − clr·g / (√sum + ε).
 */
export function adagradUpdate(p: TypedArray, g: TypedArray, acc: TypedArray, lr: number, lrDecay: number, eps: number, weightDecay: number, t: number): void {
  const clr = lr / (1 + (t - 1) * lrDecay);
  for (let i = 0; i < p.length; i++) {
    const pi = p[i]!;
    const gi = g[i]! + weightDecay * pi;
    const s = acc[i]! + gi * gi;
    acc[i] = s;
    p[i] = pi - (clr * gi) / (Math.sqrt(s) + eps);
  }
}
