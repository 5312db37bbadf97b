import type { Tensor, TensorLike } from "../core/tensor.js";
import type { Primitive } from "../core/primitive.js";
import { elementwise } from "../core/define.js";
import { isFloat } from "../core/dtype.js";
import { ValueError } from "../core/errors.js";
import type { mathKernels } from "../kernels/math.js";
import { bind } from "../autodiff/bind.js";
import { binaryImpl, unaryImpl } from "./elementwise-impl.js";
import { operand, operands } from "./operands.js";
import { cast, where } from "./select.js";
import { add, div, equal, greater, mul, neg, reciprocal, rsqrt, sub } from "./elementwise.js";
import { softplus } from "./unary-extra.js";
import { isinf, logicalAnd } from "./logical.js";

// Elementwise math beyond the core set (issue 12): rounding, the floored remainder, log2/log10/exp2,
// inverse trigonometric and hyperbolic functions, logaddexp. Kernels in src/kernels/math.ts; partials
// written with public ops so higher derivatives compose.

const u = (name: keyof typeof mathKernels, floatOnly: boolean) => unaryImpl((k) => k.math[name], floatOnly);
const LN2 = Math.LN2;
const LN10 = Math.LN10;

/** 1 − x², as (1 − x)(1 + x): no cancellation near |x| = 1. */
const oneMinusSquare = (x: Tensor): Tensor => mul(sub(1, x), add(1, x));

const remainderImpl = binaryImpl("remainder", (k) => k.remainder, "same");

/** @internal The primitives of this file, for the op tables in tests and the graph viewer. */
export const mathPrims = {
  // Piecewise constant: the derivative is 0 wherever it exists, and taken as 0 at the jumps too (PyTorch).
  round: elementwise("round", u("round", false), [() => null], () => ["0"], { residuals: [[]] }),
  floor: elementwise("floor", u("floor", false), [() => null], () => ["0"], { residuals: [[]] }),
  ceil: elementwise("ceil", u("ceil", false), [() => null], () => ["0"], { residuals: [[]] }),
  trunc: elementwise("trunc", u("trunc", false), [() => null], () => ["0"], { residuals: [[]] }),
  remainder: elementwise(
    "remainder",
    (x) => {
      const [a, b] = x;
      // Integer division by zero has no value to give (PyTorch raises too); floats give NaN.
      if (!isFloat(a!.dtype) && !isFloat(b!.dtype) && b!.data.includes(0)) {
        throw new ValueError("remainder: integer division by zero; the divisor has a 0 (cast to float32 to get NaN there instead)");
      }
      return remainderImpl(x);
    },
    // a − b·⌊a/b⌋: ∂/∂a = 1, ∂/∂b = −⌊a/b⌋ (the floor is locally constant), as PyTorch.
    [() => 1, (x) => neg(floor(div(x[0]!, x[1]!)))],
    (n) => ["1", `-⌊${n[0]}/${n[1]}⌋`],
    { residuals: [[], [0, 1]] },
  ),
  log2: elementwise("log2", u("log2", true), [(x) => div(1 / LN2, x[0]!)], (n) => [`1/(${n[0]}·ln 2)`], { residuals: [[0]] }),
  log10: elementwise("log10", u("log10", true), [(x) => div(1 / LN10, x[0]!)], (n) => [`1/(${n[0]}·ln 10)`], { residuals: [[0]] }),
  exp2: elementwise("exp2", u("exp2", true), [(_, out) => mul(out, LN2)], (_, o) => [`${o}·ln 2`], { residuals: [["out"]] }),
  asin: elementwise("asin", u("asin", true), [(x) => rsqrt(oneMinusSquare(x[0]!))], (n) => [`1/√(1-${n[0]}²)`], { residuals: [[0]] }),
  acos: elementwise("acos", u("acos", true), [(x) => neg(rsqrt(oneMinusSquare(x[0]!)))], (n) => [`-1/√(1-${n[0]}²)`], { residuals: [[0]] }),
  atan: elementwise("atan", u("atan", true), [(x) => reciprocal(add(mul(x[0]!, x[0]!), 1))], (n) => [`1/(1+${n[0]}²)`], { residuals: [[0]] }),
  sinh: elementwise("sinh", u("sinh", true), [(x) => cosh(x[0]!)], (n) => [`cosh(${n[0]})`], { residuals: [[0]] }),
  cosh: elementwise("cosh", u("cosh", true), [(x) => sinh(x[0]!)], (n) => [`sinh(${n[0]})`], { residuals: [[0]] }),
  asinh: elementwise("asinh", u("asinh", true), [(x) => rsqrt(add(mul(x[0]!, x[0]!), 1))], (n) => [`1/√(${n[0]}²+1)`], { residuals: [[0]] }),
  acosh: elementwise("acosh", u("acosh", true), [(x) => rsqrt(mul(sub(x[0]!, 1), add(x[0]!, 1)))], (n) => [`1/√(${n[0]}²-1)`], { residuals: [[0]] }),
  atanh: elementwise("atanh", u("atanh", true), [(x) => reciprocal(oneMinusSquare(x[0]!))], (n) => [`1/(1-${n[0]}²)`], { residuals: [[0]] }),
} satisfies Record<string, Primitive<null>>;

const un = (p: Primitive<null>, x: TensorLike): Tensor => bind(p, [operand(p.name, x)], null);

/**
 * Rounds to the nearest integer, halves to even (round(0.5) = 0, round(1.5) = 2, round(−0.5) = −0), as
 * PyTorch's and NumPy's round. Derivative 0 everywhere (PyTorch's convention; the jumps get 0 too).
 * Any dtype; ints are returned unchanged in value, same dtype.
 */
