import { Tensor, type TensorLike } from "../core/tensor.js";
import type { Primitive } from "../core/primitive.js";
import { allocate, isFloat } from "../core/dtype.js";
import { normalizeAxes, sizeOf } from "../core/shape.js";
import { ValueError } from "../core/errors.js";
import { kernels } from "../kernels/registry.js";
import { bind } from "../autodiff/bind.js";
import { isStaged } from "../autodiff/trace.js";
import { operand } from "./operands.js";
import { broadcastTo, reshape } from "./layout.js";
import { cast, where } from "./select.js";
import { abs, div, equal, mul, sqrt, square, sub } from "./elementwise.js";
import { max, mean, min, sum, type ReduceParams } from "./reduce.js";
import { all, logicalOr } from "./logical.js";
import { carryZeros, strongProduct } from "../autodiff/strong-zeros.js";
import { leadingRule, shiftAxes } from "../core/batching.js";

type Axis = number | readonly number[] | undefined;

function reducedShape(shape: readonly number[], p: ReduceParams): number[] {
  return p.keepDims ? shape.map((d, i) => (p.axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !p.axes.includes(i));
}

/** Broadcasts a reduced value (kept or not) back over x's shape. */
function expand(v: Tensor, x: Tensor, axes: readonly number[]): Tensor {
  const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  return carryZeros(v, broadcastTo(reshape(v, kept), x.shape), (m) => broadcastTo(reshape(m, kept), x.shape));
}

/**
 * For each element, the product of the *other* elements of its reduced slice, exactly (no 0/0).
 * Without zeros it is out/x. With zeros, per slice with z zeros and P the product of its non-zero
 * elements, the zero-valued entries enter through their elementary symmetric polynomials, which are
 * 0 in value but carry the right derivatives:
 *   non-zero xᵢ:  P/xᵢ · (1, Σzeros, or Σ_{pairs} zₐz_b for z = 0, 1, 2; else 0)
 *   zero xⱼ:      P · (1 for z = 1, or the other zero for z = 2; else 0)
 * Written with differentiable ops, so first and second derivatives are exact at any number of zeros
 * (with three or more zeros every second derivative really is 0).
 */
function productOfOthers(x: Tensor, out: Tensor, axes: readonly number[]): Tensor {
  // Under jit the zero-safe branch (right for every value), and on the GPU too (its values are not read
  // back); under vmap, every example is read.
  let hasZero = isStaged(x);
  if (!hasZero) {
    const data = x._concreteValue(true)._data;
    if (data === null) hasZero = true;
    for (let i = 0; data !== null && i < data.length; i++) if (data[i] === 0) { hasZero = true; break; }
  }
  if (!hasZero) return div(expand(out, x, axes), x);
  const isZero = equal(x, 0);
  const nonZero = where(isZero, 1, x);
  const p = prod(nonZero, axes, true);
  const count = sum(cast(isZero, x.dtype), axes, true);
  const zeroValues = where(isZero, x, 0);
  const e1 = sum(zeroValues, axes, true); // Σ zeros (value 0)
  const e2 = div(sub(square(e1), sum(square(zeroValues), axes, true)), 2); // Σ_{a<b} zₐz_b (value 0)
  const one = equal(count, 1), two = equal(count, 2);
  const nonZeroFactor = where(equal(count, 0), 1, where(one, e1, where(two, e2, 0)));
  const zeroFactor = where(one, 1, where(two, sub(e1, x), 0));
  return where(isZero, mul(p, zeroFactor), mul(div(p, nonZero), nonZeroFactor));
}

const prodPrim: Primitive<ReduceParams> = {
  name: "prod",
  batch: leadingRule(shiftAxes),
  impl([x], p) {
    const t = x!;
    const dtype = isFloat(t.dtype) ? t.dtype : "int32";
    const shape = reducedShape(t.shape, p);
    const data = allocate(dtype, sizeOf(shape));
    kernels().reduce(t.data, t.shape, p.axes, data, "prod");
    return Tensor._concrete(data, shape, dtype);
  },
  // Each element's contribution is (product of the others)·v, an elementwise product before the sum: its
  // zeros are strong, as in elementwise rules (an exact-zero partial under an infinite v gives 0, not NaN).
  jvp([x], [t], out, p) {
    if (!t) return null;
    const c = strongProduct(productOfOthers(x!, out, p.axes), t);
    return carryZeros(c, sum(c, p.axes, p.keepDims), (m) => all(m, p.axes, p.keepDims));
  },
  vjp: (ct, [x], out, p) => [strongProduct(productOfOthers(x!, out, p.axes), expand(ct, x!, p.axes))],
};

/**
 * Product over `axis` (a number or list, negative counts from the end; default all axes).
 * The gradient is the exact product of the other elements, also where elements are 0 (no 0/0, as
 * PyTorch). Product over zero elements is 1.
 * @param keepDims keep reduced dimensions as size 1
 * @returns float input → same dtype; int32/bool → int32
 * @throws ShapeError for an out-of-range or repeated axis
 */
export function prod(x: TensorLike, axis?: Axis, keepDims = false): Tensor {
  const t = operand("prod", x);
  return bind(prodPrim, [t], { axes: normalizeAxes("prod", axis, t.rank), keepDims });
}

function argPrim(kind: "max" | "min"): Primitive<ReduceParams> {
  const name = kind === "max" ? "argmax" : "argmin";
  return {
    name,
    nonDifferentiable: true,
    batch: leadingRule(shiftAxes),
    impl([x], p) {
      const t = x!;
      const kept = t.shape.map((_, i) => i).filter((i) => !p.axes.includes(i));
      const perm = [...kept, ...p.axes];
      const m = p.axes.reduce((acc, a) => acc * t.shape[a]!, 1);
      const rows = kept.reduce((acc, a) => acc * t.shape[a]!, 1);
      if (m === 0 && rows > 0) {
        throw new ValueError(`${name}: cannot take the ${name} over an empty axis (shape [${t.shape.join(",")}], axes [${p.axes.join(",")}])`);
      }
      let src = t.data;
      if (perm.some((a, i) => a !== i)) {
        src = allocate(t.dtype, t.size);
        kernels().layout.transpose(t.data, t.shape, perm, src);
      }
      const out = new Int32Array(rows);
      if (m > 0) kernels().indexing.argReduceRows(src, rows, m, kind, out);
      return Tensor._concrete(out, reducedShape(t.shape, p), "int32");
    },
    jvp: () => null,
    vjp: () => [null],
  };
}

const argmaxPrim = argPrim("max");
const argminPrim = argPrim("min");

/**
 * Index of the largest element along `axis` (int32, not differentiable). Default: over all axes,
 * giving the index into the flattened tensor (as NumPy/PyTorch; TensorFlow.js's argMax defaults to
 * axis 0). With several axes, the index is row-major over those axes. Ties give the first
 * occurrence; a NaN counts as the largest (NumPy).
 * @throws ShapeError for a bad axis; ValueError when reducing over an empty axis
 */
export function argmax(x: TensorLike, axis?: Axis, keepDims = false): Tensor {
  const t = operand("argmax", x);
  return bind(argmaxPrim, [t], { axes: normalizeAxes("argmax", axis, t.rank), keepDims });
}

/** Index of the smallest element along `axis`; conventions as `argmax`. */
export function argmin(x: TensorLike, axis?: Axis, keepDims = false): Tensor {
  const t = operand("argmin", x);
  return bind(argminPrim, [t], { axes: normalizeAxes("argmin", axis, t.rank), keepDims });
}

/** Options for `variance` and `std`. */
export interface VarianceOptions {
  /**
   * Subtracted from the element count in the denominator: 0 (default) is the population variance,
   * as NumPy, JAX and TensorFlow.js; 1 is the unbiased sample variance, PyTorch's default.
   */
  correction?: number;
  /** Axes to reduce, when the options object is passed in place of `axis`. */
  axis?: number | readonly number[];
  /** Keep reduced dimensions, when the options object is passed in place of `axis`. */
  keepDims?: boolean;
}

/** `variance(x, { correction: 1 })` reads as PyTorch users expect: the object stands in for the trailing arguments. */
function varianceArgs(axis: Axis | VarianceOptions, keepDims: boolean, options: VarianceOptions): [Axis, boolean, VarianceOptions] {
  if (axis !== null && typeof axis === "object" && !Array.isArray(axis)) {
    const o = axis as VarianceOptions;
    return [o.axis, o.keepDims ?? keepDims, o];
  }
  return [axis as Axis, keepDims, options];
}

/**
 * Variance over `axis` (default all): Σ(x − mean)² / (n − correction), computed two-pass from the
 * deviations (no cancellation). Population variance by default (NumPy/JAX/TF.js); pass
 * `{ correction: 1 }` for PyTorch's default — as the fourth argument, or alone in place of `axis`
 * (`variance(x, { axis: 0, correction: 1 })`). n − correction ≤ 0 divides by 0 (Infinity/NaN, as NumPy).
 * @returns float (int inputs give float32)
 * @throws ShapeError for a bad axis
 */
export function variance(x: TensorLike, axisOrOptions?: Axis | VarianceOptions, keepDimsArg = false, optionsArg: VarianceOptions = {}): Tensor {
  const [axis, keepDims, options] = varianceArgs(axisOrOptions, keepDimsArg, optionsArg);
  const t = operand("variance", x);
  const axes = normalizeAxes("variance", axis, t.rank);
  const n = axes.reduce((acc, a) => acc * t.shape[a]!, 1);
  const dev = sub(t, mean(t, axes, true));
  return div(sum(square(dev), axes, keepDims), Math.max(n - (options.correction ?? 0), 0));
}

/** √v with a zero gradient where v = 0 (the subgradient), instead of ∞·0 = NaN. */
function sqrtZeroSafe(v: Tensor): Tensor {
  const isZero = equal(v, 0);
  return where(isZero, 0, sqrt(where(isZero, 1, v)));
}

/**
 * Standard deviation √variance over `axis`; options as `variance`. Where the deviation is exactly 0
 * (a constant slice) the gradient is 0 rather than NaN.
 * @throws ShapeError for a bad axis
 */
export function std(x: TensorLike, axisOrOptions?: Axis | VarianceOptions, keepDims = false, options: VarianceOptions = {}): Tensor {
  return sqrtZeroSafe(variance(x, axisOrOptions, keepDims, options));
}

/** The orders `norm` accepts. */
export type NormOrder = 1 | 2 | "euclidean" | "fro" | typeof Infinity;

/**
 * Vector norm over `axis` (default: all elements, flattened), with TensorFlow.js's argument order.
 * ord 2 / "euclidean" / "fro": √Σx² (default); 1: Σ|x|; Infinity: max|x|; -Infinity: min|x|.
 * The gradient at the zero vector is 0 (a subgradient), not NaN, as PyTorch. Squares are summed
 * directly, so like PyTorch float32 overflows beyond about 1e19.
 * @throws ValueError for another ord, or ord 1/±Infinity over several axes (matrix norms are not provided)
 * @throws ShapeError for a bad axis
 */
export function norm(x: TensorLike, ord: NormOrder = "euclidean", axis?: Axis, keepDims = false): Tensor {
  const t = operand("norm", x);
  const axes = normalizeAxes("norm", axis, t.rank);
  if (ord === 2 || ord === "euclidean" || ord === "fro") return sqrtZeroSafe(sum(square(t), axes, keepDims));
  if (axis !== undefined && axes.length > 1) {
    throw new ValueError(`norm: ord ${ord} over ${axes.length} axes would be a matrix norm, which is not provided; use ord 2 or reduce one axis at a time`);
  }
  if (ord === 1) return sum(abs(t), axes, keepDims);
  if (ord === Infinity) return max(abs(t), axes, keepDims);
  if (ord === -Infinity) return min(abs(t), axes, keepDims);
  throw new ValueError(`norm: ord must be 1, 2, "euclidean", "fro", Infinity or -Infinity, got ${String(ord)}`);
}
