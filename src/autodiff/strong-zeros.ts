import type { Tensor } from "../core/tensor.js";
import { isFloat, type TypedArray } from "../core/dtype.js";
// The engine reads values in one place, this strong-zero check; it asks the kernel table for the sum.
import { kernels } from "../kernels/registry.js";
import { equal, where } from "../ops/index.js";

/**
 * Zero cotangents and zero tangents are strong zeros: an element of an elementwise op's output that
 * receives cotangent 0 sends 0 to its inputs, and an input whose tangent is 0 contributes 0 to the
 * output's tangent, whatever the local partial there (Inf or NaN included). Where IEEE arithmetic gives
 * 0·Inf = NaN, as in the untaken branch of `where(x > 0, sqrt(x), …)` at x < 0 (reverse mode) or
 * sqrt(maximum(0, b)) at b < 0 (forward mode: sqrt'(0) = ∞ times maximum's tangent 0), PyTorch and JAX
 * pass the NaN on and poison the derivative; chainrule does not. `c` is the contribution ∂·g, `g` the
 * incoming cotangent or tangent (broadcastable to `c`).
 * A product g·∂ is NaN exactly where ∂ or g is NaN, or ∂ is infinite and g is 0, so only a
 * contribution that has a NaN needs the repair: elsewhere this costs one scan of the contribution.
 * Contractions (matmul, conv, reductions) mix elements and keep IEEE semantics.
 */
export function strongZeros(c: Tensor, g: Tensor): Tensor {
  if (!isFloat(c.dtype)) return c;
  const d = c._data ?? c._concreteValue()._data!;
  return mayHoldNaN(d) ? where(equal(g, 0), 0, c) : c;
}

/**
 * Whether `d` may hold a NaN, from one sum through the backend's reduction (a SIMD pass in wasm, about a
 * tenth of a scalar scan's time on 10⁶ elements): the sum is NaN whenever an element is. It is also NaN,
 * rarely, when infinities of both signs meet; then the repair runs where it was not needed, and still
 * gives the same values.
 */
function mayHoldNaN(d: TypedArray): boolean {
  if (d.length <= 64) {
    for (let k = 0; k < d.length; k++) if (d[k] !== d[k]) return true;
    return false;
  }
  const total = d instanceof Float32Array ? new Float32Array(1) : new Float64Array(1);
  kernels().reduce(d, [d.length], [0], total, "sum");
  return total[0] !== total[0];
}