export function round(x: TensorLike): Tensor { return un(mathPrims.round, x); }
/** Largest integer ≤ x, elementwise. Derivative 0 everywhere (as PyTorch). Any dtype, same dtype out. */
export function floor(x: TensorLike): Tensor { return un(mathPrims.floor, x); }
/** Smallest integer ≥ x, elementwise. Derivative 0 everywhere (as PyTorch). Any dtype, same dtype out. */
export function ceil(x: TensorLike): Tensor { return un(mathPrims.ceil, x); }
/** x rounded toward zero, elementwise. Derivative 0 everywhere (as PyTorch). Any dtype, same dtype out. */
export function trunc(x: TensorLike): Tensor { return un(mathPrims.trunc, x); }

/**
 * The floored remainder a − b·⌊a/b⌋, elementwise with broadcasting: the result has the sign of the
 * divisor b (Python's `%`, PyTorch's `remainder`, NumPy's `mod`, TensorFlow.js's `mod`), computed exactly
 * from the truncated remainder. ∂/∂a = 1, ∂/∂b = −⌊a/b⌋ (as PyTorch). Float division by 0 gives NaN.
 * @returns the promoted dtype of a and b (ints stay int32)
 * @throws ShapeError if shapes do not broadcast; ValueError for an integer divisor of 0
 */
export function remainder(a: TensorLike, b: TensorLike): Tensor { return bind(mathPrims.remainder, operands("remainder", a, b), null); }
/** Same as `remainder` (the floored remainder, sign of the divisor), under NumPy's and TensorFlow.js's name. */
export function mod(a: TensorLike, b: TensorLike): Tensor { return remainder(a, b); }

/** Base-2 logarithm; domain x > 0 (log2 0 = −∞, negative → NaN); derivative 1/(x ln 2). Exact at powers of 2. Ints give float32. */
export function log2(x: TensorLike): Tensor { return un(mathPrims.log2, x); }
/** Base-10 logarithm; domain x > 0; derivative 1/(x ln 10). Exact at powers of 10. Ints give float32. */
export function log10(x: TensorLike): Tensor { return un(mathPrims.log10, x); }
/** 2ˣ; derivative 2ˣ·ln 2. Exact at integers. Ints give float32. */
export function exp2(x: TensorLike): Tensor { return un(mathPrims.exp2, x); }
/** Inverse sine in radians, domain [−1, 1] (NaN outside); derivative 1/√(1 − x²), +∞ at ±1 (as PyTorch). */
export function asin(x: TensorLike): Tensor { return un(mathPrims.asin, x); }
/** Inverse cosine in radians, domain [−1, 1] (NaN outside); derivative −1/√(1 − x²), −∞ at ±1 (as PyTorch). */
export function acos(x: TensorLike): Tensor { return un(mathPrims.acos, x); }
/** Inverse tangent in radians, in (−π/2, π/2); derivative 1/(1 + x²). */
export function atan(x: TensorLike): Tensor { return un(mathPrims.atan, x); }
/** Hyperbolic sine; derivative cosh x. */
export function sinh(x: TensorLike): Tensor { return un(mathPrims.sinh, x); }
/** Hyperbolic cosine; derivative sinh x. */
export function cosh(x: TensorLike): Tensor { return un(mathPrims.cosh, x); }
/** Inverse hyperbolic sine; derivative 1/√(x² + 1). */
export function asinh(x: TensorLike): Tensor { return un(mathPrims.asinh, x); }
/** Inverse hyperbolic cosine, domain x ≥ 1 (NaN below); derivative 1/√((x − 1)(x + 1)), +∞ at 1. */
export function acosh(x: TensorLike): Tensor { return un(mathPrims.acosh, x); }
/** Inverse hyperbolic tangent, domain (−1, 1) (±∞ at ±1, NaN outside); derivative 1/((1 − x)(1 + x)). */
export function atanh(x: TensorLike): Tensor { return un(mathPrims.atanh, x); }

/**
 * log(eᵃ + eᵇ), elementwise with broadcasting, without overflow: computed as hi + softplus(lo − hi) with
 * hi the larger operand, so it is exact for large and very different inputs. ∂/∂a = σ(a − b), ∂/∂b = σ(b − a);
 * at ties each gets ½ (the true derivative; smooth, so second derivatives are exact there too).
 * logaddexp(−∞, −∞) = −∞ and an infinite operand gives +∞/the other operand, as NumPy and PyTorch; NaN in
 * either operand gives NaN.
 * A composite of where, sub, add and softplus. Float result (ints give float32).
 * @throws ShapeError if shapes do not broadcast
 */
export function logaddexp(a: TensorLike, b: TensorLike): Tensor {
  let [x, y] = operands("logaddexp", a, b);
  if (!isFloat(x.dtype)) x = cast(x, "float32");
  if (!isFloat(y.dtype)) y = cast(y, x.dtype);
  const bigger = greater(x, y);
  const hi = where(bigger, x, y);
  const lo = where(bigger, y, x);
  // With hi infinite, lo − hi is −∞ (the sum is hi), or ∞ − ∞ = NaN when lo = hi (the sum is hi too: d = 0);
  // a NaN lo stays NaN, so NaN propagates (logaddexp(NaN, ∞) is NaN, as PyTorch and NumPy).
  const d = where(logicalAnd(isinf(hi), equal(lo, hi)), 0, sub(lo, hi));
  return add(hi, softplus(d));
}
