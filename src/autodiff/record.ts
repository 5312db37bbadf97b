import type { Primitive } from "../core/primitive.js";
import { Tensor } from "../core/tensor.js";
import { Node, recording, scopeState, type Trace } from "./trace.js";
import { anomalyState } from "./anomaly.js";

/**
 * Records the application of `prim` at reverse trace `top`: `x` are the op's inputs as passed (tracers
 * of `top` are the differentiable ones), `primals` their values one level down, `outPrimal` the result.
 * Saves only the values the primitive's `residuals` declare for the inputs that need cotangents, unless
 * a graph inspector or `detectAnomaly` asks for everything.
 */
export function recordNode(prim: Primitive, params: unknown, x: readonly Tensor[], primals: readonly Tensor[], outPrimal: Tensor, top: Trace): Node {
  const n = x.length;
  const inputs = new Array<Node | Tensor | null>(n);
  for (let i = 0; i < n; i++) {
    const xi = x[i]!;
    inputs[i] = xi._trace === top ? xi._node : null;
  }
  const node = new Node(prim, params, inputs, null, outPrimal.shape, outPrimal.dtype);
  const residuals = prim.residuals;
  if (residuals === undefined || recording.saveAll || anomalyState.enabled) {
    for (let i = 0; i < n; i++) save(inputs, i, primals);
    node.out = outPrimal;
  } else {
    for (let i = 0; i < n; i++) {
      if (inputs[i] === null) continue; // a constant here: no cotangent is asked for it
      const needed = residuals[i]!;
      for (let r = 0; r < needed.length; r++) {
        const what = needed[r]!;
        if (what === "out") node.out = outPrimal;
        else save(inputs, what, primals);
      }
    }
  }
  if (scopeState.current !== undefined || anomalyState.enabled) {
    node.setMeta(scopeState.current, anomalyState.enabled ? anomalyState.callSite() : undefined);
  }
  if (top.tape !== null) top.tape.push(node);
  return node;
}

/** Keeps input j's value: on its parent node (shared by all consumers) or, for a constant, in `inputs`. */
function save(inputs: (Node | Tensor | null)[], j: number, primals: readonly Tensor[]): void {
  const p = inputs[j];
  if (p instanceof Node) p.out = primals[j]!;
  else inputs[j] = primals[j]!;
}

/**
 * The values a node's rules are called with: saved values where kept, stand-ins elsewhere (right shape
 * and dtype; reading their value throws, which flags a primitive whose `residuals` miss something).
 */
export function primalsOf(node: Node): Tensor[] {
  const inputs = node.inputs;
  const x = new Array<Tensor>(inputs.length);
  for (let i = 0; i < inputs.length; i++) {
    const p = inputs[i]!;
    if (p instanceof Node) x[i] = p.out ?? Tensor._standIn(p.shape, p.dtype);
    else x[i] = p ?? Tensor._standIn([], "float32");
  }
  return x;
}

/** The node's output value, or a stand-in when its rules do not read it. */
export function outOf(node: Node): Tensor {
  return node.out ?? Tensor._standIn(node.shape, node.dtype);
}
