import { Tensor, type TensorLike } from "../core/tensor.js";
import type { Primitive } from "../core/primitive.js";
import { allocate, isFloat, type DType } from "../core/dtype.js";
import { normalizeAxis, sizeOf, type Shape } from "../core/shape.js";
import { kernels } from "../kernels/registry.js";
import { bind } from "../autodiff/bind.js";
import { isStaged } from "../autodiff/trace.js";
import { operand } from "./operands.js";
import { reshape, transpose } from "./layout.js";
import { cast, where } from "./select.js";
import { add, div, equal, exp, greater, log, mul, neg, sub } from "./elementwise.js";
import { sum } from "./reduce.js";
import { logicalAnd } from "./logical.js";
import { castConcrete } from "./creation.js";
import { leadingRule, shiftAxis } from "../core/batching.js";

// Cumulative sums, products and log-sum-exps along one axis (inclusive scans). Kernels in
// src/kernels/math.ts (scanInto); the rules below are written with public ops, so they compose to any order.

interface ScanParams {
  readonly axis: number;
  /** Scan from the end: out[j] covers x[j..n−1]. */
  readonly reverse: boolean;
}

/** [outer, n, inner] around `axis` of `shape`. */
function around(shape: Shape, axis: number): [number, number, number] {
  return [sizeOf(shape.slice(0, axis)), shape[axis]!, sizeOf(shape.slice(axis + 1))];
}

function scanImpl(kind: "sum" | "prod" | "logsumexp") {
  return ([x]: Tensor[], { axis, reverse }: ScanParams): Tensor => {
    let t = x!;
    // Sums and products of ints and bools count in int32 (PyTorch uses int64); logcumsumexp is float-only.
    const dtype: DType = isFloat(t.dtype) ? t.dtype : kind === "logsumexp" ? "float32" : "int32";
    if (t.dtype !== dtype) t = castConcrete(t, dtype);
    const out = allocate(dtype, t.size);
    const [outer, n, inner] = around(t.shape, axis);
    kernels().scan(t.data, outer, n, inner, kind, reverse, out);
    return Tensor._concrete(out, t.shape, dtype);
  };
}

const cumsumPrim: Primitive<ScanParams> = {
  name: "cumsum",
  batch: leadingRule(shiftAxis),
  impl: scanImpl("sum"),
  // Linear: the tangent is scanned the same way; the transpose of a prefix sum is a suffix sum.
  jvp: (_x, [t], _out, p) => (t ? bind(cumsumPrim, [t], p) : null),
  vjp: (ct, _x, _out, p) => [bind(cumsumPrim, [ct], { axis: p.axis, reverse: !p.reverse })],
  residuals: [[]],
};

const scanSum = (x: Tensor, axis: number, reverse = false): Tensor => bind(cumsumPrim, [x], { axis, reverse });

/**
 * Where a slice of x has zeros, cumprod factors exactly as out = q·s around the slice's first zero z:
 * q = cumprod(x′) with x′ = x whose first zero is replaced by 1, and s[j] = x[z] for j ≥ z, else 1.
 * Both factors are differentiable expressions, so the product rule gives the rules below, and q's own
 * rules (through the recursion, one zero fewer per level) keep the partials that are 0 in value but not
 * in derivative — e.g. ∂out[j]/∂x[i] for i > z is x[z]·(…), whose derivative in x[z] is not 0.
 */
function zeroSplit(x: Tensor, axis: number) {
  const isZero = equal(x, 0);
  const zerosSoFar = scanSum(cast(isZero, "int32"), axis);
  const before = equal(zerosSoFar, 0);
  const first = logicalAnd(isZero, equal(zerosSoFar, 1));
  const xPrime = where(first, 1, x);
  const q = bind(cumprodPrim, [xPrime], { axis, reverse: false });
  const s = where(before, 1, scanSum(where(first, x, 0), axis));
  return { before, first, xPrime, q, s };
}

// Under vmap this looks at every example: the zero-safe branch is right for all of them.
// Under jit, assume zeros: the program must hold for every value. On the GPU too: its values cannot be
// read synchronously, and the zero-safe branch is right for every value (only costlier).
const hasZero = (x: Tensor): boolean => isStaged(x) || x.device !== "cpu" || x._concreteValue(true).data.includes(0);
/** Zeros per slice handled exactly by the recursion; past this, derivatives of order > MAX_ZERO_DEPTH may drop terms. */
const MAX_ZERO_DEPTH = 8;

function cumprodJvp(x: Tensor, t: Tensor, out: Tensor, axis: number, depth: number): Tensor {
  if (!hasZero(x)) return mul(out, scanSum(div(t, x), axis));
  const { before, first, xPrime, q, s } = zeroSplit(x, axis);
  const ts = where(before, 0, scanSum(where(first, t, 0), axis));
  const tPrime = where(first, 0, t);
  const tq = depth < MAX_ZERO_DEPTH ? cumprodJvp(xPrime, tPrime, q, axis, depth + 1) : mul(q, scanSum(div(tPrime, where(equal(xPrime, 0), 1, xPrime)), axis));
  return add(mul(tq, s), mul(q, ts));
}

function cumprodVjp(x: Tensor, ct: Tensor, out: Tensor, axis: number, depth: number): Tensor {
  if (!hasZero(x)) return div(scanSum(mul(ct, out), axis, true), x);
  const { first, xPrime, q, s } = zeroSplit(x, axis);
  const ctq = mul(ct, s);
  const gq = depth < MAX_ZERO_DEPTH ? cumprodVjp(xPrime, ctq, q, axis, depth + 1) : div(scanSum(mul(ctq, q), axis, true), where(equal(xPrime, 0), 1, xPrime));
  return where(first, scanSum(mul(ct, q), axis, true), gq);
}

