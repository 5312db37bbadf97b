import type { Primitive } from "./primitive.js";
import type { Tensor } from "./tensor.js";
import { sameShape } from "./shape.js";
import { add, mul, neg, broadcastTo, cast } from "../ops/index.js";
import { strongZeros } from "../autodiff/strong-zeros.js";

/**
 * A local partial derivative ∂out/∂xᵢ: a tensor (broadcastable to the output), a constant
 * multiplier (1 and -1 avoid a multiply), or null for zero. Computed lazily, only for inputs that need it.
 */
export type PartialRule = (x: Tensor[], out: Tensor) => Tensor | number | null;

function scale(p: Tensor | number | null, v: Tensor): Tensor | null {
  if (p === null) return null;
  if (p === 1) return v;
  if (p === -1) return neg(v);
  return mul(p, v);
}

/**
 * The contribution ∂out/∂xᵢ · v of a piecewise partial (v a tangent in forward mode, a cotangent in
 * reverse mode), computed by selecting v, a multiple of it, or 0, never by multiplying v by a 0/½/1 mask:
 * a mask times an infinite or NaN v gives NaN where the true contribution is exactly 0 (the input was
 * not selected). Null for a zero contribution. Its result broadcasts to the output's shape.
 */
export type SelectRule = (v: Tensor, x: Tensor[], out: Tensor) => Tensor | null;

/** Optional parts of an elementwise primitive's definition. */
export interface ElementwiseRules {
  /**
   * Per input, a rule that replaces partial·v in both modes (see `SelectRule`); the partial itself is
   * still declared, for the graph viewer. Every op whose partial is piecewise (relu, abs, maximum, …) has one.
   */
  select?: readonly (SelectRule | undefined)[];
  /** A VJP computing ∂out/∂x · ct in one kernel; must agree with the partials. */
  fusedVjp?: (ct: Tensor, x: Tensor[], out: Tensor) => (Tensor | null)[];
  /** Per input, the values its partial reads: input indices and/or "out". */
  residuals?: readonly (readonly (number | "out")[])[];
}

/**
 * Defines an elementwise primitive from its kernel and its local partials, declared once: the
 * JVP is Σᵢ ∂out/∂xᵢ · tᵢ and the VJP is ∂out/∂xᵢ · ct (JAX's `defjvp`-style helper for elementwise ops).
 * `formulas` gives the same partials as text for the step-through explanations. `fusedVjp`, when given,
 * replaces the generic VJP with one that computes ∂out/∂x · ct in a single kernel; it must agree with
 * `partials` (the property tests check both modes against finite differences). `residuals` declares
 * which values the partials of each input read (see `Primitive.residuals`); without it every value is kept.
 * `select`, per input, computes a piecewise partial's contribution by selection instead (see `SelectRule`).
 */
export function elementwise(
  name: string,
  impl: (x: Tensor[]) => Tensor,
  partials: readonly PartialRule[],
  formulas?: (names: string[], outName: string) => string[],
  rules: ElementwiseRules = {},
): Primitive<null> {
  const { fusedVjp, residuals, select } = rules;
  // Forward mode: partial·t, with a zero tangent as a strong zero (reverse mode gets the same from the engine).
  const tangentTerm = (i: number, t: Tensor, x: Tensor[], out: Tensor): Tensor | null => {
    const s = select?.[i];
    if (s) return s(t, x, out);
    const p = partials[i]!(x, out);
    return typeof p === "number" || p === null ? scale(p, t) : strongZeros(mul(p, t), t);
  };
  const cotangentTerm = (i: number, ct: Tensor, x: Tensor[], out: Tensor): Tensor | null => {
    const s = select?.[i];
    return s ? s(ct, x, out) : scale(partials[i]!(x, out), ct);
  };
  return {
    name,
    ...(residuals ? { residuals } : {}),
    impl: (x) => impl(x),
    partials: (x, out) => partials.map((p) => p(x, out)),
    ...(formulas ? { formulas: (names: string[], outName: string) => formulas(names, outName) } : {}),
    jvp(x, t, out) {
      let acc: Tensor | null = null;
      for (let i = 0; i < x.length; i++) {
        const ti = t[i];
        if (ti === null || ti === undefined) continue;
        const term = tangentTerm(i, ti, x, out);
        if (term === null) continue;
        acc = acc === null ? term : add(acc, term);
      }
      if (acc === null) return null;
      if (!sameShape(acc.shape, out.shape)) acc = broadcastTo(acc, out.shape);
      return acc.dtype === out.dtype ? acc : cast(acc, out.dtype);
    },
    vjp(ct, x, out, _params, needs) {
      // A fused rule computes the same cotangents in one kernel pass (see src/ops/fused-grad.ts).
      if (fusedVjp) return fusedVjp(ct, x, out);
      return partials.map((_, i) => (needs[i] ? cotangentTerm(i, ct, x, out) : null));
    },
  };
}
