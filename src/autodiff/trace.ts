import type { Tensor } from "../core/tensor.js";
import type { Primitive } from "../core/primitive.js";

/**
 * One active transform. Traces are numbered in creation order; when an op sees tensors boxed at
 * several traces, the newest one handles it first and passes the unboxed values down. That ordering
 * is what keeps perturbations of nested transforms apart (Siskind & Pearlmutter's "perturbation
 * confusion"; the same scheme as HIPS autograd's trace ids and JAX's levels).
 */
export class Trace {
  private static counter = 1;
  readonly id: number;
  constructor(
    readonly kind: "reverse" | "forward",
    id?: number,
  ) {
    this.id = id ?? Trace.counter++;
  }
}

/** The trace behind `requiresGrad` tensors and `loss.backward()`: below every functional transform. */
export const IMPERATIVE_TRACE = new Trace("reverse", 0);

/** Whether ops on `requiresGrad` tensors are recorded; switched off inside `noGrad`. */
export const gradMode = { enabled: true };

/** The active `nameScope` path; undefined at top level. */
export const scopeState: { current: string | undefined } = { current: undefined };

let nodeCounter = 0;

/**
 * A recorded application of a primitive on a reverse trace (a Wengert-list entry). Inputs are kept
 * in order; `parents[i]` is the node of input i on this trace, or null when input i is a constant here.
 */
export class Node {
  readonly id = nodeCounter++;
  /** Accumulated cotangent during a backward pass; null means a (symbolic) zero. */
  ct: Tensor | null = null;
  /** For leaves: the boxed tensor the user holds (its `.grad` is filled by `backward()`). */
  leaf: Tensor | null = null;
  /** Visit stamp of the last topological sort that reached this node. */
  mark = 0;
  /** Set once the graph behind this node has been released after a backward pass. */
  freed = false;
  /** Where user code created this node; filled only by `detectAnomaly`. */
  callSite: string | undefined = undefined;
  /** The `nameScope` path active when the node was recorded (e.g. "mlp/layer0"), for grouping in the viewer. */
  scope: string | undefined = scopeState.current;
  constructor(
    public prim: Primitive | null,
    public params: unknown,
    public parents: (Node | null)[],
    public primals: Tensor[],
    public out: Tensor,
  ) {}
}
