import type { TypedArray } from "../core/dtype.js";

// Optimizer updates as single fused loops over a parameter's storage, done in place on fresh copies
// (the caller copies, so tensors stay immutable). Arithmetic is in float64 (JS numbers); results are
// stored in the parameter's dtype.

/**
 * SGD with optional L2 weight decay and (Nesterov) momentum, as PyTorch's `SGD` with dampening 0:
 * g ← g + wd·p; buf ← μ·buf + g; g ← g + μ·buf (Nesterov) or buf; p ← p − lr·g.
 * `buf` is null when momentum is 0.
 */
export function sgdUpdate(p: TypedArray, g: TypedArray, buf: TypedArray | null, lr: number, momentum: number, nesterov: boolean, weightDecay: number): void {
  for (let i = 0; i < p.length; i++) {
    const pi = p[i]!;
    let gi = g[i]! + weightDecay * pi;
    if (buf !== null) {
      const b = momentum * buf[i]! + gi;
      buf[i] = b;
      gi = nesterov ? gi + momentum * b : b;
    }
    p[i] = pi - lr * gi;
  }
}

/**
 * Adam (Kingma & Ba 2015) in PyTorch's form, step t ≥ 1:
 * m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²; p ← p − (lr / (1−β₁ᵗ))·m / (√v / √(1−β₂ᵗ) + ε).
 * Weight decay is L2 (added to g) for Adam, or decoupled (p ← p·(1 − lr·wd) first) for AdamW
 * (Loshchilov & Hutter 2019).
 */
export function adamUpdate(
  p: TypedArray, g: TypedArray, m: TypedArray, v: TypedArray,
  lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, decoupled: boolean, t: number,
): void {
  const stepSize = lr / (1 - Math.pow(beta1, t));
  const bc2Sqrt = Math.sqrt(1 - Math.pow(beta2, t));
  const shrink = decoupled ? 1 - lr * weightDecay : 1;
  const l2 = decoupled ? 0 : weightDecay;
  for (let i = 0; i < p.length; i++) {
    const pi = p[i]! * shrink;
    const gi = g[i]! + l2 * p[i]!;
    const mi = beta1 * m[i]! + (1 - beta1) * gi;
    const vi = beta2 * v[i]! + (1 - beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = pi - (stepSize * mi) / (Math.sqrt(vi) / bc2Sqrt + eps);
  }
}
