import type { DType, TypedArray } from "./dtype.js";
import type { Shape } from "./shape.js";
import { fmtShape, sizeOf } from "./shape.js";
import { ValueError } from "./errors.js";
import type { Node, Trace } from "../autodiff/trace.js";
import * as ops from "../ops/index.js";
import { backward as runBackward } from "../autodiff/imperative.js";
import { formatTensor } from "./format.js";

/** Something usable where a tensor is expected: a tensor or a plain number (adopts the other operand's dtype). */
export type TensorLike = Tensor | number;

/** A nested array of numbers or booleans, as accepted by `tensor()` and returned by `toArray()`. */
export type NestedArray = number | boolean | NestedArray[];

/**
 * An n-dimensional array with a shape and dtype, row-major typed-array storage.
 *
 * A tensor is either concrete (it owns storage) or, inside a transform, a tracer boxing a primal value
 * at one trace: reverse tracers point to the recorded node, forward tracers carry a tangent. Users never
 * need to tell them apart: `item()`, `toArray()` and printing read the underlying value.
 * Tensors are immutable: ops never mutate their inputs.
 */
export class Tensor {
  /** Dimensions, outermost first; `[]` for a scalar. */
  readonly shape: Shape;
  readonly dtype: DType;
  /** Optional display name, used by the graph viewer and printed programs. */
  name: string | undefined;
  /** Gradient accumulated by `backward()` on a leaf created with `requiresGrad: true`. */
  grad: Tensor | null = null;

  /** @internal Storage, when concrete. */
  _data: TypedArray | null;
  /** @internal The boxed value, when a tracer. */
  _primal: Tensor | null;
  /** @internal The trace this tracer belongs to. */
  _trace: Trace | null;
  /** @internal Reverse tracers: the node that produced this value. */
  _node: Node | null;
  /** @internal Forward tracers: the tangent (null = zero). */
  _tangent: Tensor | null;

  /** @internal Use `tensor()`, `zeros()`, … to create tensors. */
  constructor(shape: Shape, dtype: DType, data: TypedArray | null, primal: Tensor | null, trace: Trace | null) {
    this.shape = shape;
    this.dtype = dtype;
    this._data = data;
    this._primal = primal;
    this._trace = trace;
    this._node = null;
    this._tangent = null;
    this.name = undefined;
  }

  /** @internal A concrete tensor over `data` (not copied). */
  static _concrete(data: TypedArray, shape: Shape, dtype: DType): Tensor {
    return new Tensor(shape, dtype, data, null, null);
  }

  /** @internal A tracer boxing `primal` at `trace`. */
  static _box(primal: Tensor, trace: Trace): Tensor {
    return new Tensor(primal.shape, primal.dtype, null, primal, trace);
  }

  /** Number of elements. */
  get size(): number {
    return sizeOf(this.shape);
  }

  /** Number of dimensions. */
  get rank(): number {
    return this.shape.length;
  }

  /** True for leaves created with `requiresGrad: true` and for values computed from them. */
  get requiresGrad(): boolean {
    let t: Tensor | null = this;
    while (t !== null && t._data === null) {
      if (t._trace !== null && t._trace.id === 0) return true;
      t = t._primal;
    }
    return false;
  }

  /** @internal The concrete tensor under all boxes. */
  _concreteValue(): Tensor {
    let t: Tensor = this;
    while (t._data === null) t = t._primal!;
    return t;
  }

  /** The storage as a typed array (a view, do not mutate). Works inside transforms too. */
  get data(): TypedArray {
    return this._concreteValue()._data!;
  }

  /**
   * The value of a one-element tensor as a number (bool gives 0/1).
   * @throws ValueError when the tensor has more than one element
   */
  item(): number {
    if (this.size !== 1) {
      throw new ValueError(`item: tensor has ${this.size} elements (shape ${fmtShape(this.shape)}); item() needs exactly one`);
    }
    return this.data[0]!;
  }

  /** The values as nested arrays (a number for a scalar; booleans for bool tensors). */
  toArray(): NestedArray {
    const data = this.data;
    const asValue = (v: number): number | boolean => (this.dtype === "bool" ? v !== 0 : v);
    if (this.shape.length === 0) return asValue(data[0]!);
    let offset = 0;
    const build = (dim: number): NestedArray[] => {
      const n = this.shape[dim]!;
      const out: NestedArray[] = new Array(n);
      for (let i = 0; i < n; i++) out[i] = dim === this.shape.length - 1 ? asValue(data[offset++]!) : build(dim + 1);
      return out;
    };
    return build(0);
  }

  /**
   * Reverse-mode sweep from this tensor: fills `.grad` on every `requiresGrad` leaf it depends on,
   * adding to what is there (as PyTorch does; clear with `zeroGrad`). The graph is freed afterwards
   * unless `retainGraph` is set.
   * @param ct cotangent, same shape as this tensor; defaults to 1 for a scalar
   * @throws GradientError for a non-scalar without `ct`, or a graph already freed
   */
  backward(ct?: TensorLike, options: { retainGraph?: boolean } = {}): void {
    runBackward(this, ct, options.retainGraph ?? false);
  }

  /** NumPy-style text: dtype, shape and values (summarised beyond ~1000 elements). */
  toString(): string {
    return formatTensor(this);
  }

