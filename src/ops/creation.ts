import { deviceState } from "../core/device.js";
import { Tensor, type NestedArray, type TensorLike } from "../core/tensor.js";
import { allocate, checkDType, type DType, type TypedArray } from "../core/dtype.js";
import { fmtShape, sizeOf, type Shape } from "../core/shape.js";
import { DTypeError, ShapeError, ValueError } from "../core/errors.js";
import { Rng } from "../core/random.js";
import { IMPERATIVE_TRACE, Node, pinned } from "../autodiff/trace.js";

/** Options for creating a tensor. */
export interface TensorOptions {
  /** Element type; default float32 (bool for nested booleans; int32/float64 inferred from typed arrays). */
  dtype?: DType;
  /** Shape for flat data; must match the number of elements. */
  shape?: readonly number[];
  /** Display name for the graph viewer and printed programs. */
  name?: string;
  /** Make this a leaf whose gradient `backward()` fills into `.grad` (float dtypes only). */
  requiresGrad?: boolean;
}

function dtypeOfTypedArray(data: TypedArray): DType {
  if (data instanceof Float64Array) return "float64";
  if (data instanceof Int32Array) return "int32";
  if (data instanceof Uint8Array) return "bool";
  return "float32";
}

function checkShape(op: string, shape: readonly number[]): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new ShapeError(`${op}: shape ${fmtShape(shape)} must contain non-negative integers`);
  }
}

/** Walks a nested array, checking it is rectangular and numeric, and returns its shape. */
function inferShape(value: NestedArray): number[] {
  const shape: number[] = [];
  let v: NestedArray = value;
  while (Array.isArray(v)) {
    shape.push(v.length);
    if (v.length === 0) break;
    v = v[0]!;
  }
  return shape;
}

/** A short printable form of any value (JSON.stringify throws on bigints and cycles). */
function describeValue(v: unknown): string {
  if (typeof v === "bigint") return `${v}n`;
  if (typeof v === "symbol" || typeof v === "function" || v === undefined) return String(v);
  try {
    return JSON.stringify(v).slice(0, 40);
  } catch {
    return Object.prototype.toString.call(v);
  }
}

function flatten(value: NestedArray, shape: number[], out: TypedArray): void {
  let k = 0;
  const walk = (v: NestedArray, dim: number, path: string): void => {
    if (dim === shape.length) {
      if (Array.isArray(v)) throw new ShapeError(`tensor: ragged nested array: element at ${path || "the top level"} is an array, expected a number (shape so far ${fmtShape(shape)})`);
      if (typeof v === "boolean") out[k++] = v ? 1 : 0;
      else if (typeof v === "number") out[k++] = v;
      else throw new ValueError(`tensor: element at ${path || "the top level"} is ${describeValue(v)} (${typeof v}); expected a number or boolean`);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[dim]) {
      const got = Array.isArray(v) ? `length ${v.length}` : `a ${typeof v}`;
      throw new ShapeError(`tensor: ragged nested array: element at ${path || "the top level"} has ${got}, expected an array of length ${shape[dim]} (shape ${fmtShape(shape)})`);
    }
    for (let i = 0; i < v.length; i++) walk(v[i]!, dim + 1, `${path}[${i}]`);
  };
  walk(value, 0, "");
}

function hasBoolean(value: NestedArray): boolean {
  let v: NestedArray = value;
  while (Array.isArray(v)) {
    if (v.length === 0) return false;
    v = v[0]!;
  }
  return typeof v === "boolean";
}

/** @internal Makes `t` a requiresGrad leaf on the imperative trace. */
export function makeLeaf(t: Tensor): Tensor {
  if (t.dtype !== "float32" && t.dtype !== "float64") {
    throw new DTypeError(`tensor: requiresGrad needs a float dtype, got ${t.dtype}; create it with { dtype: "float32" }`);
  }
  const box = Tensor._box(t, IMPERATIVE_TRACE);
  const node = Node.leaf(t, box);
  pinned.leafValues.add(t);
  box._node = node;
  box.name = t.name;
  return box;
}

