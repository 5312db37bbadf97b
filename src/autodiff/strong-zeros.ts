import type { Tensor } from "../core/tensor.js";
import { isFloat, type TypedArray } from "../core/dtype.js";
// This check reads values, which a rule otherwise never does (it composes ops); used by the elementwise rules in
// src/core/define.ts and by prod, it asks the kernel table for the sum.
import { kernels } from "../kernels/registry.js";
import { requestingNaNMarks, takeNaNFreeMark } from "../kernels/nan-marks.js";
import { mul, where } from "../ops/index.js";
import { stagedTracer } from "./trace.js";

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
 * contribution that has a NaN needs the repair. Compute `c` inside `withNaNMarks`: the wasm kernels then
 * report a NaN-free result as they write it, and the check costs nothing more; otherwise it costs one sum.
 * Contractions (matmul, conv, reductions) mix elements and keep IEEE semantics.
 */
export function strongZeros(c: Tensor, zeroWhere: () => Tensor): Tensor {
  if (!isFloat(c.dtype)) return c;
  const staged = stagedTracer(c);
  if (staged !== null) {
    // Under jit: a NaN now means this program always repairs (right for every value); otherwise it takes the
    // fast path, with a check fused into its loop that sends a call meeting a NaN to eager evaluation.
    if (mayHoldNaN(staged._primal!._data!)) return where(zeroWhere(), 0, c);
    staged._trace!.guardNoNaN?.(staged);
    return c;
  }
  const d = c._data ?? c._concreteValue(true)._data; // the whole batch under vmap: the repair is elementwise
  // A GPU value is never read back here: the repair runs unconditionally there (same values, a few more kernels).
  if (d === null) return where(zeroWhere(), 0, c);
  return mayHoldNaN(d) ? where(zeroWhere(), 0, c) : c;
}

/**
 * Whether `t` is a concrete one-element tensor holding a finite non-zero number (the 2 in `mul(x, 2)`, a
 * value f closes over): a product with such a factor is NaN exactly where the other factor is NaN, and
 * never 0 where the other is finite and non-zero, so strongZeros' repair cannot change it. Rules skip the
 * check then, which under jit also keeps the program free of a NaN guard per product.
 */
export function finiteNonZeroScalar(t: Tensor): boolean {
  const d = t._data;
  if (d === null || d.length !== 1) return false;
  const v = d[0]!;
  return v !== 0 && v - v === 0;
}

/**
 * Runs `compute` (the kernels that produce contributions for `strongZeros`) with NaN marks requested: kernels
 * that can check their output while it is still in cache mark it NaN-free (src/kernels/nan-marks.ts).
 */
export function withNaNMarks<T>(compute: () => T): T {
  return requestingNaNMarks(compute);
}

/**
 * Below this many elements the check is a scalar loop that costs less than asking the kernels for marks
 * (and tiny ops run the js kernels, which do not mark): the per-op cost of small graphs stays as it was.
 */
export const MARKS_FROM = 65;

/** a·b computed for `strongZeros`: with NaN marks requested when either operand is large enough to use them. */
export function productForStrongZeros(a: Tensor, b: Tensor): Tensor {
  return a.size < MARKS_FROM && b.size < MARKS_FROM ? mul(a, b) : requestingNaNMarks(() => mul(a, b));
}

/**
 * Whether `d` may hold a NaN: no, if the kernel that wrote it marked it NaN-free; else from one sum through the backend's reduction (a SIMD pass in wasm, about a
 * tenth of a scalar scan's time on 10⁶ elements): the sum is NaN whenever an element is. It is also NaN,
 * rarely, when infinities of both signs meet; then the repair runs where it was not needed, and still
 * gives the same values.
 */
function mayHoldNaN(d: TypedArray): boolean {
  if (d.length < MARKS_FROM) {
    for (let k = 0; k < d.length; k++) if (d[k] !== d[k]) return true;
    return false;
  }
  if (takeNaNFreeMark(d)) return false;
  const total = d instanceof Float32Array ? new Float32Array(1) : new Float64Array(1);
  kernels().reduce(d, [d.length], [0], total, "sum");
  return total[0] !== total[0];
}

