import type { DType, TypedArray } from "./dtype.js";
import type { Shape } from "./shape.js";
import { fmtShape, sizeOf } from "./shape.js";
import { GradientError, ShapeError, ValueError } from "./errors.js";
import type { Node, Trace } from "../autodiff/trace.js";
import * as ops from "../ops/index.js";
import { backward as runBackward } from "../autodiff/imperative.js";
import { setRequiresGrad, updateInPlace } from "../autodiff/inplace.js";
import { formatTensor } from "./format.js";
import { deviceState, type Device, type DeviceStorage } from "./device.js";

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
 * Ops never mutate their inputs. Only the in-place methods (`assign`, `addInPlace`, `subInPlace`,
 * `mulInPlace`, `divInPlace`) write into a tensor's storage; see their rules there.
 */
export class Tensor {
  /** Dimensions, outermost first; `[]` for a scalar. */
  readonly shape: Shape;
  /** Element type: float32 (default), float64, int32 or bool. */
  readonly dtype: DType;
  /** Optional display name, used by the graph viewer and printed programs. */
  name: string | undefined;
  /** Gradient accumulated by `backward()` on a leaf created with `requiresGrad: true`. */
  grad: Tensor | null = null;

  /** @internal Storage, when concrete on the CPU. */
  _data: TypedArray | null;
  /** @internal Storage, when concrete on a device (WebGPU); then `_data` is null. */
  _device: DeviceStorage | null;
  /** @internal The boxed value, when a tracer. */
  _primal: Tensor | null;
  /** @internal The trace this tracer belongs to. */
  _trace: Trace | null;
  /** @internal Reverse tracers: the node that produced this value. */
  _node: Node | null;
  /** @internal Forward tracers: the tangent (null = zero). */
  _tangent: Tensor | null;
  /** @internal Stage tracers (jit): the value's number in the program being recorded. */
  _id: number;
  /**
   * @internal Stage tracers (jit): the structural-zero mask of this tangent or cotangent, or a thunk that
   * stages it when first asked (see src/autodiff/strong-zeros.ts); undefined when it has none. On the
   * tracer itself so it dies with it: a table beside the tracers kept every mask of a trace alive.
   */
  _mask: Tensor | (() => Tensor | null) | undefined;

  /** Not for direct use: create tensors with `tensor()`, `zeros()`, `randn()`, … */
  constructor(shape: Shape, dtype: DType, data: TypedArray | null, primal: Tensor | null, trace: Trace | null) {
    this.shape = shape;
    this.dtype = dtype;
    this._data = data;
    this._device = null;
    this._primal = primal;
    this._trace = trace;
    this._node = null;
    this._tangent = null;
    this._id = -1;
    this._mask = undefined;
    this.name = undefined;
  }

  /** @internal A concrete tensor over `data` (not copied). */
  static _concrete(data: TypedArray, shape: Shape, dtype: DType): Tensor {
    return new Tensor(shape, dtype, data, null, null);
  }

  /** @internal A concrete tensor over device storage (created by the device backend only). */
  static _onDevice(storage: DeviceStorage, shape: Shape, dtype: DType): Tensor {
    const t = new Tensor(shape, dtype, null, null, null);
    t._device = storage;
    return t;
  }

  /** @internal A new concrete tensor object over the same storage as concrete `t` (host or device). */
  static _sameStorage(t: Tensor): Tensor {
    const c = new Tensor(t.shape, t.dtype, t._data, null, null);
    c._device = t._device;
    return c;
  }

  /** @internal A tracer boxing `primal` at `trace`. */
  static _box(primal: Tensor, trace: Trace): Tensor {
    return new Tensor(primal.shape, primal.dtype, null, primal, trace);
  }

  /**
   * @internal A tracer of a batch trace (`vmap`): `primal` has the batch axis in front; the tracer's
   * own shape is one example's, so code inside vmap sees per-example shapes.
   */
  static _boxBatch(primal: Tensor, trace: Trace): Tensor {
    return new Tensor(primal.shape.slice(1), primal.dtype, null, primal, trace);
  }

  /**
   * @internal A value-less tensor of the given shape and dtype, passed to a VJP rule in place of a value
   * the recorded graph did not keep. Reading its value throws.
   */
  static _standIn(shape: Shape, dtype: DType): Tensor {
    return new Tensor(shape, dtype, null, null, null);
  }

  /** Number of elements. */
  get size(): number {
    return sizeOf(this.shape);
  }