/**
 * Creates a tensor from a number, boolean, nested array, typed array (not copied) or tensor.
 * @param value  data; nested arrays must be rectangular
 * @returns a tensor of the inferred or requested dtype and shape
 * @throws ShapeError for ragged arrays or a `shape` that does not match the data
 * @throws ValueError for elements that are not numbers or booleans
 */
export function tensor(value: NestedArray | TypedArray | Tensor, options: TensorOptions = {}): Tensor {
  if (options.dtype !== undefined) checkDType("tensor", options.dtype);
  let out: Tensor;
  if (value instanceof Tensor) {
    out = options.dtype && options.dtype !== value.dtype ? castConcrete(value._concreteValue(), options.dtype) : value._concreteValue();
    if (options.shape) out = Tensor._concrete(out.data, options.shape, out.dtype);
  } else if (ArrayBuffer.isView(value)) {
    const data = value as TypedArray;
    const shape = options.shape ? [...options.shape] : [data.length];
    checkShape("tensor", shape);
    if (sizeOf(shape) !== data.length) throw new ShapeError(`tensor: shape ${fmtShape(shape)} needs ${sizeOf(shape)} elements, got ${data.length}`);
    const own = dtypeOfTypedArray(data);
    const dtype = options.dtype ?? own;
    let store: TypedArray = data;
    if (dtype !== own) {
      store = allocate(dtype, data.length);
      store.set(data);
    }
    out = Tensor._concrete(store, shape, dtype);
  } else {
    const nested = value as NestedArray;
    const natural = inferShape(nested);
    const dtype = options.dtype ?? (hasBoolean(nested) ? "bool" : "float32");
    const data = allocate(dtype, sizeOf(natural));
    flatten(nested, natural, data);
    let shape: number[] = natural;
    if (options.shape) {
      checkShape("tensor", options.shape);
      if (sizeOf(options.shape) !== data.length) throw new ShapeError(`tensor: shape ${fmtShape(options.shape)} needs ${sizeOf(options.shape)} elements, got ${data.length}`);
      shape = [...options.shape];
    }
    out = Tensor._concrete(data, shape, dtype);
  }
  if (options.name !== undefined) {
    if (out === value) out = Tensor._concrete(out.data, out.shape, out.dtype);
    out.name = options.name;
  }
  return options.requiresGrad ? makeLeaf(out) : out;
}

/** A 0-d tensor. Same as `tensor(value, options)` for a number. */
export function scalar(value: number | boolean, options: Omit<TensorOptions, "shape"> = {}): Tensor {
  return tensor(value, options);
}

// Tensors are immutable, so the scalars made for plain-number operands (the 2 in x*2) can be shared.
const constantCache = new Map<number, Tensor>();
const CACHE_LIMIT = 4096;
const DTYPE_KEY: Record<DType, number> = { float32: 0, float64: 1, int32: 2, bool: 3 };

/** @internal Converts a number to a 0-d tensor of `dtype`; passes tensors through. */
export function toTensor(x: TensorLike, dtype: DType = "float32"): Tensor {
  if (x instanceof Tensor) return x;
  if (typeof x !== "number") throw new ValueError(`expected a tensor or a number, got ${typeof x}`);
  const cache = constantCache;
  // Key on the value and dtype; -0 and NaN are kept out so the cache never changes a result.
  const cacheable = x === x && !Object.is(x, -0);
  const key = cacheable ? x * 4 + DTYPE_KEY[dtype] : 0;
  if (cacheable) {
    const hit = cache.get(key);
    if (hit !== undefined && hit.dtype === dtype && hit._data![0] === (dtype === "float32" ? Math.fround(x) : x)) return hit;
  }
  const data = allocate(dtype, 1);
  data[0] = x;
  const t = Tensor._concrete(data, [], dtype);
  if (cacheable && (dtype === "float32" || dtype === "float64")) {
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(key, t);
    pinned.constants.add(t);
  }
  return t;
}

