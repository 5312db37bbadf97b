import { Tensor, type TensorLike } from "../core/tensor.js";
import type { Primitive } from "../core/primitive.js";
import { allocate, promote, type DType } from "../core/dtype.js";
import { fmtShape, normalizeAxes, normalizeAxis, sameShape, sizeOf, type Shape } from "../core/shape.js";
import { ShapeError, ValueError } from "../core/errors.js";
import { kernels } from "../kernels/registry.js";
import { bind } from "../autodiff/bind.js";
import { carryZeros } from "../autodiff/strong-zeros.js";
import { castConcrete, zerosLike } from "./creation.js";
import { operand } from "./operands.js";
import { broadcastTo, reshape, transpose } from "./layout.js";
import { leadingRule } from "../core/batching.js";

/**
 * A strided window of a tensor: element i (a multi-index) of the window is element start + i·step of
 * the big tensor. `slice` reads a window (shape `window`) out of x (shape `big`); `pad` writes x
 * (shape `window`) into a tensor of shape `big` filled with `value`. The two are each other's
 * transpose, which gives both VJPs; both are linear, which gives both JVPs.
 */
interface WindowParams {
  readonly big: Shape;
  readonly window: Shape;
  readonly start: readonly number[];
  readonly step: readonly number[];
}

/** A window over one more leading axis, the batch, taken whole. */
const batchWindow = (p: WindowParams, size: number): WindowParams => ({
  big: [size, ...p.big],
  window: [size, ...p.window],
  start: [0, ...p.start],
  step: [1, ...p.step],
});

const slicePrim: Primitive<WindowParams> = {
  name: "slice",
  batch: leadingRule((p, size) => batchWindow(p, size)),
  impl([x], p) {
    const out = allocate(x!.dtype, sizeOf(p.window));
    kernels().indexing.slice(x!.data, p.big, p.start, p.step, p.window, out);
    return Tensor._concrete(out, p.window, x!.dtype);
  },
  jvp: (_x, [t], _out, p) => (t ? carryZeros(t, bind(slicePrim, [t], p), (m) => bind(slicePrim, [m], p)) : null),
  vjp: (ct, _x, _out, p) => [bind(padPrim, [ct], { ...p, value: 0 })],
};

const padPrim: Primitive<WindowParams & { readonly value: number }> = {
  name: "pad",
  batch: leadingRule((p, size) => ({ ...batchWindow(p, size), value: p.value })),
  impl([x], p) {
    const out = allocate(x!.dtype, sizeOf(p.big));
    if (p.value !== 0) out.fill(p.value);
    kernels().indexing.embed(x!.data, p.big, p.start, p.step, p.window, out);
    return Tensor._concrete(out, p.big, x!.dtype);
  },
  jvp: (_x, [t], _out, p) => (t ? bind(padPrim, [t], { ...p, value: 0 }) : null),
  vjp: (ct, _x, _out, p) => [bind(slicePrim, [ct], { big: p.big, window: p.window, start: p.start, step: p.step })],
};

type Bound = number | null | undefined;

/** One axis of a slice in Python's `slice.indices` semantics: [first index, length]. */
function sliceAxis(n: number, start: Bound, stop: Bound, step: number): [number, number] {
  const lower = step > 0 ? 0 : -1;
  const upper = step > 0 ? n : n - 1;
  const fix = (v: Bound, dflt: number): number => {
    if (v === null || v === undefined) return dflt;
    const w = v < 0 ? v + n : v;
    return Math.min(Math.max(w, lower), upper);
  };
  const a = fix(start, step > 0 ? lower : upper);
  const b = fix(stop, step > 0 ? upper : lower);
  const len = step > 0 ? Math.max(0, Math.ceil((b - a) / step)) : Math.max(0, Math.ceil((a - b) / -step));
  return [len === 0 ? 0 : a, len];
}

