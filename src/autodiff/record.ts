import type { Primitive } from "../core/primitive.js";
import { Tensor } from "../core/tensor.js";
import { Node, recording, scopeState, type Trace } from "./trace.js";
import { anomalyState } from "./anomaly.js";
import { allocate, type DType } from "../core/dtype.js";
import type { Shape } from "../core/shape.js";

/**
 * Records the application of `prim` at reverse trace `top`: `x` are the op's inputs as passed (tracers
 * of `top` are the differentiable ones), `primals` their values one level down, `outPrimal` the result.
 * Saves only the values the primitive's `residuals` declare for the inputs that need cotangents, unless
 * a graph inspector or `detectAnomaly` asks for everything.
 */
export function recordNode(prim: Primitive, params: unknown, x: readonly Tensor[], primals: readonly Tensor[], outPrimal: Tensor, top: Trace): Node {
  const n = x.length;
  const node = new Node(prim, params, n, null, outPrimal.shape, outPrimal.dtype);
  for (let i = 0; i < n; i++) {
    const xi = x[i]!;
    if (xi._trace === top) node.setInput(i, xi._node);
  }
  const residuals = prim.residuals;
  if (residuals === undefined || recording.saveAll || anomalyState.enabled) {
    for (let i = 0; i < n; i++) save(node, i, primals, false);
    node.out = outPrimal;
  } else {
    for (let i = 0; i < n; i++) {
      if (!(node.input(i) instanceof Node)) continue; // a constant here: no cotangent is asked for it
      const needed = residuals[i];
      if (needed === undefined) {
        // No declaration for this input (a variadic primitive): keep everything, as without `residuals`.
        for (let j = 0; j < n; j++) save(node, j, primals, true);
        node.out = compact(outPrimal);
        continue;
      }
      for (let r = 0; r < needed.length; r++) {
        const what = needed[r]!;
        if (what === "out") node.out = compact(outPrimal);
        else save(node, what, primals, true);
      }
    }
  }
  if (scopeState.current !== undefined || anomalyState.enabled) {
    node.setMeta(scopeState.current, anomalyState.enabled ? anomalyState.callSite() : undefined);
  }
  if (top.tape !== null) top.tape.push(node);
  return node;
}

/** Keeps input j's value: on its parent node (shared by all consumers) or, for a constant, on the node. */
function save(node: Node, j: number, primals: readonly Tensor[], small: boolean): void {
  const p = node.input(j);
  if (p instanceof Node) {
    // A leaf's value stays a tensor: callers read it back (its name, the user's object).
    if (p.prim !== null && typeof p.out !== "number") p.out = small ? compact(primals[j]!) : primals[j]!;
  } else node.setInput(j, primals[j]!);
}

/**
 * The form a saved value is kept in: a concrete one-element float tensor as its number (8 bytes in
 * a 16-byte box instead of a ~200-byte tensor with its typed-array view; scalar programs save one per
 * op), anything else as is. Float32 values are exact as doubles, so nothing is lost.
 */
function compact(t: Tensor): Tensor | number {
  const d = t._data;
  return d !== null && d.length === 1 && (t.dtype === "float32" || t.dtype === "float64") && t.name === undefined ? d[0]! : t;
}

/** A saved value as a tensor again (a fresh one-element tensor for a compacted number). */
function expand(v: Tensor | number, shape: Shape, dtype: DType): Tensor {
  if (typeof v !== "number") return v;
  const data = allocate(dtype, 1);
  data[0] = v;
  return Tensor._concrete(data, shape, dtype);
}

/**
 * The values a node's rules are called with: saved values where kept, stand-ins elsewhere. A stand-in
 * for a parent's value has the right shape and dtype; one for a constant input that is neither saved
 * nor differentiated is a bare scalar, which no rule reads. Reading a stand-in's value throws, which
 * flags a primitive whose `residuals` miss something.
 */
export function primalsOf(node: Node): Tensor[] {
  const n = node.arity;
  const x = new Array<Tensor>(n);
  for (let i = 0; i < n; i++) {
    const p = node.input(i);
    if (p instanceof Node) x[i] = p.out === null ? Tensor._standIn(p.shape, p.dtype) : expand(p.out, p.shape, p.dtype);
    else x[i] = p ?? Tensor._standIn([], "float32");
  }
  return x;
}

/** The node's output value, or a stand-in when its rules do not read it. */
export function outOf(node: Node): Tensor {
  return node.out === null ? Tensor._standIn(node.shape, node.dtype) : expand(node.out, node.shape, node.dtype);
}