/** @internal Dtype conversion on a concrete tensor (int32 truncates toward zero, bool is x ≠ 0). */
export function castConcrete(x: Tensor, dtype: DType): Tensor {
  const src = x.data;
  const data = allocate(dtype, src.length);
  if (dtype === "bool") for (let i = 0; i < src.length; i++) data[i] = src[i] !== 0 ? 1 : 0;
  else data.set(src);
  return Tensor._concrete(data, x.shape, dtype);
}

/** Options of the creation functions (`zeros`, `ones`, `full`, `eye`, `arange`, `linspace`), as for `randn`. */
export interface CreationOptions {
  /** Element type; default float32. */
  dtype?: DType;
}

/**
 * The dtype from the options object, or from a bare dtype string: the older positional form, still
 * accepted and deprecated (`zeros([2], "float64")` → `zeros([2], { dtype: "float64" })`).
 */
function dtypeOf(options: CreationOptions | DType | undefined): DType {
  return typeof options === "string" ? options : options?.dtype ?? "float32";
}

/**
 * A tensor of `shape` filled with `value`.
 * @param options `{ dtype }` (default float32); a bare dtype string is the deprecated older form
 * @throws ShapeError for negative or fractional dimensions; DTypeError for an unknown dtype
 */
export function full(shape: readonly number[], value: number, options?: CreationOptions): Tensor;
/** @deprecated pass `{ dtype }`: `full(shape, value, { dtype: "float64" })` */
export function full(shape: readonly number[], value: number, dtype: DType): Tensor;
export function full(shape: readonly number[], value: number, options?: CreationOptions | DType): Tensor {
  const dtype = dtypeOf(options);
  checkShape("full", shape);
  checkDType("full", dtype);
  const data = allocate(dtype, sizeOf(shape));
  if (value !== 0) data.fill(value);
  return Tensor._concrete(data, [...shape], dtype);
}

/** Zeros of `shape`; `options.dtype` defaults to float32 (as `randn(shape, { dtype })`). */
export function zeros(shape: readonly number[], options?: CreationOptions): Tensor;
/** @deprecated pass `{ dtype }`: `zeros(shape, { dtype: "float64" })` */
export function zeros(shape: readonly number[], dtype: DType): Tensor;
export function zeros(shape: readonly number[], options?: CreationOptions | DType): Tensor {
  return full(shape, 0, { dtype: dtypeOf(options) });
}

/** Ones of `shape`; `options.dtype` defaults to float32. */
export function ones(shape: readonly number[], options?: CreationOptions): Tensor;
/** @deprecated pass `{ dtype }`: `ones(shape, { dtype: "float64" })` */
export function ones(shape: readonly number[], dtype: DType): Tensor;
export function ones(shape: readonly number[], options?: CreationOptions | DType): Tensor {
  return full(shape, 1, { dtype: dtypeOf(options) });
}

/** Zeros with the shape and dtype of `x`, on x's device. */
export function zerosLike(x: Tensor): Tensor {
  return deviceState.active && x.device !== "cpu" ? deviceState.backend!.full(x.shape, 0, x.dtype) : full(x.shape, 0, x.dtype);
}

/** Ones with the shape and dtype of `x`, on x's device. */
export function onesLike(x: Tensor): Tensor {
  return deviceState.active && x.device !== "cpu" ? deviceState.backend!.full(x.shape, 1, x.dtype) : full(x.shape, 1, x.dtype);
}

/**
 * Evenly spaced values in [start, stop) with `step`, like NumPy's arange. `arange(n)` is 0..n-1.
 * @throws ValueError when step is 0 or a bound is not finite
 */
export function arange(start: number, stop?: number, step?: number, options?: CreationOptions): Tensor;
/** @deprecated pass `{ dtype }`: `arange(0, 10, 1, { dtype: "int32" })` */
export function arange(start: number, stop: number | undefined, step: number | undefined, dtype: DType): Tensor;
export function arange(start: number, stop?: number, step = 1, options?: CreationOptions | DType): Tensor {
  const dtype = dtypeOf(options);
  if (stop === undefined) {
    stop = start;
    start = 0;
  }
  if (step === 0 || !Number.isFinite(start) || !Number.isFinite(stop) || !Number.isFinite(step)) {
    throw new ValueError(`arange: start ${start}, stop ${stop}, step ${step}: need finite bounds and a non-zero step`);
  }
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const data = allocate(dtype, n);
  for (let i = 0; i < n; i++) data[i] = start + i * step;
  return Tensor._concrete(data, [n], dtype);
}

