import { ShapeError } from "./errors.js";

/** A tensor shape: one non-negative integer per dimension; `[]` is a scalar. */
export type Shape = readonly number[];

/** Number of elements of a shape (1 for a scalar). */
export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides, in elements. */
export function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

/** `[2,3]` — the way shapes appear in every error message. */
export function fmtShape(shape: Shape): string {
  return `[${shape.join(",")}]`;
}

/**
 * " (batch index [i, j])" for matrix `b` (row-major over the batch dimensions) of a batch of matrices of
 * `shape` [..., m, n], "" for a single matrix: the suffix the linear-algebra errors use on every backend.
 */
export function batchIndexSuffix(shape: Shape, b: number): string {
  const batch = shape.slice(0, -2);
  if (batch.length === 0) return "";
  const idx: number[] = [];
  for (let d = batch.length - 1; d >= 0; d--) {
    idx.unshift(b % batch[d]!);
    b = Math.floor(b / batch[d]!);
  }
  return ` (batch index ${fmtShape(idx)})`;
}

export function sameShape(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Result shape of broadcasting `a` with `b` by NumPy's rules: align trailing dimensions;
 * each pair must be equal or contain a 1.
 * @throws ShapeError naming `op` and both shapes
 */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(
        `${op}: shapes cannot be broadcast together: ${fmtShape(a)} and ${fmtShape(b)} (dimension ${i - n} is ${da} vs ${db}); make them equal or 1`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/**
 * Normalises one axis (negative counts from the end).
 * @throws ShapeError when the axis is out of range for `rank`
 */
export function normalizeAxis(op: string, axis: number, rank: number): number {
  if (typeof axis !== "number" || !Number.isInteger(axis)) {
    throw new ShapeError(`${op}: axis must be an integer, got ${describeAxis(axis)}`);
  }
  if (!Number.isInteger(axis) || axis < -rank || axis >= Math.max(rank, 1)) {
    if (!(rank === 0 && (axis === 0 || axis === -1))) {
      throw new ShapeError(`${op}: axis ${axis} is out of range for a tensor of rank ${rank}; expected an integer in [${-rank}, ${rank - 1}]`);
    }
  }
  return axis < 0 ? axis + rank : axis;
}

/**
 * Normalises an optional axis or list of axes to a sorted, de-duplicated list; `undefined` means all axes.
 * @throws ShapeError on an out-of-range or repeated axis
 */
export function normalizeAxes(op: string, axis: number | readonly number[] | undefined, rank: number): number[] {
  if (axis === undefined || axis === null) return Array.from({ length: rank }, (_, i) => i);
  if (typeof axis !== "number" && !Array.isArray(axis)) {
    throw new ShapeError(`${op}: axis must be a number or an array of numbers, got ${describeAxis(axis)}; later options are positional, e.g. ${op}(x, axis, keepDims)`);
  }
  const list = typeof axis === "number" ? [axis] : [...axis];
  const out = list.map((a) => normalizeAxis(op, a, rank));
  const seen = new Set<number>();
  for (const a of out) {
    if (seen.has(a)) throw new ShapeError(`${op}: axis ${a} is repeated in ${JSON.stringify(list)}`);
    seen.add(a);
  }
  return out.sort((x, y) => x - y);
}

function describeAxis(axis: unknown): string {
  if (typeof axis === "string") return JSON.stringify(axis);
  if (axis === null || typeof axis !== "object") return String(axis);
  try {
    return JSON.stringify(axis);
  } catch {
    return Object.prototype.toString.call(axis);
  }
}