  /** Number of dimensions. */
  get rank(): number {
    return this.shape.length;
  }

  /**
   * True for leaves created with `requiresGrad: true` and for values computed from them.
   *
   * Settable, as PyTorch's `requires_grad`: `x.requiresGrad = true` makes a plain float tensor a leaf
   * in place (the object you hold becomes the leaf, so `.grad` fills after `backward()`); `false` makes
   * a leaf a plain tensor again. Setting it on a value computed from requiresGrad tensors can only
   * keep it `true` (use `detach()` for a tensor outside the graph).
   * @throws DTypeError when setting true on an int32/bool tensor
   * @throws GradientError when setting false on a non-leaf, or on a tracer inside grad/jvp/…
   */
  get requiresGrad(): boolean {
    let t: Tensor | null = this;
    while (t !== null && t._data === null && t._device === null) {
      if (t._trace !== null && t._trace.id === 0) return true;
      t = t._primal;
    }
    return false;
  }
  /** Makes a plain float tensor a leaf (true) or a leaf a plain tensor (false); see the getter for the rules. */
  set requiresGrad(flag: boolean) {
    setRequiresGrad(this, flag);
  }

  /**
   * A tensor with the same value and storage that does not require grad: gradients do not flow
   * through it (PyTorch's `detach()`, the same as {@link ops.stopGradient | stopGradient}). It shares
   * storage with this tensor, so an in-place update of either shows in both.
   */
  detach(): Tensor {
    return ops.stopGradient(this);
  }

  /**
   * The transpose of a 2-D tensor (a 0-D or 1-D tensor is returned unchanged, as PyTorch's `.T`).
   * Differentiable: it is `transpose(this)`.
   * @throws ShapeError for more than 2 dimensions (PyTorch reverses all of them there, with a warning;
   *   say what you mean with `transpose(perm)` instead)
   */
  get T(): Tensor {
    if (this.rank > 2) {
      throw new ShapeError(`T: tensor has shape ${fmtShape(this.shape)}; .T is for tensors of at most 2 dimensions. Use x.transpose(perm) to choose the axes (e.g. swap the last two)`);
    }
    return this.rank === 2 ? ops.transpose(this) : this;
  }

  /**
   * Writes `value` into this tensor's storage, in place (tfjs's `variable.assign`, PyTorch's `copy_`).
   * Returns this tensor.
   *
   * In-place rules (the same for `addInPlace`, `subInPlace`, `mulInPlace`, `divInPlace`):
   * - a plain tensor can be updated anywhere; a requiresGrad leaf only inside `noGrad(() => …)`;
   *   a value computed from requiresGrad tensors, or a tracer inside grad/jvp/…, never;
   * - every tensor sharing the storage (`detach()`, reshape views, the leaf's own value) sees the update;
   * - a recorded graph that saved the old value for its backward pass refuses to run afterwards
   *   (a version counter per storage, as PyTorch), instead of computing a wrong gradient;
   * - an optimizer holding the leaf keeps working: the leaf is the same object.
   * @param value a tensor of exactly this shape and dtype (differences from PyTorch's `copy_`: no
   *   broadcasting, no casting), or a number to fill with
   * @throws ShapeError for another shape or dtype; GradientError where the rules above refuse
   */
  assign(value: TensorLike): this {
    updateInPlace("assign", this, value);
    return this;
  }
  /**
   * `this += y` in place (PyTorch's `add_`); `y` broadcasts to this tensor's shape and the result must
   * keep its dtype. See {@link Tensor.assign | assign} for where in-place updates are allowed.
   * @throws ShapeError when y does not broadcast to this shape; DTypeError when the result's dtype is wider
   */
  addInPlace(y: TensorLike): this {
    updateInPlace("addInPlace", this, y);
    return this;
  }
  /**
   * `this -= y` in place (PyTorch's `sub_`), e.g. `noGrad(() => w.subInPlace(w.grad!.mul(lr)))`.
   * Same rules as {@link Tensor.addInPlace | addInPlace}.
   */
  subInPlace(y: TensorLike): this {
    updateInPlace("subInPlace", this, y);
    return this;
  }
  /** `this *= y` in place (PyTorch's `mul_`). Same rules as {@link Tensor.addInPlace | addInPlace}. */
  mulInPlace(y: TensorLike): this {
    updateInPlace("mulInPlace", this, y);
    return this;
  }
  /**
   * `this /= y` in place (PyTorch's `div_`). Same rules as {@link Tensor.addInPlace | addInPlace}; on an
   * int32 tensor it throws DTypeError (true division gives floats), as PyTorch does.
   */
  divInPlace(y: TensorLike): this {
    updateInPlace("divInPlace", this, y);
    return this;
  }

