import type { TypedArray } from "../core/dtype.js";

/**
 * Softmax cross-entropy of each row: out[r] = Σ_c t[r,c]·(lse(x[r,:]) − x[r,c]), with
 * lse(x) = m + log Σ exp(x − m) and m the row maximum, so no exp overflows. Classes with target 0
 * are skipped, which keeps a −Infinity logit of an absent class from giving 0·∞ = NaN.
 */
export function softmaxCrossEntropyRows(x: TypedArray, t: TypedArray, rows: number, classes: number, out: TypedArray): void {
  for (let r = 0; r < rows; r++) {
    const base = r * classes;
    let m = -Infinity;
    for (let c = 0; c < classes; c++) {
      const v = x[base + c]!;
      if (v > m || v !== v) m = v;
    }
    if (m === -Infinity || m === Infinity) m = 0; // all −∞ (or a +∞) row: no finite shift exists
    let s = 0;
    for (let c = 0; c < classes; c++) s += Math.exp(x[base + c]! - m);
    const lse = m + Math.log(s);
    let loss = 0;
    for (let c = 0; c < classes; c++) {
      const tc = t[base + c]!;
      if (tc !== 0) loss += tc * (lse - x[base + c]!);
    }
    out[r] = loss;
  }
}

/**
 * Logistic loss from logits, max(x, 0) − x·y + log(1 + e^−|x|) (never overflowing), written as
 * (1 − y)·max(x, 0) + y·max(−x, 0) + log(1 + e^−|x|) with a zero coefficient dropping its term: so at an
 * infinite logit the loss is its limit (∞ at (∞, 0), 0 at (∞, 1)) instead of ∞·0 = NaN. NaN propagates.
 */
export function sigmoidCrossEntropy(x: TypedArray, y: TypedArray, out: TypedArray): void {
  for (let i = 0; i < out.length; i++) {
    const v = x[i]!, t = y[i]!, s = 1 - t;
    const pos = v > 0 ? v : 0, neg = v < 0 ? -v : 0;
    out[i] = (s === 0 ? 0 : s * pos) + (t === 0 ? 0 : t * neg) + Math.log1p(Math.exp(-Math.abs(v)));
  }
}