const cumprodPrim: Primitive<ScanParams> = {
  name: "cumprod",
  batch: leadingRule(shiftAxis),
  impl: scanImpl("prod"),
  // ∂out[j]/∂x[i] = Π_{k ≤ j, k ≠ i} x[k] for i ≤ j: out[j]/x[i] without zeros, and through zeroSplit with them.
  jvp: ([x], [t], out, { axis }) => (t ? cumprodJvp(x!, t, out, axis, 0) : null),
  vjp: (ct, [x], out, { axis }) => [cumprodVjp(x!, ct, out, axis, 0)],
};

/** log v where v > 0, −∞ elsewhere; its derivative is 1/v on v > 0 and 0 elsewhere (never ∞·0). */
function logPositive(v: Tensor): Tensor {
  const pos = greater(v, 0);
  return where(pos, log(where(pos, v, 1)), -Infinity);
}

/** a − out, but −∞ where out is −∞ (then a is −∞ too, and −∞ − (−∞) would be NaN). */
function minusOut(a: Tensor, out: Tensor): Tensor {
  return where(equal(out, -Infinity), -Infinity, sub(a, out));
}

const lcse = (x: Tensor, axis: number, reverse: boolean): Tensor => bind(lcsePrim, [x], { axis, reverse });

/**
 * Σ_{i ≤ j} exp(x[i] − out[j])·v[i] (prefix order of the scan), in O(n) and without overflow, as PyTorch:
 * v split into its positive and negative parts, each summed as exp(logcumsumexp(x + log v±) − out).
 */
function prefixWeighted(x: Tensor, v: Tensor, out: Tensor, axis: number, reverse: boolean): Tensor {
  const part = (w: Tensor) => exp(minusOut(lcse(add(x, logPositive(w)), axis, reverse), out));
  return sub(part(v), part(neg(v)));
}

/** Σ_{j ≥ i} exp(x[i] − out[j])·v[j] (suffix order), the transpose of prefixWeighted, the same way. */
function suffixWeighted(x: Tensor, v: Tensor, out: Tensor, axis: number, reverse: boolean): Tensor {
  const part = (w: Tensor) => exp(add(x, lcse(minusOut(logPositive(w), out), axis, !reverse)));
  return sub(part(v), part(neg(v)));
}

const lcsePrim: Primitive<ScanParams> = {
  name: "logcumsumexp",
  batch: leadingRule(shiftAxis),
  impl: scanImpl("logsumexp"),
  // dout[j] = Σ_{i ≤ j} exp(x[i] − out[j])·dx[i]: the softmax of each prefix, all weights ≤ 1.
  jvp: ([x], [t], out, { axis, reverse }) => (t ? prefixWeighted(x!, t, out, axis, reverse) : null),
  vjp: (ct, [x], out, { axis, reverse }) => [suffixWeighted(x!, ct, out, axis, reverse)],
};

/** Options of the cumulative ops. */
export interface ScanOptions {
  /** Accumulate from the end of the axis (TensorFlow.js's `reverse`): out[j] covers x[j..n−1]. */
  reverse?: boolean;
}

function scan(prim: Primitive<ScanParams>, x: TensorLike, axis: number | undefined, reverse: boolean): Tensor {
  let t = operand(prim.name, x);
  const shape = t.shape;
  // Without an axis, NumPy scans the flattened tensor; a scalar scans as one element.
  if (axis === undefined || t.rank === 0) t = reshape(t, [t.size]);
  const a = normalizeAxis(prim.name, axis === undefined || shape.length === 0 ? 0 : axis, t.rank);
  const out = bind(prim, [t], { axis: a, reverse });
  return shape.length === 0 ? reshape(out, []) : out;
}

/**
 * Cumulative sum along `axis` (negative counts from the end; omitted: over the flattened tensor, as
 * NumPy): out[j] = Σ_{i ≤ j} x[i], or Σ_{i ≥ j} with `reverse`. Linear: JVP scans the tangent, VJP is
 * the reverse scan of the cotangent. Ints and bools sum in int32.
 * @throws ShapeError for an out-of-range axis
 */
export function cumsum(x: TensorLike, axis?: number, options: ScanOptions = {}): Tensor {
  return scan(cumsumPrim, x, axis, options.reverse ?? false);
}

/**
 * Cumulative product along `axis` (omitted: flattened): out[j] = Π_{i ≤ j} x[i]. Gradients are exact
 * with zeros, as `prod` and PyTorch (no 0/0): only positions up to a slice's first zero get non-zero
 * partials, and the first zero's partial is the product of the others. Ints and bools multiply in int32.
 * @throws ShapeError for an out-of-range axis
 */
export function cumprod(x: TensorLike, axis?: number): Tensor {
  return scan(cumprodPrim, x, axis, false);
}

/**
 * log Σ_{i ≤ j} exp x[i] along `axis` (omitted: flattened), as PyTorch's logcumsumexp: a running
 * logaddexp, exact for inputs far apart and −∞ while every input so far is −∞. The derivative is the
 * softmax of each prefix; the rules compute it in O(n) with logcumsumexp itself over the positive and
 * negative parts of the tangent or cotangent (PyTorch's method), so no exponential overflows and the
 * rules compose to any order. Float result (ints give float32).
 * @throws ShapeError for an out-of-range axis
 */
export function logcumsumexp(x: TensorLike, axis?: number): Tensor {
  return scan(lcsePrim, x, axis, false);
}