  /** Node's `console.log` / `util.inspect` print the same text as `toString()`. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return formatTensor(this);
  }

  // ---- op methods: each forwards to the function of the same name ----
  add(y: TensorLike): Tensor { return ops.add(this, y); }
  sub(y: TensorLike): Tensor { return ops.sub(this, y); }
  mul(y: TensorLike): Tensor { return ops.mul(this, y); }
  div(y: TensorLike): Tensor { return ops.div(this, y); }
  pow(y: TensorLike): Tensor { return ops.pow(this, y); }
  maximum(y: TensorLike): Tensor { return ops.maximum(this, y); }
  minimum(y: TensorLike): Tensor { return ops.minimum(this, y); }
  atan2(y: TensorLike): Tensor { return ops.atan2(this, y); }
  equal(y: TensorLike): Tensor { return ops.equal(this, y); }
  notEqual(y: TensorLike): Tensor { return ops.notEqual(this, y); }
  greater(y: TensorLike): Tensor { return ops.greater(this, y); }
  greaterEqual(y: TensorLike): Tensor { return ops.greaterEqual(this, y); }
  less(y: TensorLike): Tensor { return ops.less(this, y); }
  lessEqual(y: TensorLike): Tensor { return ops.lessEqual(this, y); }
  neg(): Tensor { return ops.neg(this); }
  abs(): Tensor { return ops.abs(this); }
  sign(): Tensor { return ops.sign(this); }
  exp(): Tensor { return ops.exp(this); }
  expm1(): Tensor { return ops.expm1(this); }
  log(): Tensor { return ops.log(this); }
  log1p(): Tensor { return ops.log1p(this); }
  sqrt(): Tensor { return ops.sqrt(this); }
  rsqrt(): Tensor { return ops.rsqrt(this); }
  square(): Tensor { return ops.square(this); }
  reciprocal(): Tensor { return ops.reciprocal(this); }
  sin(): Tensor { return ops.sin(this); }
  cos(): Tensor { return ops.cos(this); }
  tan(): Tensor { return ops.tan(this); }
  tanh(): Tensor { return ops.tanh(this); }
  sigmoid(): Tensor { return ops.sigmoid(this); }
  relu(): Tensor { return ops.relu(this); }
  sum(axis?: number | readonly number[], keepDims = false): Tensor { return ops.sum(this, axis, keepDims); }
  mean(axis?: number | readonly number[], keepDims = false): Tensor { return ops.mean(this, axis, keepDims); }
  reshape(shape: readonly number[]): Tensor { return ops.reshape(this, shape); }
  transpose(perm?: readonly number[]): Tensor { return ops.transpose(this, perm); }
  broadcastTo(shape: readonly number[]): Tensor { return ops.broadcastTo(this, shape); }
  matmul(y: Tensor): Tensor { return ops.matmul(this, y); }
  astype(dtype: DType): Tensor { return ops.cast(this, dtype); }
  max(axis?: number | readonly number[], keepDims = false): Tensor { return ops.max(this, axis, keepDims); }
  min(axis?: number | readonly number[], keepDims = false): Tensor { return ops.min(this, axis, keepDims); }
  prod(axis?: number | readonly number[], keepDims = false): Tensor { return ops.prod(this, axis, keepDims); }
  argmax(axis?: number | readonly number[], keepDims = false): Tensor { return ops.argmax(this, axis, keepDims); }
  argmin(axis?: number | readonly number[], keepDims = false): Tensor { return ops.argmin(this, axis, keepDims); }
  variance(axis?: number | readonly number[], keepDims = false, options?: ops.VarianceOptions): Tensor { return ops.variance(this, axis, keepDims, options); }
  std(axis?: number | readonly number[], keepDims = false, options?: ops.VarianceOptions): Tensor { return ops.std(this, axis, keepDims, options); }
  norm(ord?: ops.NormOrder, axis?: number | readonly number[], keepDims = false): Tensor { return ops.norm(this, ord, axis, keepDims); }
  erf(): Tensor { return ops.erf(this); }
  gelu(options?: ops.GeluOptions): Tensor { return ops.gelu(this, options); }
  softplus(): Tensor { return ops.softplus(this); }
  leakyRelu(alpha?: number): Tensor { return ops.leakyRelu(this, alpha); }
  elu(alpha?: number): Tensor { return ops.elu(this, alpha); }
  clip(lo: TensorLike, hi: TensorLike): Tensor { return ops.clip(this, lo, hi); }
  expandDims(axis?: number): Tensor { return ops.expandDims(this, axis); }
  squeeze(axis?: number | readonly number[]): Tensor { return ops.squeeze(this, axis); }
  slice(start?: number | null | readonly (number | null | undefined)[], stop?: number | null | readonly (number | null | undefined)[], step?: number | readonly (number | null | undefined)[]): Tensor {
    return ops.slice(this, start, stop, step);
  }
  pad(paddings: readonly (readonly [number, number])[], constantValue?: number): Tensor { return ops.pad(this, paddings, constantValue); }
  flip(axis?: number | readonly number[]): Tensor { return ops.flip(this, axis); }
  tile(reps: readonly number[]): Tensor { return ops.tile(this, reps); }
  split(numOrSizeSplits: number | readonly number[], axis?: number): Tensor[] { return ops.split(this, numOrSizeSplits, axis); }
  gather(indices: ops.Indices, axis?: number): Tensor { return ops.gather(this, indices, axis); }
  take(indices: ops.Indices, axis?: number): Tensor { return ops.take(this, indices, axis); }
  permute(perm: readonly number[]): Tensor { return ops.permute(this, perm); }
}
