// The text lines of a node's box, in one place: the renderer writes them and the layout sizes each box to
// the widest line the node will ever show (its value, its gradient with a fan-out sum in progress, its
// tangent in every sweep), so no number is cut off at any step.
import type { ValueSummary } from "../capture.js";
import type { Graph } from "./model.js";
import { short } from "./format.js";

/** `= 7`, or `= ?` before the forward pass computes it. */
export const valueLabel = (v: ValueSummary | null): string => (v === null ? "= ?" : `= ${short(v)}`);

/**
 * The gradient line: the total gradient ∂L/∂u (compact boxes write ∇), with the fan-out sum in progress
 * `(1/3 so far)` or complete `(Σ of 3)` when the node receives more than one contribution.
 */
export function gradLabel(L: string, name: string, v: ValueSummary, arrival: number, arrivals: number, compact: boolean): string {
  const sum = arrivals > 1 ? (arrival < arrivals ? ` (${arrival}/${arrivals} so far)` : ` (Σ of ${arrivals})`) : "";
  return `${compact ? "∇" : `∂${L}/∂${name}`} = ${short(v)}${sum}`;
}

/** The tangent line in forward mode: `du = 2`. */
export const tangentLabel = (name: string, t: ValueSummary | null): string => `d${name} = ${short(t)}`;

/**
 * Every line node `id` can show at some step, for sizing its box: its value, each running sum of its
 * gradient as contributions arrive, and its tangent in each recorded sweep.
 */
export function allLines(g: Graph, id: number, compact: boolean): { value: string[]; extra: string[] } {
  const n = g.nodes[id]!;
  const L = g.nodes[g.output]!.name;
  const extra: string[] = [];
  if (n.grad) extra.push(gradLabel(L, n.name, n.grad, 1, 1, compact));
  for (const s of g.backward) {
    for (const e of s.edges) if (e.to === id) extra.push(gradLabel(L, n.name, e.accumulated, e.arrival, e.arrivals, compact));
  }
  for (const s of g.forward) extra.push(tangentLabel(n.name, s.tangents[id] ?? null));
  return { value: [valueLabel(n.value), valueLabel(null)], extra };
}
