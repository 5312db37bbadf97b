import type { Tensor } from "../core/tensor.js";
import { isFloat, type TypedArray } from "../core/dtype.js";
// This check reads values, which a rule otherwise never does (it composes ops); used by the elementwise rules in
// src/core/define.ts and by prod, it asks the kernel table for the sum.
import { kernels } from "../kernels/registry.js";
import { where } from "../ops/index.js";

/**
 * Zeros are strong in the chain rule's products: where an elementwise op's incoming tangent or cotangent is
 * 0, or its local partial is 0, the contribution is 0, whatever the other factor (Inf or NaN included).
 * IEEE arithmetic gives 0·Inf = NaN instead: in the untaken branch of `where(x > 0, sqrt(x), …)` at x < 0
 * (reverse mode), in sqrt(maximum(0, b)) at b < 0 (forward mode: sqrt'(0) = ∞ times maximum's tangent 0),
 * or under a partial that underflowed to 0 (sigmoid'(−750)); PyTorch and JAX pass the NaN on and poison
 * the derivative; chainrule does not. Making 0 absorbing on both sides keeps forward mode (v·∂₁·∂₂…) and
 * reverse mode (…∂₂·∂₁·ct) equal along a chain, whichever end a zero comes from.
 * `c` is the contribution ∂·v; `zeroWhere` (called only when needed) says where v or ∂ is 0.
 * A product is NaN exactly where a factor is NaN, or one is infinite and the other 0, so only a
 * contribution that has a NaN needs the repair: elsewhere this costs one scan of the contribution.
 * Contractions (matmul, conv, reductions) mix elements and keep IEEE semantics.
 */
export function strongZeros(c: Tensor, zeroWhere: () => Tensor): Tensor {
  if (!isFloat(c.dtype)) return c;
  const d = c._data ?? c._concreteValue(true)._data!; // the whole batch under vmap: the repair is elementwise
  return mayHoldNaN(d) ? where(zeroWhere(), 0, c) : c;
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

