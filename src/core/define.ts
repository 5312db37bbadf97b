import type { Primitive } from "./primitive.js";
import type { Tensor } from "./tensor.js";
import { sameShape } from "./shape.js";
import { add, mul, neg, broadcastTo, cast } from "../ops/index.js";
import {
  MARKS_FROM, finiteNonZeroScalar, markedContribution, sameZerosAs, mayHoldZero, strongProduct, structuralZeros, sumZeros, withNaNMarks, withStructuralZeros,
} from "../autodiff/strong-zeros.js";
import { broadcastingRule, type BatchRule } from "./batching.js";

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
  /** A batching rule for kernels that need equal operand shapes; default: NumPy broadcasting around the batch axis. */
  batch?: BatchRule<null>;
}

/**
 * The partial `rule(x, out)` as `markedContribution` asks for it (null for a constant one), made outside the
 * VJP so the closure holds x and out only: under jit it may be kept until the program is built.
 */
function partialThunk(rule: PartialRule, x: Tensor[], out: Tensor): () => Tensor | null {
  return () => {
    const p = rule(x, out);
    return p === null || typeof p === "number" ? null : p;
  };
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
  // partial·v in either mode, with zeros strong on both sides (see strongZeros): where the product has a
  // NaN, it is 0 wherever the partial is 0 or v (a tangent or a cotangent) is a structural zero; a v that is
  // 0 by computation (1 − 1) is an ordinary number, and 0·∞ = NaN there, as in both modes of PyTorch. An
  // input with a select rule needs no repair, nor does a constant partial (finite and non-zero: its product
  // is NaN only where v is).
  const term = (i: number, v: Tensor, x: Tensor[], out: Tensor): Tensor | null => {
    const s = select?.[i];
    if (s) return s(v, x, out);
    const p = partials[i]!(x, out);
    if (p === null || typeof p === "number") {
      const c = scale(p, v);
      return c !== null && c !== v ? sameZerosAs(c, v) : c;
    }
    // A finite non-zero scalar adds no zero and removes none: v's structural zeros are the product's.
    if (finiteNonZeroScalar(p)) return sameZerosAs(mul(p, v), v);
    return strongProduct(p, v);
  };
  return {
    name,
    batch: rules.batch ?? broadcastingRule<null>(),
    ...(residuals ? { residuals } : {}),
    impl: (x) => impl(x),
    partials: (x, out) => partials.map((p) => p(x, out)),
    ...(formulas ? { formulas: (names: string[], outName: string) => formulas(names, outName) } : {}),
    jvp(x, t, out) {
      let acc: Tensor | null = null;
      for (let i = 0; i < x.length; i++) {
        const ti = t[i];
        if (ti === null || ti === undefined) continue;
        const c = term(i, ti, x, out);
        if (c === null) continue;
        acc = acc === null ? c : withStructuralZeros(add(acc, c), sumZeros(acc, c));
      }
      if (acc === null) return null;
      const zeros = structuralZeros(acc);
      if (!sameShape(acc.shape, out.shape)) acc = broadcastTo(acc, out.shape);
      return withStructuralZeros(acc.dtype === out.dtype ? acc : cast(acc, out.dtype), zeros);
    },
    vjp(ct, x, out, _params, needs) {
      // A fused rule computes the same cotangents in one kernel pass (see src/ops/fused-grad.ts).
      if (!fusedVjp) return partials.map((_, i) => (needs[i] ? term(i, ct, x, out) : null));
      const cts = ct.size < MARKS_FROM ? fusedVjp(ct, x, out) : withNaNMarks(() => fusedVjp(ct, x, out));
      return cts.map((c, i) => {
        if (c === null) return c;
        // A selected-away zero is structural (see structuralZeros): where the fused result has zeros, the
        // select rule gives the same values with its zeros marked.
        const s = select?.[i];
        if (s) return mayHoldZero(c) ? s(ct, x, out) : c;
        // The partial is computed only if the contribution has a NaN or a zero (rarely): the fused kernel did
        // not need it. A zero may be structural (the partial's, or ct's), which later products need to know.
        return markedContribution(c, ct, partialThunk(partials[i]!, x, out));
      });
    },
  };
}