/**
 * `num` evenly spaced values from start to stop inclusive, like NumPy's linspace.
 * @throws ValueError when num is negative or not an integer
 */
export function linspace(start: number, stop: number, num: number, options?: CreationOptions): Tensor;
/** @deprecated pass `{ dtype }`: `linspace(0, 1, 5, { dtype: "float64" })` */
export function linspace(start: number, stop: number, num: number, dtype: DType): Tensor;
export function linspace(start: number, stop: number, num: number, options?: CreationOptions | DType): Tensor {
  const dtype = dtypeOf(options);
  if (!Number.isInteger(num) || num < 0) throw new ValueError(`linspace: num must be a non-negative integer, got ${num}`);
  const data = allocate(dtype, num);
  const step = num > 1 ? (stop - start) / (num - 1) : 0;
  for (let i = 0; i < num; i++) data[i] = start + i * step;
  if (num > 1) data[num - 1] = stop;
  return Tensor._concrete(data, [num], dtype);
}

/**
 * The n×m identity matrix (m defaults to n).
 * @throws ShapeError for negative or fractional sizes
 */
export function eye(n: number, m?: number, options?: CreationOptions): Tensor;
/** @deprecated pass `{ dtype }`: `eye(3, 3, { dtype: "float64" })` */
export function eye(n: number, m: number | undefined, dtype: DType): Tensor;
export function eye(n: number, m = n, options?: CreationOptions | DType): Tensor {
  const dtype = dtypeOf(options);
  if (!Number.isInteger(n) || !Number.isInteger(m) || n < 0 || m < 0) throw new ShapeError(`eye: sizes must be non-negative integers, got n = ${n}, m = ${m}`);
  const out = zeros([n, m], { dtype });
  const data = out.data;
  for (let i = 0; i < Math.min(n, m); i++) data[i * m + i] = 1;
  return out;
}

/** Options for random tensors: a seed makes the numbers reproducible on every machine. */
export interface RandomOptions {
  /** Seed of the generator; the same seed gives the same numbers on every machine. Default: a fresh stream per call. */
  seed?: number;
  /** Element type; default float32. */
  dtype?: DType;
}

let defaultSeedCounter = 0;

/**
 * Standard normal samples (Box–Muller over mulberry32; see `Rng`).
 * @param shape output shape
 * @param options.seed same seed → same numbers everywhere; without one, a fresh stream each call
 */
export function randn(shape: readonly number[], options: RandomOptions = {}): Tensor {
  checkShape("randn", shape);
  const rng = new Rng(options.seed ?? 0x5eed + defaultSeedCounter++);
  const data = allocate(options.dtype ?? "float32", sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  return Tensor._concrete(data, [...shape], options.dtype ?? "float32");
}

/**
 * Uniform samples in [low, high).
 * @param options.seed same seed → same numbers everywhere
 * @throws ValueError when low or high is not a finite number (e.g. options passed in low's place)
 */
export function uniform(shape: readonly number[], low = 0, high = 1, options: RandomOptions = {}): Tensor {
  checkShape("uniform", shape);
  if (typeof low !== "number" || typeof high !== "number" || !Number.isFinite(low) || !Number.isFinite(high)) {
    // A common slip is uniform(shape, { seed }) (the options come after low and high), which would fill NaN.
    throw new ValueError(`uniform: low and high must be finite numbers, got ${describeValue(low)} and ${describeValue(high)}; the signature is uniform(shape, low, high, { seed, dtype })`);
  }
  const rng = new Rng(options.seed ?? 0xbeef + defaultSeedCounter++);
  const data = allocate(options.dtype ?? "float32", sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = low + (high - low) * rng.next();
  return Tensor._concrete(data, [...shape], options.dtype ?? "float32");
}

export type { Shape };