  /** @internal The concrete tensor under all boxes. */
  _concreteValue(throughBatches = false, accessor = ".data"): Tensor {
    let t: Tensor = this;
    while (t._data === null && t._device === null) {
      if (!throughBatches && t._trace !== null && t._trace.kind === "batch") {
        throw new ValueError(`vmap: cannot read the values of a batched tensor (shape ${fmtShape(t.shape)} per example) inside vmap; compute with ops, or return it from the function and read it outside`);
      }
      if (t._trace !== null && t._trace.kind === "stage") {
        if (!throughBatches) {
          throw new ValueError(`jit: ${accessor} reads the value of a traced tensor (shape ${fmtShape(t.shape)}, ${t.dtype}) inside jit(f); the compiled program must work for every value, so f cannot branch on it. Choose values with where(cond, a, b), or pass the argument in staticArgnums (it is then part of the cache key)`);
        }
        // A library rule read a staged value (a range check, labels made one-hot): the program keeps
        // what it saw and checks it on every call (see src/jit/stage.ts).
        t._trace.onRead?.(t);
      }
      if (t._primal === null) {
        throw new GradientError("internal error: a VJP rule read an input or output value that its primitive's `residuals` does not keep; please report this with the program that triggered it");
      }
      t = t._primal;
    }
    return t;
  }

  /**
   * The storage as a typed array (a view, do not mutate). Works inside transforms too.
   * @throws ValueError on a GPU tensor, whose values can only be read asynchronously: use `await x.dataAsync()`
   */
  get data(): TypedArray {
    const c = this._concreteValue();
    return c._data ?? this._hostOnly("data", "await x.dataAsync()");
  }

  /** @internal Throws the error for a synchronous read of a device tensor. */
  _hostOnly(op: string, instead: string): never {
    throw new ValueError(`${op}: this tensor lives on the GPU (device "webgpu", shape ${fmtShape(this.shape)}), whose values can only be read asynchronously; use ${instead}, or move it with await x.to("cpu")`);
  }

  /**
   * Where the tensor's values live: `"cpu"` (a typed array) or `"webgpu"` (a GPU buffer; see
   * `initWebGPU`). Ops run on the device of their inputs and leave their results there.
   */
  get device(): Device {
    let t: Tensor | null = this;
    while (t !== null && t._data === null) {
      if (t._device !== null) return "webgpu";
      t = t._primal;
    }
    return "cpu";
  }

  /**
   * A copy of this tensor on `device`. Moving to `"webgpu"` is synchronous (the upload is queued, as JAX's
   * `device_put` and tfjs's tensor creation); moving to `"cpu"` returns a promise, since reading GPU memory
   * back is asynchronous in WebGPU. A tensor already on `device` is returned as is (or resolved, for "cpu").
   * Works on concrete tensors, not inside transforms: move inputs before calling grad/vjp/jvp.
   * @throws ValueError for an unknown device, "webgpu" before `await initWebGPU()`, float64 on "webgpu"
   *   (WGSL has no 64-bit floats), or a tracer
   */
  to(device: "webgpu"): Tensor;
  to(device: "cpu"): Promise<Tensor>;
  to(device: Device): Tensor | Promise<Tensor>;
  to(device: Device): Tensor | Promise<Tensor> {
    if (device !== "cpu" && device !== "webgpu") {
      throw new ValueError(`to: unknown device ${JSON.stringify(device)}; expected "cpu" or "webgpu"`);
    }
    const c = this._movable();
    if (device === "cpu") {
      if (c._device === null) return Promise.resolve(this);
      return this.dataAsync().then((d) => Tensor._concrete(d, this.shape, this.dtype));
    }
    if (c._device !== null) return this;
    const backend = deviceState.backend;
    if (backend === null) throw new ValueError('to: the "webgpu" device is not initialised; call await initWebGPU() first');
    return backend.upload(c);
  }

