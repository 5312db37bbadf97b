// Nudge: what a gradient means, in numbers. The graph is replayed in the browser (float64, the library's
// forward kernels) with one input moved by h, and every node's change Δv is set beside its first-order
// prediction ∂v/∂x·h, read from the recorded forward-mode sweep for x (its tangents); for the output,
// ΔL ≈ ∂L/∂x·h with the gradient of the backward pass. For a tensor input every element moves by h (the
// direction of the recorded all-ones tangent), and the rows compare sums over elements.
import type { Tensor } from "../../core/tensor.js";
import * as lib from "../../browser.js";
import type { ValueSummary } from "../capture.js";
import type { Graph } from "./model.js";
import { makeReplay } from "./replay.js";

/** One node's change under the nudge, summed over its elements for a tensor. */
export interface NudgeRow {
  id: number;
  name: string;
  before: number;
  after: number;
  /** after − before */
  delta: number;
  /** ∂v/∂x·h from the forward-mode tangent; null when no sweep for x was recorded. */
  predicted: number | null;
}

/** The nudge's outcome: a row per non-constant node, the output's, or why it cannot run. */
export type NudgeResult =
  | { ok: true; h: number; rows: NudgeRow[]; output: NudgeRow; gradient: number | null }
  | { ok: false; reason: string };

const sumOf = (t: Tensor): number => {
  let s = 0;
  for (const x of t.data) s += x;
  return s;
};
const summarySum = (v: ValueSummary | null | undefined): number | null =>
  v === null || v === undefined ? 0 : v.data ? v.data.reduce((a, b) => a + b, 0) : v.stats ? v.stats.mean * v.shape.reduce((a, b) => a * b, 1) : null;

/**
 * Replays `g` with input `x` moved by `h` (every element, for a tensor) and compares each node's change
 * with its first-order prediction. @returns ok false when the graph cannot be replayed or h is not a finite non-zero number
 */
export function nudgeInput(g: Graph, x: number, h: number): NudgeResult {
  if (!Number.isFinite(h) || h === 0) return { ok: false, reason: `h must be a finite number other than 0, got ${h}` };
  const r = makeReplay(g);
  if (!r.ok) return r;
  const input = g.nodes[x]!;
  let before: Tensor[], after: Tensor[];
  try {
    before = r.run(new Map());
    const moved = lib.add(before[x]!, h);
    after = r.run(new Map([[x, moved]]));
  } catch (e) {
    return { ok: false, reason: `replay failed: ${(e as Error).message}` };
  }
  const sweep = g.forward.find((s) => s.wrt === x);
  const rows: NudgeRow[] = g.nodes.filter((n) => n.kind !== "const").map((n) => {
    const b = sumOf(before[n.id]!), a = sumOf(after[n.id]!);
    const t = sweep ? summarySum(sweep.tangents[n.id]) : null;
    return { id: n.id, name: n.name, before: b, after: a, delta: a - b, predicted: t === null ? null : t * h };
  });
  const gradient = summarySum(input.grad);
  return { ok: true, h, rows, output: rows.find((row) => row.id === g.output)!, gradient };
}
