// Finite-difference check of a recorded gradient, computed in the browser with the bundled library: the
// recorded graph is replayed in float64 with the library's public ops (looked up by primitive name), the
// chosen node's value is nudged up and down, and (L(v+h) − L(v−h)) / 2h is compared with the engine's ∂L/∂v.
// This is an independent check: it uses the ops' forward kernels only, never a derivative rule.
import type { DType } from "../../core/dtype.js";
import type { Tensor } from "../../core/tensor.js";
import * as lib from "../../browser.js";
import type { ValueSummary } from "../capture.js";
import type { Graph } from "./model.js";
import { Rng } from "../../core/random.js";

/** Elements checked one by one in a tensor too large to check them all: drawn with a seeded generator. */
export const FD_SAMPLE = 8;

/** One compared element (or, for large tensors, the sum over all elements). */
export interface FdRow { label: string; fd: number; engine: number }

/**
 * The outcome of a check: rows compared, or why the check cannot run for this node. `sample` says when the
 * rows are a seeded sample of a large tensor's elements; `engineFrom` where the engine column comes from:
 * the recording, or (for a tensor whose gradient was recorded as min/max/mean only) the library's reverse
 * mode on the same float64 replay.
 */
export type FdResult =
  | { ok: true; rows: FdRow[]; maxRelErr: number; h: number; sample?: { of: number; seed: number }; engineFrom: "recording" | "replay" }
  | { ok: false; reason: string };

type Op = (x: Tensor[]) => Tensor;
const ops = lib as unknown as Record<string, unknown>;

/** The last two axes swapped, as matmul's recorded transposes ({ a, b }) ask. */
const swapLast = (t: Tensor): Tensor => lib.transpose(t, [...t.shape.keys()].map((i, _, all) => (i < all.length - 2 ? i : i === all.length - 2 ? all.length - 1 : all.length - 2)));