  /** @internal The concrete value to move or read: a requiresGrad leaf gives its value; tracers of transforms are refused. */
  _movable(): Tensor {
    if (this._data !== null || this._device !== null) return this;
    if (this._trace !== null && this._trace.id === 0 && this._primal !== null) return this._primal._movable();
    throw new ValueError(`to: cannot move or read back a tracer of grad, vjp, jvp or another transform (shape ${fmtShape(this.shape)}) asynchronously; move the inputs before the transform, and read its results after`);
  }

  /**
   * The values as a new typed array, on any device: resolves at once for a CPU tensor (a copy), after
   * the GPU's queued work and a read-back for a GPU tensor (tfjs's `data()`, JAX's `block_until_ready`).
   */
  async dataAsync(): Promise<TypedArray> {
    const c = this._movable();
    if (c._data !== null) return c._data.slice();
    if (c._device!.released) throw new ValueError("dataAsync: this tensor's GPU memory was released by device.release()");
    return deviceState.backend!.download(c);
  }

  /** The values as nested arrays (as `toArray()`), on any device; see `dataAsync`. */
  async array(): Promise<NestedArray> {
    const c = this._movable();
    if (c._data !== null) return c.toArray();
    return Tensor._concrete(await this.dataAsync(), this.shape, this.dtype).toArray();
  }

  /**
   * The value of a one-element tensor as a number, on any device; see `dataAsync`.
   * @throws ValueError when the tensor has more than one element
   */
  async itemAsync(): Promise<number> {
    if (this.size !== 1) {
      throw new ValueError(`itemAsync: tensor has ${this.size} elements (shape ${fmtShape(this.shape)}); it needs exactly one`);
    }
    return (await this.dataAsync())[0]!;
  }

  /**
   * The value of a one-element tensor as a number (bool gives 0/1).
   * @throws ValueError when the tensor has more than one element, or lives on the GPU (use `await x.itemAsync()`)
   */
  item(): number {
    if (this.size !== 1) {
      throw new ValueError(`item: tensor has ${this.size} elements (shape ${fmtShape(this.shape)}); item() needs exactly one`);
    }
    const c = this._concreteValue(false, "item()");
    return (c._data ?? this._hostOnly("item", "await x.itemAsync()"))[0]!;
  }

  /**
   * The values as nested arrays (a number for a scalar; booleans for bool tensors).
   * @throws ValueError on a GPU tensor (use `await x.array()`)
   */
  toArray(): NestedArray {
    const data = this._concreteValue(false, "toArray()")._data ?? this._hostOnly("toArray", "await x.array()");
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
    return this._describe();
  }

  /** Node's `console.log` / `util.inspect` print the same text as `toString()`. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this._describe();
  }

  /** @internal The printed text; a GPU tensor prints its device, dtype and shape (its values need an async read). */
  _describe(): string {
    if (this.device === "webgpu") return `Tensor(webgpu, ${this.dtype}, shape ${fmtShape(this.shape)}; read the values with await x.array())`;
    return formatTensor(this);
  }

