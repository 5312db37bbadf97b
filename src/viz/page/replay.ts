// Finite-difference check of a recorded gradient, computed in the browser with the bundled library: the
// recorded graph is replayed in float64 with the library's public ops (looked up by primitive name), the
// chosen node's value is nudged up and down, and (L(v+h) − L(v−h)) / 2h is compared with the engine's ∂L/∂v.
// This is an independent check: it uses the ops' forward kernels only, never a derivative rule.
import type { DType } from "../../core/dtype.js";
import type { Tensor } from "../../core/tensor.js";
import * as lib from "../../browser.js";
import type { ValueSummary } from "../capture.js";
import type { Graph } from "./model.js";

/** One compared element (or, for large tensors, the sum over all elements). */
export interface FdRow { label: string; fd: number; engine: number }

/** The outcome of a check: rows compared, or why the check cannot run for this node. */
export type FdResult = { ok: true; rows: FdRow[]; maxRelErr: number; h: number } | { ok: false; reason: string };

type Op = (x: Tensor[]) => Tensor;
const ops = lib as unknown as Record<string, unknown>;

/** The public op for a recorded node, called the way its parameters say; null when there is none. */
function opFor(op: string, params: unknown): Op | null {
  const f = ops[op];
  if (typeof f !== "function") return null;
  const fn = f as (...a: unknown[]) => Tensor;
  if (params === null) return (x) => fn(...x);
  if (typeof params === "object" && !Array.isArray(params) && "axes" in params && "keepDims" in params) {
    const p = params as { axes: number[]; keepDims: boolean };
    return (x) => fn(x[0], p.axes, p.keepDims);
  }
  if (Array.isArray(params) || typeof params === "string" || typeof params === "number") return (x) => fn(x[0], params);
  return null;
}

const isFloat = (d: DType): boolean => d === "float32" || d === "float64";

function leaf(v: ValueSummary): Tensor {
  return lib.tensor(Float64Array.from(v.data!), { shape: v.shape, dtype: isFloat(v.dtype) ? "float64" : v.dtype });
}

const total = (t: Tensor): number => {
  let s = 0;
  for (const x of t.data) s += x;
  return s;
};

/**
 * Checks ∂output/∂node `id` by central differences on a float64 replay of the recorded graph.
 * Elementwise for up to 64 elements; for larger nodes, along the all-ones direction (compares Σ∂L/∂v).
 */
export function finiteDifference(g: Graph, id: number, maxRows = 64): FdResult {
  const target = g.nodes[id]!;
  if (target.kind === "const") return { ok: false, reason: "constants are not differentiated" };
  if (!isFloat(target.value.dtype)) return { ok: false, reason: `${target.name} is ${target.value.dtype}: not differentiable` };
  const missing = g.nodes.find((n) => n.kind !== "op" && n.value.data === null);
  if (missing) return { ok: false, reason: `${missing.name} has more than 64 elements, so its values were not recorded and the graph cannot be replayed` };
  const fns: (Op | null)[] = g.nodes.map((n) => (n.kind === "op" ? opFor(n.op, n.params) : null));
  const bad = g.nodes.find((n, i) => n.kind === "op" && fns[i] === null);
  if (bad) return { ok: false, reason: `no replay for op ${bad.op} (parameters ${JSON.stringify(bad.params)})` };
  const leaves = g.nodes.map((n) => (n.kind === "op" ? null : leaf(n.value)));
  // Every node's value, with node `id` replaced by `override` when given.
  const replay = (override: Tensor | null): Tensor[] => {
    const vals: Tensor[] = [];
    for (const n of g.nodes) {
      vals[n.id] = n.id === id && override ? override : n.kind === "op" ? fns[n.id]!(n.inputs.map((k) => vals[k]!)) : leaves[n.id]!;
    }
    return vals;
  };
  const run = (override: Tensor): number => total(replay(override)[g.output]!);
  let vals: Tensor[];
  try {
    vals = replay(null);
  } catch (e) {
    return { ok: false, reason: `replay failed: ${(e as Error).message}` };
  }
  const L0 = total(vals[g.output]!);
  const out = g.nodes[g.output]!.value;
  const recorded = out.data ? out.data.reduce((a, b) => a + b, 0) : out.stats!.mean * out.shape.reduce((a, b) => a * b, 1);
  if (!(Math.abs(L0 - recorded) <= 1e-4 * Math.max(1, Math.abs(recorded)))) {
    return { ok: false, reason: `the float64 replay gives ${L0}, the recording ${recorded}: this graph does not replay faithfully` };
  }
  const v = vals[id]!;
  const data = Float64Array.from(v.data);
  const shape = [...v.shape];
  const nudge = (dir: Float64Array, h: number): number => {
    const plus = lib.tensor(data.map((x, i) => x + h * dir[i]!), { shape, dtype: "float64" });
    const minus = lib.tensor(data.map((x, i) => x - h * dir[i]!), { shape, dtype: "float64" });
    return (run(plus) - run(minus)) / (2 * h);
  };
  const scale = Math.max(1, ...Array.from(data, Math.abs));
  const h = 1e-6 * scale;
  const grad = target.grad;
  const rows: FdRow[] = [];
  if (data.length <= maxRows && (grad === null || grad.data !== null)) {
    for (let i = 0; i < data.length; i++) {
      const dir = new Float64Array(data.length);
      dir[i] = 1;
      rows.push({ label: data.length === 1 ? target.name : `${target.name}[${i}]`, fd: nudge(dir, h), engine: grad ? grad.data![i]! : 0 });
    }
  } else {
    const n = data.length;
    const engine = grad === null ? 0 : grad.data ? grad.data.reduce((a, b) => a + b, 0) : grad.stats!.mean * n;
    rows.push({ label: `Σ ∂/∂${target.name} (all ${n} elements)`, fd: nudge(new Float64Array(n).fill(1), h), engine });
  }
  const maxRelErr = Math.max(0, ...rows.map((r) => Math.abs(r.fd - r.engine) / Math.max(1, Math.abs(r.engine))));
  return { ok: true, rows, maxRelErr, h };
}
