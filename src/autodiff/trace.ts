import type { Tensor } from "../core/tensor.js";
import type { Primitive } from "../core/primitive.js";
import type { DType } from "../core/dtype.js";
import type { Shape } from "../core/shape.js";

/**
 * One active transform. Traces are numbered in creation order; when an op sees tensors boxed at
 * several traces, the newest one handles it first and passes the unboxed values down. That ordering
 * is what keeps perturbations of nested transforms apart (Siskind & Pearlmutter's "perturbation
 * confusion"; the same scheme as HIPS autograd's trace ids and JAX's levels).
 */
export class Trace {
  private static counter = 1;
  readonly id: number;
  /**
   * Reverse traces of functional transforms: every node recorded at this trace, in creation order (a
   * Wengert list). A backward pass walks it from the end, so it needs no topological sort. Null for
   * forward traces and for the imperative trace, which lives as long as the program and is walked by
   * a depth-first search from the output instead.
   */
  readonly tape: Node[] | null;
  /**
   * Batch traces (`vmap`): the batch size. A tracer of a batch trace boxes a value with the batch
   * axis in front, while its own shape is one example's shape. 0 for other traces.
   */
  readonly size: number;
  /**
   * Stage traces (`jit`): told when a library rule reads the concrete value under one of its tracers
   * (`_concreteValue(true)`), so the program can check on later calls that the value is unchanged.
   */
  onRead?(tracer: Tensor): void;
  /**
   * Stage traces: records that the program is right only while `tracer`'s value has no NaN (a rule took its
   * fast path, as strongZeros does); a call where it has one runs f eagerly instead.
   */
  guardNoNaN?(tracer: Tensor): void;
  /**
   * Stage traces: `t` (a concrete tensor the library made for a staged computation, such as grad's seed
   * cotangent) as a staged constant, so the ops applied to it are recorded too (a broadcast of it fuses as
   * one element read once instead of becoming a full-size constant).
   */
  liftConstant?(t: Tensor): Tensor;
  /** Stage traces: the concrete value of `tracer` when it is a constant of the program (a lifted one), else null. */
  constantOf?(tracer: Tensor): Tensor | null;
  constructor(
    readonly kind: "reverse" | "forward" | "batch" | "stage",
    id?: number,
    size = 0,
  ) {
    this.id = id ?? Trace.counter++;
    this.tape = kind === "reverse" && id !== 0 ? [] : null;
    this.size = size;
  }
}

/**
 * Whether `t` is, or boxes, a tracer of a `jit` trace (a staged value): its value is known while `jit`
 * traces, but the recorded program will run later on other values, so a rule must not choose a branch
 * from it. Rules with a value-dependent fast path (strongZeros, pow's mask, prod's zero handling) take
 * their general branch for staged values; any other read is checked when the program runs (see src/jit).
 */
export function isStaged(t: Tensor): boolean {
  return stagedTracer(t) !== null;
}

/** The tracer of a `jit` trace that `t` is or boxes, or null (see `isStaged`). */
export function stagedTracer(t: Tensor): Tensor | null {
  for (let u: Tensor | null = t; u !== null && u._data === null; u = u._primal) {
    if (u._trace !== null && u._trace.kind === "stage") return u;
  }
  return null;
}

/** The trace behind `requiresGrad` tensors and `loss.backward()`: below every functional transform. */
export const IMPERATIVE_TRACE = new Trace("reverse", 0);

/** Whether ops on `requiresGrad` tensors are recorded; switched off inside `noGrad`. */
export const gradMode = { enabled: true };

/** The active `nameScope` path; undefined at top level. */
export const scopeState: { current: string | undefined } = { current: undefined };

/**
 * Recording option for tools that inspect graphs (the graph viewer): `saveAll` keeps every input and
 * output value on each node, not only the residuals the rules need.
 */
export const recording: { saveAll: boolean } = { saveAll: false };

/**
 * The in-place write clock: advanced by every in-place update (`assign`, `subInPlace`, …). Each node
 * stamps the clock when it is recorded; a backward pass compares a saved value's last write against
 * the stamp of the node that reads it (PyTorch's version counter, kept per storage array).
 */
export const writeClock = { now: 0 };

/**
 * Last write time of each storage array updated in place, keyed by the typed array (not its buffer:
 * small tensors share one buffer, see `allocate`). Arrays never updated in place are absent.
 */
export const storageWrites = new WeakMap<object, number>();

/**
 * Concrete tensors whose object identity the library relies on, so `requiresGrad = true` must not turn
 * them into leaves: the values boxed by requiresGrad leaves and the shared constants made for plain
 * numbers (the 2 in `x.mul(2)`), which in-place updates also refuse.
 */
export const pinned = { leafValues: new WeakSet<Tensor>(), constants: new WeakSet<Tensor>() };

