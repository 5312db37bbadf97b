import { Tensor, type TensorLike } from "../core/tensor.js";
import type { Primitive } from "../core/primitive.js";
import { allocate, isFloat } from "../core/dtype.js";
import { normalizeAxes, sizeOf } from "../core/shape.js";
import { kernels } from "../kernels/registry.js";
import { bind } from "../autodiff/bind.js";
import { carryZeros, selectedAway } from "../autodiff/strong-zeros.js";
import { operand } from "./operands.js";
import { broadcastTo, reshape } from "./layout.js";
import { cast, where } from "./select.js";
import { div, equal, notEqual } from "./elementwise.js";
import { all, logicalNot, logicalOr } from "./logical.js";
import { leadingRule, shiftAxes } from "../core/batching.js";

/** Parameters of a reduction: sorted axes and whether reduced dimensions are kept as size 1. */
export interface ReduceParams {
  /** Reduced axes, non-negative and sorted. */
  readonly axes: readonly number[];
  /** Whether the reduced dimensions stay in the output as size 1. */
  readonly keepDims: boolean;
}

function reducedShape(shape: readonly number[], p: ReduceParams): number[] {
  return p.keepDims ? shape.map((d, i) => (p.axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !p.axes.includes(i));
}

function keptShape(shape: readonly number[], axes: readonly number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

function reduceImpl(kind: "sum" | "max" | "min" | "prod") {
  return ([x]: Tensor[], p: ReduceParams): Tensor => {
    const t = x!;
    // Sums of bools and ints count in int32, as NumPy does for booleans.
    const dtype = kind === "sum" && !isFloat(t.dtype) ? "int32" : t.dtype;
    const shape = reducedShape(t.shape, p);
    const out = allocate(dtype, sizeOf(shape));
    kernels().reduce(t.data, t.shape, p.axes, out, kind);
    return Tensor._concrete(out, shape, dtype);
  };
}

/** Expands a reduced cotangent back over the reduced axes. */
function expand(ct: Tensor, x: Tensor, p: ReduceParams): Tensor {
  const kept = keptShape(x.shape, p.axes);
  return carryZeros(ct, broadcastTo(reshape(ct, kept), x.shape), (m) => broadcastTo(reshape(m, kept), x.shape));
}

/** @internal The sum primitive (jit fuses full sums into its loops, recognising them by this object). */
export const sumPrim: Primitive<ReduceParams> = {
  name: "sum",
  batch: leadingRule(shiftAxes),
  impl: reduceImpl("sum"),
  jvp: (_x, [t], _out, p) => (t ? carryZeros(t, sum(t, p.axes, p.keepDims), (m) => all(m, p.axes, p.keepDims)) : null),
  vjp: (ct, [x], _out, p) => [expand(ct, x!, p)],
  residuals: [[]], // reads only x's shape
};

function extremum(kind: "max" | "min"): Primitive<ReduceParams> {
  // The selected elements: those equal to the extremum, or, where it is NaN, the NaN elements (which the
  // kernel propagated). Tied elements share the gradient evenly (PyTorch's amax/amin); the others get
  // exactly 0 by selection, never 0·t, which is NaN under an infinite tangent or cotangent.
  const chosen = (x: Tensor, out: Tensor, p: ReduceParams): Tensor => {
    const o = expand(out, x, p);
    return logicalOr(equal(x, o), notEqual(x, x));
  };
  const count = (mask: Tensor, x: Tensor, p: ReduceParams): Tensor => sum(cast(mask, x.dtype), p.axes, p.keepDims);
  return {
    name: kind,
    impl: reduceImpl(kind),
    batch: leadingRule(shiftAxes),
    jvp([x], [t], out, p) {
      if (!t) return null;
      const mask = chosen(x!, out, p);
      const share = div(sum(where(mask, t, 0), p.axes, p.keepDims), count(mask, x!, p));
      // A structural zero where every chosen element's tangent is one (see structuralZeros).
      return carryZeros(t, share, (m) => all(logicalOr(logicalNot(mask), m), p.axes, p.keepDims));
    },
    vjp(ct, [x], out, p) {
      const mask = chosen(x!, out, p);
      // ct/count keeps ct's structural zeros (count ≥ 1): the division here is plain arithmetic on the
      // cotangent, which carries no mask by itself.
      const share = expand(carryZeros(ct, div(ct, count(mask, x!, p)), (m) => m), x!, p);
      return [selectedAway(logicalNot(mask), share, share)];
    },
  };
}

const maxPrim = extremum("max");
const minPrim = extremum("min");

/** Axes to reduce: one axis, several, or undefined for all; negative axes count from the end. */
export type Axis = number | readonly number[] | undefined;

function reduce(prim: Primitive<ReduceParams>, x: TensorLike, axis: Axis, keepDims: boolean): Tensor {
  const t = operand(prim.name, x);
  const axes = normalizeAxes(prim.name, axis, t.rank);
  return bind(prim, [t], { axes, keepDims });
}

/**
 * Sum over `axis` (a number or list, negative counts from the end; default all axes).
 * @param keepDims keep reduced dimensions as size 1
 * @returns float input → same dtype; int32/bool → int32
 * @throws ShapeError for an out-of-range or repeated axis
 */
export function sum(x: TensorLike, axis?: Axis, keepDims = false): Tensor {
  return reduce(sumPrim, x, axis, keepDims);
}

/**
 * Arithmetic mean over `axis` (default all). Mean over zero elements is NaN, as in NumPy.
 * @throws ShapeError for an out-of-range or repeated axis
 */
export function mean(x: TensorLike, axis?: Axis, keepDims = false): Tensor {
  const t = operand("mean", x);
  const axes = normalizeAxes("mean", axis, t.rank);
  const n = axes.reduce((p, a) => p * t.shape[a]!, 1);
  const s = sum(isFloat(t.dtype) ? t : cast(t, "float32"), axes, keepDims);
  return div(s, n);
}

/**
 * Maximum over `axis` (default all); tied maxima share the gradient evenly (PyTorch's amax), and the
 * other elements get exactly 0, even under an infinite gradient. NaN propagates: a slice with a NaN has
 * maximum NaN, and its NaN elements share the gradient (PyTorch's amax gives the whole slice NaN; its
 * `max` without an axis, like max pooling, routes it to the NaN). Max over zero elements is −Infinity.
 * @throws ShapeError for an out-of-range or repeated axis
 */
export function max(x: TensorLike, axis?: Axis, keepDims = false): Tensor {
  return reduce(maxPrim, x, axis, keepDims);
}

/**
 * Minimum over `axis` (default all); conventions as `max` (ties share, the others get exactly 0, NaN
 * propagates and its NaN elements take the gradient).
 * @throws ShapeError for an out-of-range or repeated axis
 */
export function min(x: TensorLike, axis?: Axis, keepDims = false): Tensor {
  return reduce(minPrim, x, axis, keepDims);
}