function perAxis<T>(op: string, what: string, v: T | readonly T[] | undefined, rank: number): (T | undefined)[] {
  if (v === undefined) return [];
  const list = Array.isArray(v) ? [...(v as readonly T[])] : [v as T];
  if (list.length > rank) throw new ShapeError(`${op}: ${what} has ${list.length} entries but the tensor has rank ${rank}`);
  return list;
}

/**
 * NumPy-style basic slicing, `x[start:stop:step]` per axis: arrays give one entry per leading axis
 * (a number means axis 0); missing axes and `null`/`undefined` entries take the defaults. Negative
 * indices count from the end, out-of-range bounds are clamped, negative steps walk backwards
 * (Python's `slice.indices`). Note the second argument is a *stop* index, not TensorFlow.js's size.
 * The gradient scatters the cotangent back into zeros of x's shape (the transposed `pad`).
 * @example slice(x, [1, null], [3, null], [1, -1])  // rows 1..2, columns reversed
 * @returns same rank and dtype as x
 * @throws ShapeError for more entries than axes; ValueError for a zero or non-integer step or bound
 */
export function slice(
  x: TensorLike,
  start?: Bound | readonly Bound[],
  stop?: Bound | readonly Bound[],
  step?: number | readonly (number | null | undefined)[],
): Tensor {
  const t = operand("slice", x);
  const r = t.rank;
  const starts = perAxis("slice", "start", start, r);
  const stops = perAxis("slice", "stop", stop, r);
  const steps = perAxis("slice", "step", step, r);
  const first: number[] = [], len: number[] = [], st: number[] = [];
  for (let d = 0; d < r; d++) {
    const s = steps[d] ?? 1;
    if (!Number.isInteger(s) || s === 0) throw new ValueError(`slice: step for axis ${d} must be a non-zero integer, got ${s}`);
    for (const b of [starts[d], stops[d]]) {
      if (b !== null && b !== undefined && !Number.isInteger(b)) throw new ValueError(`slice: bounds must be integers, got ${b} for axis ${d}`);
    }
    const [a, n] = sliceAxis(t.shape[d]!, starts[d], stops[d], s);
    first.push(a);
    len.push(n);
    st.push(s);
  }
  if (sameShape(len, t.shape) && st.every((s) => s === 1)) return t;
  return bind(slicePrim, [t], { big: t.shape, window: len, start: first, step: st });
}

/**
 * Pads with a constant (TensorFlow.js's `pad`): `paddings[d] = [before, after]` for each axis d.
 * The gradient is the slice of the cotangent that covers x; `constantValue` gets no gradient.
 * @returns shape [..., before + n + after, ...], same dtype
 * @throws ShapeError when paddings does not have one non-negative integer pair per axis
 */
export function pad(x: TensorLike, paddings: readonly (readonly [number, number])[], constantValue = 0): Tensor {
  const t = operand("pad", x);
  const ok = paddings.length === t.rank && paddings.every((p) => p.length === 2 && p.every((v) => Number.isInteger(v) && v >= 0));
  if (!ok) {
    throw new ShapeError(`pad: paddings must be one [before, after] pair of non-negative integers per axis of ${fmtShape(t.shape)}, got ${JSON.stringify(paddings)}`);
  }
  if (paddings.every(([a, b]) => a === 0 && b === 0)) return t;
  const big = t.shape.map((n, d) => n + paddings[d]![0] + paddings[d]![1]);
  return bind(padPrim, [t], { big, window: t.shape, start: paddings.map((p) => p[0]), step: t.shape.map(() => 1), value: constantValue });
}

/**
 * Reverses the order of elements along `axis` (default all axes), as NumPy's flip and TensorFlow.js's reverse.
 * @throws ShapeError for an out-of-range or repeated axis
 */
export function flip(x: TensorLike, axis?: number | readonly number[]): Tensor {
  const t = operand("flip", x);
  const axes = normalizeAxes("flip", axis, t.rank);
  if (axes.length === 0) return t;
  const step = t.shape.map((_, d) => (axes.includes(d) ? -1 : 1));
  const start = t.shape.map((n, d) => (axes.includes(d) && n > 0 ? n - 1 : 0));
  return bind(slicePrim, [t], { big: t.shape, window: t.shape, start, step });
}