/** What a node keeps that is rarely set (only under `nameScope` or `detectAnomaly`), off the node itself. */
interface NodeMeta {
  scope?: string;
  callSite?: string;
}
const meta = new WeakMap<Node, NodeMeta>();

/** What a node keeps per input: the parent node, a saved constant, or null (see `Node`). */
export type NodeInput = Node | Tensor | null;

/**
 * A recorded application of a primitive on a reverse trace (a Wengert-list entry), kept small because
 * a scalar program records millions of them: one object, with up to two inputs held in fields.
 *
 * `input(i)` is the node of input i when it is differentiable at this trace (a parent), otherwise the
 * input's value if the VJP rule reads it (a saved constant), otherwise null. A parent's value, when a
 * rule needs it, is saved on the parent as its `out`, so each value is stored once however many
 * consumers read it. Which values a rule reads is declared by `Primitive.residuals` (PyTorch's saved
 * tensors, JAX's residuals); values nobody needs are not kept, so they can be collected during the forward pass.
 */
export class Node {
  /** Accumulated cotangent during a backward pass; null means a (symbolic) zero. */
  ct: Tensor | null = null;
  /** Visit stamp of the last topological sort that reached this node. */
  mark = 0;
  /** `writeClock.now` when recorded: a saved value written in place after this is stale for this node. */
  readonly stamp: number = writeClock.now;
  /** The primitive applied; null for a leaf (an input of a transform or a requiresGrad tensor). */
  prim: Primitive | null;
  /** The primitive's parameters; for a requiresGrad leaf, the boxed tensor the user holds. */
  params: unknown;
  /** Number of inputs; -1 once the graph behind the node has been released. */
  arity: number;
  private in0: NodeInput = null;
  private in1: NodeInput = null;
  /** All inputs, for primitives with more than two. */
  private more: NodeInput[] | null;
  /**
   * The output value, when saved (always for leaves). A concrete one-element float value is kept as a
   * plain number, a tenth of a tensor's size; `outOf` in record.ts turns it back into a tensor.
   */
  out: Tensor | number | null;
  /** Shape and dtype of the output: what a cotangent flowing into this node must be fitted to. */
  readonly shape: Shape;
  readonly dtype: DType;

  constructor(prim: Primitive | null, params: unknown, arity: number, out: Tensor | number | null, shape: Shape, dtype: DType) {
    this.prim = prim;
    this.params = params;
    this.arity = arity;
    this.more = arity > 2 ? new Array<NodeInput>(arity).fill(null) : null;
    this.out = out;
    this.shape = shape;
    this.dtype = dtype;
  }

  /** A leaf node for the input `primal` of a transform; `leaf` is the user's requiresGrad tensor, if any. */
  static leaf(primal: Tensor, leaf: Tensor | null = null): Node {
    return new Node(null, leaf, 0, primal, primal.shape, primal.dtype);
  }

  /** Input i: parent node, saved constant, or null (see the class comment). */
  input(i: number): NodeInput {
    return this.more !== null ? this.more[i]! : i === 0 ? this.in0 : this.in1;
  }

  /** @internal Sets input i (recording only). */
  setInput(i: number, v: NodeInput): void {
    if (this.more !== null) this.more[i] = v;
    else if (i === 0) this.in0 = v;
    else this.in1 = v;
  }

  /** For requiresGrad leaves: the boxed tensor the user holds (its `.grad` is filled by `backward()`). */
  get leaf(): Tensor | null {
    return this.prim === null ? (this.params as Tensor | null) : null;
  }

  /** The node of input i when it is differentiable at this node's trace, else null. */
  parent(i: number): Node | null {
    const p = this.input(i);
    return p instanceof Node ? p : null;
  }

  /** The parents of every input (null for constants), as a new array. */
  get parents(): (Node | null)[] {
    return Array.from({ length: Math.max(this.arity, 0) }, (_, i) => this.parent(i));
  }

  /** Set once the graph behind this node has been released after a backward pass. */
  get freed(): boolean {
    return this.arity < 0;
  }

  /** Drops the edges and saved values so the graph behind this node can be collected. */
  release(): void {
    this.arity = -1;
    this.in0 = this.in1 = null;
    this.more = null;
    this.out = null;
  }

  /** The `nameScope` path active when the node was recorded (e.g. "mlp/layer0"), for grouping in the viewer. */
  get scope(): string | undefined {
    return meta.get(this)?.scope;
  }

  /** Where user code created this node; filled only by `detectAnomaly`. */
  get callSite(): string | undefined {
    return meta.get(this)?.callSite;
  }

  /** @internal Attaches the rarely present scope and call site. */
  setMeta(scope: string | undefined, callSite: string | undefined): void {
    if (scope !== undefined || callSite !== undefined) meta.set(this, { scope, callSite });
  }
}
