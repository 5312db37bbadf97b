import type { Tensor } from "../core/tensor.js";
import { scalar } from "../ops/index.js";

/** One input's finite-difference estimate of ∂f/∂input. */
export interface FiniteDifference {
  name: string;
  step: number;
  estimate: number;
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
    return { name: t.name ?? `x${i}`, step: h, estimate: (at(hi) - at(lo)) / (hi - lo) };
  });
}
