import type { Tensor } from "../core/tensor.js";
import { Node } from "./trace.js";
import { GradientError } from "../core/errors.js";
import { fmtShape, sameShape, type Shape } from "../core/shape.js";
import { isFloat, type DType } from "../core/dtype.js";
import { outOf, primalsOf } from "./record.js";
import { add, cast, equal, logicalNot, sumToShape } from "../ops/index.js";
import { carryZeros, structuralZeros, sumZeros, withStructuralZeros } from "./strong-zeros.js";
import { writeClock } from "./trace.js";
import { checkSaved } from "./inplace.js";
import { anomalyState, checkForward } from "./anomaly.js";

/** Receives each step of a backward pass, in the order the engine runs it (used by the graph viewer). */
export interface BackwardObserver {
  /** `node` received cotangent `ct`; `contributions[i]` is what it sends to input i (already fitted to its shape). */
  onNode(node: Node, ct: Tensor, contributions: (Tensor | null)[]): void;
}

let passCounter = 0;

/**
 * Nodes reachable from `root`, parents before children (a topological order), found by an iterative
 * depth-first search with an explicit stack so that million-node chains cannot overflow the call stack.
 * Parents are visited in input order, so the order is deterministic.
 */
export function topologicalOrder(root: Node): Node[] {
  const pass = ++passCounter;
  const order: Node[] = [];
  const stack: Node[] = [root];
  const next: number[] = [0];
  root.mark = pass;
  while (stack.length > 0) {
    const top = stack.length - 1;
    const node = stack[top]!;
    const i = next[top]!;
    if (i < node.arity) {
      next[top] = i + 1;
      const p = node.input(i);
      if (p instanceof Node && p.mark !== pass) {
        p.mark = pass;
        stack.push(p);
        next.push(0);
      }
    } else {
      stack.pop();
      next.pop();
      order.push(node);
    }
  }
  return order;
}

/**
 * Fits a rule's cotangent to its input: sums over broadcast dimensions, casts to the input's dtype,
 * and checks the shape, so that no rule has to.
 * @param keepZeros carry the cotangent's structural zeros through the sum (see structuralZeros); false for a
 *   leaf's cotangent, which no rule reads
 * @throws GradientError naming the op and input index when the shape cannot be fitted
 */
export function fitCotangent(op: string, index: number, ct: Tensor, shape: Shape, dtype: DType, keepZeros = true): Tensor {
  let c = ct;
  if (!sameShape(c.shape, shape)) {
    try {
      // A sum of cotangents is a structural zero where all of its terms are (see structuralZeros).
      c = keepZeros ? carryZeros(ct, sumToShape(c, shape), (m) => equal(sumToShape(logicalNot(m), shape), 0)) : sumToShape(c, shape);
    } catch {
      throw new GradientError(`${op}: the VJP rule returned a cotangent of shape ${fmtShape(ct.shape)} for input ${index}, whose shape is ${fmtShape(shape)}`);
    }
  }
  if (c.dtype !== dtype && isFloat(dtype)) c = withStructuralZeros(cast(c, dtype), structuralZeros(c));
  return c;
}

/**
 * Runs reverse mode from `root` with cotangent `ct`: visits nodes in reverse topological order,
 * applies each node's VJP rule to its accumulated cotangent and adds the results into its parents'
 * (fan-out accumulation). On return, leaf nodes hold their cotangents in `.ct` (null = zero).
 * Returns the order used, so callers can read leaves and release the graph.
 */
export function backwardPass(root: Node, ct: Tensor, observer?: BackwardObserver): Node[] {
  const order = topologicalOrder(root);
  for (const n of order) n.ct = null;
  root.ct = ct;
  for (let k = order.length - 1; k >= 0; k--) {
    const node = order[k]!;
    if (node.prim === null) continue; // a leaf keeps its cotangent for the caller
    const g = node.ct;
    node.ct = null;
    if (g !== null) pullBack(node, g, observer);
  }
  return order;
}

/**
 * Reverse mode over a functional trace's tape: the caller has put the output cotangents on the output
 * nodes' `.ct`. Walking the tape backwards visits every node after all of its consumers (creation order
 * is topological), so no sort is needed; nodes no cotangent reached are skipped. On return, leaf nodes
 * hold their cotangents in `.ct` and every tape node's `.ct` is null again, even if a rule throws.
 * With `consume`, each node is released and dropped from the tape once its rule has run (no later
 * rule reads it: those belong to its ancestors), so the garbage collector can reclaim the graph
 * while the sweep is still running; the tape is then empty.
 */
export function backwardTape(tape: Node[], consume = false): void {
  let k = tape.length - 1;
  try {
    for (; k >= 0; k--) {
      const node = tape[k]!;
      const g = node.ct;
      if (g !== null) {
        node.ct = null;
        pullBack(node, g);
      }
      if (consume) {
        node.release();
        tape[k] = undefined!;
      }
    }
    if (consume) tape.length = 0;
  } catch (e) {
    for (; k >= 0; k--) tape[k]!.ct = null;
    throw e;
  }
}

/** Applies `node`'s VJP rule to its cotangent `g` and accumulates the results into its parents. */
function pullBack(node: Node, g: Tensor, observer?: BackwardObserver): void {
  const prim = node.prim!;
  if (node.freed) {
    throw new GradientError(`backward: the graph through ${prim.name} was already released by an earlier backward(); pass { retainGraph: true } to go through it twice`);
  }
  // Some tensor was updated in place since this node was recorded: check that it is none of ours.
  if (node.stamp < writeClock.now) checkSaved(node);
  const n = node.arity;
  const needs = new Array<boolean>(n);
  for (let i = 0; i < n; i++) needs[i] = node.input(i) instanceof Node;
  const x = primalsOf(node);
  const raw = prim.vjp(g, x, outOf(node), node.params, needs);
  if (!Array.isArray(raw) || raw.length !== n) {
    const got = Array.isArray(raw) ? `${raw.length} cotangents` : `${raw === null ? "null" : typeof raw} instead of an array of cotangents`;
    throw new GradientError(`${prim.name}: the VJP rule returned ${got}, expected ${n} (one per input)`);
  }
  const contributions: (Tensor | null)[] | null = observer ? new Array<Tensor | null>(n).fill(null) : null;
  for (let i = 0; i < n; i++) {
    const p = node.input(i);
    let c = raw[i];
    if (!(p instanceof Node) || c === null || c === undefined) continue;
    // A leaf's cotangent is read by no rule (it is the result), so its structural zeros need not be kept.
    const fitted = fitCotangent(prim.name, i, c, p.shape, p.dtype, p.prim !== null);
    if (anomalyState.enabled) checkForward(prim.name, [g], fitted, "backward", node.callSite, x);
    if (contributions !== null) contributions[i] = fitted;
    p.ct = p.ct === null ? fitted : p.prim === null ? add(p.ct, fitted) : withStructuralZeros(add(p.ct, fitted), sumZeros(p.ct, fitted));
  }
  if (observer) observer.onNode(node, g, contributions!);
}

export { Node };