  // ---- op methods: each forwards to the function of the same name, whose documentation has the details ----
  /** Elementwise `this + y`, broadcasting. Same as {@link ops.add | add}(this, …). */
  add(y: TensorLike): Tensor { return ops.add(this, y); }
  /** Elementwise `this − y`, broadcasting. Same as {@link ops.sub | sub}(this, …). */
  sub(y: TensorLike): Tensor { return ops.sub(this, y); }
  /** Elementwise `this · y`, broadcasting. Same as {@link ops.mul | mul}(this, …). */
  mul(y: TensorLike): Tensor { return ops.mul(this, y); }
  /** Elementwise `this / y`, broadcasting (float result). Same as {@link ops.div | div}(this, …). */
  div(y: TensorLike): Tensor { return ops.div(this, y); }
  /** Elementwise `this ^ y`, broadcasting. Same as {@link ops.pow | pow}(this, …). */
  pow(y: TensorLike): Tensor { return ops.pow(this, y); }
  /** Elementwise maximum with `y` (ties share the gradient). Same as {@link ops.maximum | maximum}(this, …). */
  maximum(y: TensorLike): Tensor { return ops.maximum(this, y); }
  /** Elementwise minimum with `y` (ties share the gradient). Same as {@link ops.minimum | minimum}(this, …). */
  minimum(y: TensorLike): Tensor { return ops.minimum(this, y); }
  /** Elementwise `atan2(this, y)` (this is the y-coordinate, as in NumPy). Same as {@link ops.atan2 | atan2}(this, …). */
  atan2(y: TensorLike): Tensor { return ops.atan2(this, y); }
  /** Elementwise `this == y` (bool, no gradient). Same as {@link ops.equal | equal}(this, …). */
  equal(y: TensorLike): Tensor { return ops.equal(this, y); }
  /** Elementwise `this != y` (bool, no gradient). Same as {@link ops.notEqual | notEqual}(this, …). */
  notEqual(y: TensorLike): Tensor { return ops.notEqual(this, y); }
  /** Elementwise `this > y` (bool, no gradient). Same as {@link ops.greater | greater}(this, …). */
  greater(y: TensorLike): Tensor { return ops.greater(this, y); }
  /** Elementwise `this >= y` (bool, no gradient). Same as {@link ops.greaterEqual | greaterEqual}(this, …). */
  greaterEqual(y: TensorLike): Tensor { return ops.greaterEqual(this, y); }
  /** Elementwise `this < y` (bool, no gradient). Same as {@link ops.less | less}(this, …). */
  less(y: TensorLike): Tensor { return ops.less(this, y); }
  /** Elementwise `this <= y` (bool, no gradient). Same as {@link ops.lessEqual | lessEqual}(this, …). */
  lessEqual(y: TensorLike): Tensor { return ops.lessEqual(this, y); }
  /** Elementwise `−this`. Same as {@link ops.neg | neg}(this, …). */
  neg(): Tensor { return ops.neg(this); }
  /** Elementwise |this| (derivative 0 at 0). Same as {@link ops.abs | abs}(this, …). */
  abs(): Tensor { return ops.abs(this); }
  /** Elementwise sign (−1, 0 or 1; zero gradient). Same as {@link ops.sign | sign}(this, …). */
  sign(): Tensor { return ops.sign(this); }
  /** Elementwise eˣ. Same as {@link ops.exp | exp}(this, …). */
  exp(): Tensor { return ops.exp(this); }
  /** Elementwise eˣ − 1, accurate near 0. Same as {@link ops.expm1 | expm1}(this, …). */
  expm1(): Tensor { return ops.expm1(this); }
  /** Elementwise natural logarithm (domain x > 0). Same as {@link ops.log | log}(this, …). */
  log(): Tensor { return ops.log(this); }
  /** Elementwise log(1 + x), accurate near 0. Same as {@link ops.log1p | log1p}(this, …). */
  log1p(): Tensor { return ops.log1p(this); }
  /** Elementwise square root (domain x ≥ 0). Same as {@link ops.sqrt | sqrt}(this, …). */
  sqrt(): Tensor { return ops.sqrt(this); }
  /** Elementwise 1/√x. Same as {@link ops.rsqrt | rsqrt}(this, …). */
  rsqrt(): Tensor { return ops.rsqrt(this); }
  /** Elementwise x². Same as {@link ops.square | square}(this, …). */
  square(): Tensor { return ops.square(this); }
  /** Elementwise 1/x. Same as {@link ops.reciprocal | reciprocal}(this, …). */
  reciprocal(): Tensor { return ops.reciprocal(this); }
  /** Elementwise sine. Same as {@link ops.sin | sin}(this, …). */
  sin(): Tensor { return ops.sin(this); }
  /** Elementwise cosine. Same as {@link ops.cos | cos}(this, …). */
  cos(): Tensor { return ops.cos(this); }
  /** Elementwise tangent. Same as {@link ops.tan | tan}(this, …). */
  tan(): Tensor { return ops.tan(this); }
  /** Elementwise hyperbolic tangent. Same as {@link ops.tanh | tanh}(this, …). */
  tanh(): Tensor { return ops.tanh(this); }
  /** Elementwise logistic sigmoid 1/(1 + e⁻ˣ). Same as {@link ops.sigmoid | sigmoid}(this, …). */
  sigmoid(): Tensor { return ops.sigmoid(this); }
  /** Elementwise max(x, 0) (derivative 0 at 0). Same as {@link ops.relu | relu}(this, …). */
  relu(): Tensor { return ops.relu(this); }
  /** Sum over `axis` (default all). Same as {@link ops.sum | sum}(this, …). */
  sum(axis?: number | readonly number[], keepDims = false): Tensor { return ops.sum(this, axis, keepDims); }
  /** Mean over `axis` (default all). Same as {@link ops.mean | mean}(this, …). */
  mean(axis?: number | readonly number[], keepDims = false): Tensor { return ops.mean(this, axis, keepDims); }
  /** Same data, new shape (one dimension may be −1). Same as {@link ops.reshape | reshape}(this, …). */
  reshape(shape: readonly number[]): Tensor { return ops.reshape(this, shape); }
  /** Permutes the axes (default: reverses them). Same as {@link ops.transpose | transpose}(this, …). */
  transpose(perm?: readonly number[]): Tensor { return ops.transpose(this, perm); }
  /** Broadcasts to `shape` by NumPy's rules. Same as {@link ops.broadcastTo | broadcastTo}(this, …). */
  broadcastTo(shape: readonly number[]): Tensor { return ops.broadcastTo(this, shape); }
  /** Matrix product `this @ y` with NumPy batching. Same as {@link ops.matmul | matmul}(this, …). */
  matmul(y: Tensor): Tensor { return ops.matmul(this, y); }
  /** Converts to `dtype`. Same as {@link ops.cast | cast}(this, …). */
  astype(dtype: DType): Tensor { return ops.cast(this, dtype); }
  /** Maximum over `axis` (default all). Same as {@link ops.max | max}(this, …). */
  max(axis?: number | readonly number[], keepDims = false): Tensor { return ops.max(this, axis, keepDims); }
  /** Minimum over `axis` (default all). Same as {@link ops.min | min}(this, …). */
  min(axis?: number | readonly number[], keepDims = false): Tensor { return ops.min(this, axis, keepDims); }
  /** Product over `axis` (default all). Same as {@link ops.prod | prod}(this, …). */
  prod(axis?: number | readonly number[], keepDims = false): Tensor { return ops.prod(this, axis, keepDims); }
  /** Index of the maximum over `axis` (int32, no gradient). Same as {@link ops.argmax | argmax}(this, …). */
  argmax(axis?: number | readonly number[], keepDims = false): Tensor { return ops.argmax(this, axis, keepDims); }
  /** Index of the minimum over `axis` (int32, no gradient). Same as {@link ops.argmin | argmin}(this, …). */
  argmin(axis?: number | readonly number[], keepDims = false): Tensor { return ops.argmin(this, axis, keepDims); }
  /** Variance over `axis` (default all). Same as {@link ops.variance | variance}(this, …). */
  variance(axis?: number | readonly number[], keepDims = false, options?: ops.VarianceOptions): Tensor { return ops.variance(this, axis, keepDims, options); }
  /** Standard deviation over `axis` (default all). Same as {@link ops.std | std}(this, …). */
  std(axis?: number | readonly number[], keepDims = false, options?: ops.VarianceOptions): Tensor { return ops.std(this, axis, keepDims, options); }
  /** Vector norm of order `ord` over `axis`. Same as {@link ops.norm | norm}(this, …). */
  norm(ord?: ops.NormOrder, axis?: number | readonly number[], keepDims = false): Tensor { return ops.norm(this, ord, axis, keepDims); }
  /** Elementwise error function. Same as {@link ops.erf | erf}(this, …). */
  erf(): Tensor { return ops.erf(this); }
  /** Elementwise GELU activation. Same as {@link ops.gelu | gelu}(this, …). */
  gelu(options?: ops.GeluOptions): Tensor { return ops.gelu(this, options); }
  /** Elementwise log(1 + eˣ). Same as {@link ops.softplus | softplus}(this, …). */
  softplus(): Tensor { return ops.softplus(this); }
  /** Elementwise leaky ReLU with slope `alpha` for x < 0. Same as {@link ops.leakyRelu | leakyRelu}(this, …). */
  leakyRelu(alpha?: number): Tensor { return ops.leakyRelu(this, alpha); }
  /** Elementwise ELU with scale `alpha` for x < 0. Same as {@link ops.elu | elu}(this, …). */
  elu(alpha?: number): Tensor { return ops.elu(this, alpha); }
  /** Elementwise clamp to [lo, hi]. Same as {@link ops.clip | clip}(this, …). */
  clip(lo: TensorLike, hi: TensorLike): Tensor { return ops.clip(this, lo, hi); }
  /** Inserts a size-1 dimension at `axis`. Same as {@link ops.expandDims | expandDims}(this, …). */
  expandDims(axis?: number): Tensor { return ops.expandDims(this, axis); }
  /** Removes size-1 dimensions (all, or those in `axis`). Same as {@link ops.squeeze | squeeze}(this, …). */
  squeeze(axis?: number | readonly number[]): Tensor { return ops.squeeze(this, axis); }
  /** Strided window along each axis (NumPy's `x[start:stop:step]`). Same as {@link ops.slice | slice}(this, …). */
  slice(start?: number | null | readonly (number | null | undefined)[], stop?: number | null | readonly (number | null | undefined)[], step?: number | readonly (number | null | undefined)[]): Tensor {
    return ops.slice(this, start, stop, step);
  }
  /** Pads each axis with `constantValue` (default 0). Same as {@link ops.pad | pad}(this, …). */
  pad(paddings: readonly (readonly [number, number])[], constantValue?: number): Tensor { return ops.pad(this, paddings, constantValue); }
  /** Reverses the order of elements along `axis` (default all). Same as {@link ops.flip | flip}(this, …). */
  flip(axis?: number | readonly number[]): Tensor { return ops.flip(this, axis); }
  /** Repeats the tensor `reps[i]` times along axis i. Same as {@link ops.tile | tile}(this, …). */
  tile(reps: readonly number[]): Tensor { return ops.tile(this, reps); }
  /** Splits along `axis` into equal parts or parts of the given sizes. Same as {@link ops.split | split}(this, …). */
  split(numOrSizeSplits: number | readonly number[], axis?: number): Tensor[] { return ops.split(this, numOrSizeSplits, axis); }
  /** Selects slices along `axis` by integer indices. Same as {@link ops.gather | gather}(this, …). */
  gather(indices: ops.Indices, axis?: number): Tensor { return ops.gather(this, indices, axis); }
  /** Selects elements by integer indices along `axis` (flattened when no axis). Same as {@link ops.take | take}(this, …). */
  take(indices: ops.Indices, axis?: number): Tensor { return ops.take(this, indices, axis); }
  /** Permutes the axes by `perm` (same as transpose). Same as {@link ops.permute | permute}(this, …). */
  permute(perm: readonly number[]): Tensor { return ops.permute(this, perm); }
  /** Elementwise rounding to the nearest integer, ties to even (zero gradient). Same as {@link ops.round | round}(this). */
  round(): Tensor { return ops.round(this); }
  /** Elementwise ⌊x⌋ (zero gradient). Same as {@link ops.floor | floor}(this). */
  floor(): Tensor { return ops.floor(this); }
  /** Elementwise ⌈x⌉ (zero gradient). Same as {@link ops.ceil | ceil}(this). */
  ceil(): Tensor { return ops.ceil(this); }
  /** Elementwise rounding toward zero (zero gradient). Same as {@link ops.trunc | trunc}(this). */
  trunc(): Tensor { return ops.trunc(this); }
  /** Elementwise floored remainder, sign of the divisor (PyTorch's `remainder`). Same as {@link ops.remainder | remainder}(this, …). */
  remainder(y: TensorLike): Tensor { return ops.remainder(this, y); }
  /** Elementwise base-2 logarithm. Same as {@link ops.log2 | log2}(this). */
  log2(): Tensor { return ops.log2(this); }
  /** Elementwise base-10 logarithm. Same as {@link ops.log10 | log10}(this). */
  log10(): Tensor { return ops.log10(this); }
  /** Elementwise 2ˣ. Same as {@link ops.exp2 | exp2}(this). */
  exp2(): Tensor { return ops.exp2(this); }
  /** Elementwise arcsine (domain [−1, 1]). Same as {@link ops.asin | asin}(this). */
  asin(): Tensor { return ops.asin(this); }
  /** Elementwise arccosine (domain [−1, 1]). Same as {@link ops.acos | acos}(this). */
  acos(): Tensor { return ops.acos(this); }
  /** Elementwise arctangent. Same as {@link ops.atan | atan}(this). */
  atan(): Tensor { return ops.atan(this); }
  /** Elementwise hyperbolic sine. Same as {@link ops.sinh | sinh}(this). */
  sinh(): Tensor { return ops.sinh(this); }
  /** Elementwise hyperbolic cosine. Same as {@link ops.cosh | cosh}(this). */
  cosh(): Tensor { return ops.cosh(this); }
  /** Elementwise inverse hyperbolic sine. Same as {@link ops.asinh | asinh}(this). */
  asinh(): Tensor { return ops.asinh(this); }
  /** Elementwise inverse hyperbolic cosine (domain x ≥ 1). Same as {@link ops.acosh | acosh}(this). */
  acosh(): Tensor { return ops.acosh(this); }
  /** Elementwise inverse hyperbolic tangent (domain (−1, 1)). Same as {@link ops.atanh | atanh}(this). */
  atanh(): Tensor { return ops.atanh(this); }
  /** Elementwise log(eˣ + eʸ) without overflow, broadcasting. Same as {@link ops.logaddexp | logaddexp}(this, …). */
  logaddexp(y: TensorLike): Tensor { return ops.logaddexp(this, y); }
  /** Cumulative sum along `axis` (flattened without one). Same as {@link ops.cumsum | cumsum}(this, …). */
  cumsum(axis?: number, options?: ops.ScanOptions): Tensor { return ops.cumsum(this, axis, options); }
  /** Cumulative product along `axis` (exact gradient with zeros). Same as {@link ops.cumprod | cumprod}(this, …). */
  cumprod(axis?: number): Tensor { return ops.cumprod(this, axis); }
  /** Cumulative log-sum-exp along `axis`. Same as {@link ops.logcumsumexp | logcumsumexp}(this, …). */
  logcumsumexp(axis?: number): Tensor { return ops.logcumsumexp(this, axis); }
  /** Stable sort along `axis` (default last); gradients follow the indices. Same as {@link ops.sort | sort}(this, …). */
  sort(axis?: number, options?: ops.SortOptions): Tensor { return ops.sort(this, axis, options); }
  /** Indices that sort along `axis` (int32, stable). Same as {@link ops.argsort | argsort}(this, …). */
  argsort(axis?: number, options?: ops.SortOptions): Tensor { return ops.argsort(this, axis, options); }
  /** The k largest (or smallest) values along an axis with their indices. Same as {@link ops.topk | topk}(this, …). */
  topk(k: number, options?: ops.TopkOptions): ops.ValuesAndIndices { return ops.topk(this, k, options); }
  /** Diagonal of the matrices over `axis1` and `axis2`, moved last. Same as {@link ops.diagonal | diagonal}(this, …). */
  diagonal(offset?: number, axis1?: number, axis2?: number): Tensor { return ops.diagonal(this, offset, axis1, axis2); }
  /** Upper triangle of the last two axes from diagonal `k`, zeros below. Same as {@link ops.triu | triu}(this, …). */
  triu(k?: number): Tensor { return ops.triu(this, k); }
  /** Lower triangle of the last two axes up to diagonal `k`, zeros above. Same as {@link ops.tril | tril}(this, …). */
  tril(k?: number): Tensor { return ops.tril(this, k); }
  /** Elementwise logical and (bool). Same as {@link ops.logicalAnd | logicalAnd}(this, …). */
  logicalAnd(y: TensorLike): Tensor { return ops.logicalAnd(this, y); }
  /** Elementwise logical or (bool). Same as {@link ops.logicalOr | logicalOr}(this, …). */
  logicalOr(y: TensorLike): Tensor { return ops.logicalOr(this, y); }
  /** Elementwise logical exclusive or (bool). Same as {@link ops.logicalXor | logicalXor}(this, …). */
  logicalXor(y: TensorLike): Tensor { return ops.logicalXor(this, y); }
  /** Elementwise logical not (bool). Same as {@link ops.logicalNot | logicalNot}(this). */
  logicalNot(): Tensor { return ops.logicalNot(this); }
  /** Elementwise test for NaN (bool). Same as {@link ops.isnan | isnan}(this). */
  isnan(): Tensor { return ops.isnan(this); }
  /** Elementwise test for ±Infinity (bool). Same as {@link ops.isinf | isinf}(this). */
  isinf(): Tensor { return ops.isinf(this); }
  /** Elementwise test for a finite value (bool). Same as {@link ops.isfinite | isfinite}(this). */
  isfinite(): Tensor { return ops.isfinite(this); }
  /** Whether any element over `axis` is nonzero (bool). Same as {@link ops.any | any}(this, …). */
  any(axis?: number | readonly number[], keepDims = false): Tensor { return ops.any(this, axis, keepDims); }
  /** Whether every element over `axis` is nonzero (bool). Same as {@link ops.all | all}(this, …). */
  all(axis?: number | readonly number[], keepDims = false): Tensor { return ops.all(this, axis, keepDims); }
  /** Replaces NaN and ±Infinity by finite values. Same as {@link ops.nanToNum | nanToNum}(this, …). */
  nanToNum(options?: ops.NanToNumOptions): Tensor { return ops.nanToNum(this, options); }
}