/** The public op for a recorded node, called the way its parameters say; null when there is none. */
function opFor(op: string, params: unknown): Op | null {
  // The GEMM primitive records its operands' transposes; the public matmul takes them untransposed.
  if (op === "matmul" && params !== null && typeof params === "object" && "a" in params && "b" in params) {
    const p = params as { a: boolean; b: boolean };
    return (x) => lib.matmul(p.a ? swapLast(x[0]!) : x[0]!, p.b ? swapLast(x[1]!) : x[1]!);
  }
  // Fused losses are public under nn.
  const f = ops[op] ?? (lib.nn as unknown as Record<string, unknown>)[op];
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

/** A replay of the recorded graph in float64: every node's value, with some nodes' values replaced. */
export type Replay = { ok: true; run: (overrides: ReadonlyMap<number, Tensor>) => Tensor[] } | { ok: false; reason: string };

/**
 * Prepares a float64 replay of `g` with the library's public ops (forward kernels only); fails when an
 * input or constant was not recorded in full or an op has no public function to replay it with.
 */
export function makeReplay(g: Graph): Replay {
  const missing = g.nodes.find((n) => n.kind !== "op" && n.value.data === null);
  if (missing) return { ok: false, reason: `${missing.name} has more elements than were recorded in full, so the graph cannot be replayed (trace with fullLeaves: true to keep every input and constant)` };
  const fns: (Op | null)[] = g.nodes.map((n) => (n.kind === "op" ? opFor(n.op, n.params) : null));
  const bad = g.nodes.find((n, i) => n.kind === "op" && fns[i] === null);
  if (bad) return { ok: false, reason: `no replay for op ${bad.op} (parameters ${JSON.stringify(bad.params)})` };
  const leaves = g.nodes.map((n) => (n.kind === "op" ? null : leaf(n.value)));
  return {
    ok: true,
    run: (overrides) => {
      const vals: Tensor[] = [];
      for (const n of g.nodes) vals[n.id] = overrides.get(n.id) ?? (n.kind === "op" ? fns[n.id]!(n.inputs.map((k) => vals[k]!)) : leaves[n.id]!);
      return vals;
    },
  };
}

/**
 * Checks ∂output/∂node `id` by central differences on a float64 replay of the recorded graph.
 * Elementwise for up to `maxRows` elements; for larger nodes, a seeded sample of `FD_SAMPLE` elements (against
 * the recorded gradient, or the library's reverse mode on the replay when only a summary was recorded) and
 * the all-ones direction (Σ∂L/∂v against the recording).
 */
export function finiteDifference(g: Graph, id: number, maxRows = 64): FdResult {
  const target = g.nodes[id]!;
  if (target.kind === "const") return { ok: false, reason: "constants are not differentiated" };
  if (!isFloat(target.value.dtype)) return { ok: false, reason: `${target.name} is ${target.value.dtype}: not differentiable` };
  const prepared = makeReplay(g);
  if (!prepared.ok) return { ok: false, reason: prepared.reason };
  // Every node's value, with node `id` replaced by `override` when given.
  const none = new Map<number, Tensor>();
  const replay = (override: Tensor | null): Tensor[] => prepared.run(override ? new Map([[id, override]]) : none);
  const run = (override: Tensor): number => total(replay(override)[g.output]!);
  // The engine's gradient of the replay (reverse mode in float64), for a tensor whose recorded gradient is a summary.
  const replayGradient = (at: Tensor): Float64Array => Float64Array.from(lib.grad((v: Tensor) => lib.sum(replay(v)[g.output]!))(at).data);
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
  const n = data.length;
  const element = (i: number, engine: number): FdRow => {
    const dir = new Float64Array(n);
    dir[i] = 1;
    return { label: n === 1 ? target.name : `${target.name}[${i}]`, fd: nudge(dir, h), engine };
  };
  if (n <= maxRows && (grad === null || grad.data !== null)) {
    for (let i = 0; i < n; i++) rows.push(element(i, grad ? grad.data![i]! : 0));
    const maxRelErr = Math.max(0, ...rows.map((r) => Math.abs(r.fd - r.engine) / Math.max(1, Math.abs(r.engine))));
    return { ok: true, rows, maxRelErr, h, engineFrom: "recording" };
  }
  // A large tensor: FD_SAMPLE elements drawn with a seed (the node's id, so a page always checks the same
  // ones), each against the engine's gradient (recorded, or of the replay when the recording kept a summary),
  // then the sum over all elements against the recording, which checks the replay's gradient too.
  const recordedGrad = grad !== null && grad.data !== null ? grad.data : null;
  let engine: ArrayLike<number>;
  try {
    engine = grad === null ? new Float64Array(n) : recordedGrad ?? replayGradient(v);
  } catch (e) {
    return { ok: false, reason: `the gradient of the replay failed: ${(e as Error).message}` };
  }
  const seed = id;
  // Elements with a non-zero gradient come first (a dead ReLU's or a blank pixel's zero checks little).
  const order = Array.from(new Rng(seed).permutation(n));
  const live = order.filter((i) => engine[i] !== 0);
  const picked = [...live, ...order.filter((i) => engine[i] === 0)].slice(0, Math.min(FD_SAMPLE, n)).sort((a, b) => a - b);
  for (const i of picked) rows.push(element(i, engine[i]!));
  const sum = grad === null ? 0 : recordedGrad ? recordedGrad.reduce((a, b) => a + b, 0) : grad.stats!.mean * n;
  rows.push({ label: `Σ ∂/∂${target.name} (all ${n} elements)`, fd: nudge(new Float64Array(n).fill(1), h), engine: sum });
  const maxRelErr = Math.max(0, ...rows.map((r) => Math.abs(r.fd - r.engine) / Math.max(1, Math.abs(r.engine))));
  return { ok: true, rows, maxRelErr, h, sample: { of: n, seed }, engineFrom: recordedGrad || grad === null ? "recording" : "replay" };
}

/**
 * The gradient of the output with respect to every tensor input whose recorded gradient is only a summary
 * (over the full-value limit), by the library's reverse mode on a float64 replay: for the parameters'
 * gradient heatmaps. Empty when the graph cannot be replayed.
 */
export function replayInputGradients(g: Graph): Map<number, ValueSummary> {
  const out = new Map<number, ValueSummary>();
  const want = g.inputs.filter((i) => g.nodes[i]!.grad !== null && g.nodes[i]!.grad!.data === null);
  if (want.length === 0) return out;
  const r = makeReplay(g);
  if (!r.ok) return out;
  try {
    const start = want.map((i) => leaf(g.nodes[i]!.value));
    const f = (...xs: Tensor[]): Tensor => lib.sum(r.run(new Map(want.map((id, k) => [id, xs[k]!])))[g.output]!);
    const grads = lib.grad(f, { argnums: want.map((_, k) => k) })(...start) as unknown as Tensor[];
    want.forEach((id, k) => out.set(id, { shape: [...grads[k]!.shape], dtype: g.nodes[id]!.value.dtype, data: Array.from(grads[k]!.data), stats: null }));
  } catch {
    // No heatmap then: the summary (min–max bar) is drawn instead.
  }
  return out;
}
