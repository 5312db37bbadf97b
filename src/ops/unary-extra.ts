import type { Tensor, TensorLike } from "../core/tensor.js";
import type { Primitive } from "../core/primitive.js";
import { elementwise } from "../core/define.js";
import { ValueError } from "../core/errors.js";
import { bind } from "../autodiff/bind.js";
import { unaryImpl } from "./elementwise-impl.js";
import { operand } from "./operands.js";
import { stopGradient, where } from "./select.js";
import { add, exp, expm1, greater, less, lessEqual, mul, neg, notEqual, pow, sigmoid, square, tanh } from "./elementwise.js";

const TWO_OVER_SQRT_PI = 1.1283791670955126;

/** @internal The primitives behind erf and softplus, for the op tables in tests. */
export const extraPrims = {
  erf: elementwise(
    "erf",
    unaryImpl((k) => k.special.erf, true),
    [(x) => mul(TWO_OVER_SQRT_PI, exp(neg(square(x[0]!))))],
    (n) => [`2/√π·exp(-${n[0]}²)`],
  ),
  softplus: elementwise("softplus", unaryImpl((k) => k.special.softplus, true), [(x) => sigmoid(x[0]!)], (n) => [`sigmoid(${n[0]})`]),
} satisfies Record<string, Primitive<null>>;

/**
 * The error function erf(x) = 2/√π ∫₀ˣ e^(−t²) dt, elementwise; derivative 2/√π·e^(−x²).
 * Computed in float64 by W. J. Cody's rational Chebyshev approximations (Math. Comp. 23, 1969),
 * accurate to about 1e-16 relative. Any shape; int/bool inputs give float32.
 */
export function erf(x: TensorLike): Tensor {
  return bind(extraPrims.erf, [operand("erf", x)], null);
}

/**
 * softplus(x) = log(1 + eˣ), elementwise, computed as max(x, 0) + log1p(e^(−|x|)) so it neither
 * overflows nor loses precision; derivative σ(x). Unlike PyTorch's default (which returns x itself
 * for x > 20) this is the exact function everywhere.
 */
export function softplus(x: TensorLike): Tensor {
  return bind(extraPrims.softplus, [operand("softplus", x)], null);
}

/** Options for `gelu`. */
export interface GeluOptions {
  /** "none" (default): the exact x·Φ(x) with the erf form; "tanh": the tanh approximation (both as PyTorch). */
  approximate?: "none" | "tanh";
}

/**
 * Gaussian error linear unit (Hendrycks & Gimpel, 2016), elementwise. The default is the exact form
 * x·Φ(x) = ½x(1 + erf(x/√2)), PyTorch's default; `approximate: "tanh"` gives
 * ½x(1 + tanh(√(2/π)(x + 0.044715x³))). Smooth everywhere; any shape; int inputs give float32.
 * @throws ValueError for an unknown `approximate`
 */
export function gelu(x: TensorLike, options: GeluOptions = {}): Tensor {
  const t = operand("gelu", x);
  const mode = options.approximate ?? "none";
  if (mode === "none") return mul(mul(t, 0.5), add(erf(mul(t, Math.SQRT1_2)), 1));
  if (mode === "tanh") {
    const inner = mul(Math.sqrt(2 / Math.PI), add(t, mul(0.044715, pow(t, 3))));
    return mul(mul(t, 0.5), add(tanh(inner), 1));
  }
  throw new ValueError(`gelu: approximate must be "none" or "tanh", got ${JSON.stringify(mode)}`);
}

/**
 * Leaky ReLU: x for x > 0, alpha·x otherwise, elementwise. Derivative 1 for x > 0 and alpha for x ≤ 0,
 * so the derivative at 0 is alpha (as PyTorch). Default alpha 0.01 is PyTorch's (TensorFlow.js uses 0.2).
 */
export function leakyRelu(x: TensorLike, alpha = 0.01): Tensor {
  const t = operand("leakyRelu", x);
  return where(greater(t, 0), t, mul(t, alpha));
}

/**
 * Exponential linear unit (Clevert et al., 2015): x for x > 0, alpha·(eˣ − 1) otherwise, elementwise.
 * Derivative at 0 is alpha (the left side, as PyTorch); elu(NaN) is NaN with derivative 1 (as PyTorch). The
 * exponential only sees x ≤ 0, so large x cannot produce an infinite intermediate whose gradient would be NaN.
 */
export function elu(x: TensorLike, alpha = 1): Tensor {
  const t = operand("elu", x);
  // Branch on x ≤ 0 rather than x > 0, so that NaN takes the identity branch: elu(NaN) is NaN with derivative 1, as PyTorch.
  const nonPos = lessEqual(t, 0);
  return where(nonPos, mul(expm1(where(nonPos, t, 0)), alpha), t);
}

/**
 * Clamps x to [lo, hi] elementwise: lo where x < lo, hi where x > hi, x otherwise (NaN stays NaN, with
 * gradient 0 to x, lo and hi there, as PyTorch's clamp).
 * The gradient w.r.t. x is 1 on the closed interval lo ≤ x ≤ hi, so 1 at the bounds themselves, as
 * PyTorch's clamp; lo and hi (numbers or broadcastable tensors) receive the gradient where they are
 * chosen. If lo > hi every element becomes hi (as PyTorch and NumPy).
 * @throws ShapeError if x, lo and hi do not broadcast
 */
export function clip(x: TensorLike, lo: TensorLike, hi: TensorLike): Tensor {
  const t = operand("clip", x);
  // A NaN element passes through as a constant: its value stays NaN, and no input gets a gradient there (as PyTorch).
  const kept = where(notEqual(t, t), stopGradient(t), t);
  const lower = where(less(t, lo), lo, kept);
  return where(greater(lower, hi), hi, lower);
}

/** TensorFlow.js's name for `clip`. */
export function clipByValue(x: TensorLike, clipValueMin: number, clipValueMax: number): Tensor {
  return clip(x, clipValueMin, clipValueMax);
}
