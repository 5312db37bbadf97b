import type { Tensor } from "../core/tensor.js";
import { scalar } from "../ops/index.js";

/** One input's finite-difference estimate of ∂f/∂input. */
export interface FiniteDifference {
  name: string;
  step: number;
  estimate: number;
  /** f(x + h) and f(x − h): when either is not finite, the estimate means nothing. */
  plus: number;
  minus: number;
}

/**
 * Central differences (f(x+h) − f(x−h)) / 2h for each scalar float64 input, evaluating f with the
 * library's own ops (forward only, no autodiff), h = 1e-6·max(1, |x|). Error O(h²) for smooth f.
 */
export function centralDifferences(f: (...args: Tensor[]) => Tensor, inputs: readonly Tensor[]): FiniteDifference[] {
  const values = inputs.map((t) => t.item());
  return inputs.map((t, i) => {
    const h = 1e-6 * Math.max(1, Math.abs(values[i]!));
    const at = (xi: number): number => f(...values.map((v, j) => scalar(j === i ? xi : v, { dtype: "float64" }))).item();
    // Divide by the step actually taken after rounding x ± h to float64.
    const hi = values[i]! + h, lo = values[i]! - h;
    const plus = at(hi), minus = at(lo);
    return { name: t.name ?? `x${i}`, step: h, estimate: (plus - minus) / (hi - lo), plus, minus };
  });
}

/** The outcome of comparing a gradient with its finite difference. */
export type GradientCheck =
  | { kind: "agree" }
  /** The finite difference cannot be computed here: f(x ± h) overflowed or left f's domain. */
  | { kind: "unavailable"; reason: string }
  | { kind: "mismatch"; difference: number };

/**
 * Compares the engine's ∂f/∂x with a central difference: agree within 1e-6·max(1, |grad|); unavailable
 * when f(x+h) or f(x−h) is not finite (an overflow such as exp(1000), or NaN outside f's domain such as
 * sqrt just below 0), since the difference of two infinities says nothing about the derivative.
 */
export function checkGradient(grad: number, c: FiniteDifference): GradientCheck {
  if (Number.isNaN(c.plus) || Number.isNaN(c.minus)) return { kind: "unavailable", reason: "NaN: x ± h leaves the function's domain" };
  if (!Number.isFinite(c.plus) || !Number.isFinite(c.minus)) return { kind: "unavailable", reason: "overflow" };
  const difference = Math.abs(grad - c.estimate);
  return difference <= 1e-6 * Math.max(1, Math.abs(grad)) ? { kind: "agree" } : { kind: "mismatch", difference };
}