const concatPrim: Primitive<number> = {
  name: "concat",
  batch: leadingRule((axis) => axis + 1),
  impl(xs, axis) {
    const dtype = xs.map((x) => x.dtype).reduce((a: DType, b) => promote(a, b));
    const parts = xs.map((x) => (x.dtype === dtype ? x : castConcrete(x, dtype)));
    const shape = [...parts[0]!.shape];
    shape[axis] = parts.reduce((acc, p) => acc + p.shape[axis]!, 0);
    const out = allocate(dtype, sizeOf(shape));
    kernels().indexing.concat(parts.map((p) => p.data), parts.map((p) => p.shape), axis, out);
    return Tensor._concrete(out, shape, dtype);
  },
  jvp(x, t, _out, axis) {
    if (t.every((ti) => ti === null)) return null;
    return bind(concatPrim, x.map((xi, i) => t[i] ?? zerosLike(xi)), axis);
  },
  vjp(ct, x, _out, axis, needs) {
    let offset = 0;
    return x.map((xi, i) => {
      const n = xi.shape[axis]!;
      const start = ct.shape.map((_, d) => (d === axis ? offset : 0));
      offset += n;
      if (!needs[i]) return null;
      return bind(slicePrim, [ct], { big: ct.shape, window: xi.shape, start, step: ct.shape.map(() => 1) });
    });
  },
};

/**
 * Joins tensors along an existing `axis` (TensorFlow.js's concat). Dtypes promote to the widest.
 * @param xs one or more tensors with equal shapes except along `axis`
 * @throws ValueError for an empty list; ShapeError when ranks or other dimensions differ, naming both shapes
 */
export function concat(xs: readonly TensorLike[], axis = 0): Tensor {
  if (xs.length === 0) throw new ValueError("concat: needs at least one tensor, got an empty list");
  const ts = xs.map((x) => operand("concat", x));
  const first = ts[0]!;
  const a = normalizeAxis("concat", axis, first.rank);
  if (first.rank === 0) throw new ShapeError("concat: cannot concatenate scalars (shape []); use stack");
  ts.forEach((t, i) => {
    const ok = t.rank === first.rank && t.shape.every((d, k) => k === a || d === first.shape[k]);
    if (!ok) {
      throw new ShapeError(`concat: shapes differ outside axis ${a}: input 0 is ${fmtShape(first.shape)}, input ${i} is ${fmtShape(t.shape)}`);
    }
  });
  if (ts.length === 1) return first;
  return bind(concatPrim, ts, a);
}

/**
 * Inserts a size-1 dimension at `axis` (default 0; negative counts from the end of the result).
 * @throws ShapeError when axis is outside [−rank−1, rank]
 */
export function expandDims(x: TensorLike, axis = 0): Tensor {
  const t = operand("expandDims", x);
  const a = normalizeAxis("expandDims", axis, t.rank + 1);
  const shape = [...t.shape];
  shape.splice(a, 0, 1);
  return reshape(t, shape);
}

/**
 * Removes size-1 dimensions: those listed in `axis`, or all of them by default.
 * @throws ShapeError when a listed axis does not have size 1 (as NumPy and TensorFlow.js)
 */
export function squeeze(x: TensorLike, axis?: number | readonly number[]): Tensor {
  const t = operand("squeeze", x);
  const axes = axis === undefined ? t.shape.flatMap((d, i) => (d === 1 ? [i] : [])) : normalizeAxes("squeeze", axis, t.rank);
  for (const a of axes) {
    if (t.shape[a] !== 1) throw new ShapeError(`squeeze: axis ${a} of ${fmtShape(t.shape)} has size ${t.shape[a]}, expected 1`);
  }
  return reshape(t, t.shape.filter((_, i) => !axes.includes(i)));
}

/**
 * Stacks tensors of one shape along a new `axis` (TensorFlow.js's stack).
 * @returns shape with a new dimension of length xs.length at `axis`
 * @throws ValueError for an empty list; ShapeError when shapes differ, naming both
 */
