import type { TypedArray } from "../core/dtype.js";

/** `o[i] = f(x[i], ct[i])`: a unary op's cotangent from its saved input or output `x` and the upstream `ct`. */
export type FusedGradKernel = (x: TypedArray, ct: TypedArray, o: TypedArray) => void;

/**
 * `o[i] = f(x[i], y[i], ct[i])` for a saturating op y = f(x) (tanh, sigmoid): the cotangent from the cheap
 * formula in the output y where that is accurate, and from the input x where y is too close to ±1 (or 1)
 * for 1 − y to keep its digits.
 */
export type SaturatingGradKernel = (x: TypedArray, y: TypedArray, ct: TypedArray, o: TypedArray) => void;

/**
 * Where the output-based derivatives switch to the input-based ones: |tanh x| or σ(x) above this.
 * Why: y is rounded (relative error u), so 1 − y² carries a relative error of about 2y²/(1 − y²)·u and
 * y·(1 − y) one of y/(1 − y)·u: below 0.97 that is under 32u; above it the error grows without bound, to a
 * derivative of exactly 0 once y rounds to 1 (|x| ≈ 9 in float32, 19 in float64), where the true one is tiny
 * but not 0. The input-based formulas cost an exp, so they run only there (|x| > 2.09 for tanh, x > 3.48 for σ).
 */
export const SATURATION = Math.fround(0.97); // a float32 value, so the wasm kernels' float32 test decides alike

/** sech²(x) = 4t/(1 + t)² with t = e^(−2|x|): no overflow, relative error of a few ulp for every x. */
export function sech2(x: number): number {
  const t = Math.exp(-2 * Math.abs(x));
  const d = 1 + t;
  return (4 * t) / (d * d);
}

/** σ'(x) = σ(x)·σ(−x) = s/(1 + s)² with s = e^(−|x|) (even in x): no overflow, a few ulp for every x. */
export function sigmoidSlope(x: number): number {
  const s = Math.exp(-Math.abs(x));
  const d = 1 + s;
  return s / (d * d);
}

/**
 * Backward kernels of the saturating activations. tanh: ct·(1 − y²) while |y| ≤ SATURATION, else ct·sech²(x).
 * sigmoid: ct·y·(1 − y) while y ≤ SATURATION, else ct·σ'(x). (Near y = 0 the sigmoid product keeps y's full
 * relative precision, so only the upper end needs x.)
 */
export const saturatingGradKernels = {
  tanhGrad: (x, y, ct, o) => {
    for (let i = 0; i < o.length; i++) {
      const v = y[i]!;
      o[i] = Math.abs(v) <= SATURATION ? ct[i]! * (1 - v * v) : ct[i]! * sech2(x[i]!);
    }
  },
  sigmoidGrad: (x, y, ct, o) => {
    for (let i = 0; i < o.length; i++) {
      const v = y[i]!;
      o[i] = v <= SATURATION ? ct[i]! * v * (1 - v) : ct[i]! * sigmoidSlope(x[i]!);
    }
  },
} satisfies Record<string, SaturatingGradKernel>;

/**
 * Backward kernels that compute a unary op's cotangent in one pass instead of three or four
 * elementwise ops (each allocating a full array). `o` has the shape of both inputs.
 */
export const fusedGradKernels = {
  /** 0 where x ≤ 0, else ct (relu'(0) = 0; relu'(NaN) = 1, as PyTorch's threshold_backward). */
  reluGrad: (x, ct, o) => {
    for (let i = 0; i < o.length; i++) o[i] = x[i]! <= 0 ? 0 : ct[i]!;
  },
  /** 2 · x · ct. */
  squareGrad: (x, ct, o) => {
    for (let i = 0; i < o.length; i++) o[i] = 2 * x[i]! * ct[i]!;
  },
} satisfies Record<string, FusedGradKernel>;