export function stack(xs: readonly TensorLike[], axis = 0): Tensor {
  if (xs.length === 0) throw new ValueError("stack: needs at least one tensor, got an empty list");
  const ts = xs.map((x) => operand("stack", x));
  ts.forEach((t, i) => {
    if (!sameShape(t.shape, ts[0]!.shape)) throw new ShapeError(`stack: shapes differ: input 0 is ${fmtShape(ts[0]!.shape)}, input ${i} is ${fmtShape(t.shape)}`);
  });
  const a = normalizeAxis("stack", axis, ts[0]!.rank + 1);
  const parts = ts.map((t) => expandDims(t, a));
  return parts.length === 1 ? parts[0]! : bind(concatPrim, parts, a);
}

/**
 * Splits along `axis` (TensorFlow.js's split): into `numOrSizeSplits` equal parts, or into parts
 * of the listed sizes (one entry may be −1, meaning the rest).
 * @throws ShapeError when the parts do not add up to the axis length or a number does not divide it
 */
export function split(x: TensorLike, numOrSizeSplits: number | readonly number[], axis = 0): Tensor[] {
  const t = operand("split", x);
  const a = normalizeAxis("split", axis, t.rank);
  const n = t.shape[a]!;
  let sizes: number[];
  if (typeof numOrSizeSplits === "number") {
    const k = numOrSizeSplits;
    if (!Number.isInteger(k) || k <= 0 || n % k !== 0) {
      throw new ShapeError(`split: cannot split axis ${a} of ${fmtShape(t.shape)} (length ${n}) into ${k} equal parts`);
    }
    sizes = new Array<number>(k).fill(n / k);
  } else {
    sizes = [...numOrSizeSplits];
    const unknown = sizes.filter((s) => s === -1).length;
    const known = sizes.reduce((acc, s) => (s === -1 ? acc : acc + s), 0);
    if (unknown === 1) sizes[sizes.indexOf(-1)] = n - known;
    const bad = unknown > 1 || sizes.some((s) => !Number.isInteger(s) || s < 0) || sizes.reduce((p, s) => p + s, 0) !== n;
    if (bad) throw new ShapeError(`split: sizes ${JSON.stringify(numOrSizeSplits)} do not add up to length ${n} of axis ${a} of ${fmtShape(t.shape)}`);
  }
  let offset = 0;
  return sizes.map((s) => {
    const start = t.shape.map((_, d) => (d === a ? offset : 0));
    const window = t.shape.map((dim, d) => (d === a ? s : dim));
    offset += s;
    return bind(slicePrim, [t], { big: t.shape, window, start, step: t.shape.map(() => 1) });
  });
}

/**
 * Repeats x `reps[d]` times along each axis (TensorFlow.js's tile, NumPy's tile). A shorter `reps`
 * is padded with leading 1s; a longer one adds leading axes to x. Built from reshape and broadcastTo,
 * so the gradient sums the copies.
 * @throws ValueError for negative or fractional repetitions
 */
export function tile(x: TensorLike, reps: readonly number[]): Tensor {
  const t = operand("tile", x);
  if (reps.some((r) => !Number.isInteger(r) || r < 0)) throw new ValueError(`tile: reps must be non-negative integers, got ${JSON.stringify(reps)}`);
  const rank = Math.max(t.rank, reps.length);
  const shape = [...new Array<number>(rank - t.rank).fill(1), ...t.shape];
  const r = [...new Array<number>(rank - reps.length).fill(1), ...reps];
  const interleaved = shape.flatMap((d) => [1, d]);
  const target = shape.flatMap((d, i) => [r[i]!, d]);
  return reshape(broadcastTo(reshape(t, interleaved), target), shape.map((d, i) => d * r[i]!));
}

/** Alias of `transpose` (PyTorch's name): output dimension i is input dimension perm[i]. */
export function permute(x: TensorLike, perm: readonly number[]): Tensor {
  return transpose(x, perm);
}
