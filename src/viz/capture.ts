import { Tensor, type TensorLike } from "../core/tensor.js";
import type { DType } from "../core/dtype.js";
import { ValueError } from "../core/errors.js";
import { Node, Trace, recording } from "../autodiff/trace.js";
import { outOf, primalsOf } from "../autodiff/record.js";
import { backwardPass, topologicalOrder } from "../autodiff/reverse.js";
import { add, onesLike, toTensor } from "../ops/index.js";
import { graphToJSON, type GraphJSON } from "./export-json.js";
import { graphToDot, type DotOptions } from "./export-dot.js";
import { graphToText } from "./export-text.js";
import { toHTML, type HTMLOptions } from "./html.js";

/** Elements up to which a value is kept in full; larger values keep only min/max/mean. */
export const FULL_VALUE_LIMIT = 64;

/** A recorded tensor value: all elements (row-major) when small, else summary statistics. */
export interface ValueSummary {
  shape: number[];
  dtype: DType;
  /** Every element, row-major, when the tensor has at most 64 elements (`TraceOptions.fullValueLimit`); otherwise null. */
  data: number[] | null;
  /** Min, max and mean when the tensor has more elements than that; otherwise null. */
  stats: { min: number; max: number; mean: number } | null;
}

/** `input`: a differentiated argument; `const`: a value used by the graph but not traced; `op`: a recorded primitive. */
export type NodeKind = "input" | "const" | "op";

/** One vertex of a captured graph. */
export interface GraphNode {
  /** Position in execution order, 0-based; DOT uses `n<id>`. */
  id: number;
  kind: NodeKind;
  /** Primitive name (`mul`, `square`, …), or `input` / `const`. */
  op: string;
  /** Display name: the input tensor's `.name` or x0, x1…; u, v, w, … for intermediates; the output's name. */
  name: string;
  /** Operand node ids, in operand order (constants are nodes too). */
  inputs: number[];
  /** The primitive's parameters (e.g. reduction axes), JSON-safe; null when it has none. */
  params: unknown;
  /** The forward value (the node's output). */
  value: ValueSummary;
  /** ∂output/∂node after the backward pass (null: no gradient reaches it — a constant, or unused). */
  grad: ValueSummary | null;
  /** Local derivative ∂node/∂operandᵢ as text, from the primitive's `formulas` (elementwise ops only). */
  formulas: string[] | null;
  /** The `nameScope` path the op was recorded in ("MLP/Linear0"; nn modules set one per layer); null at top level and for inputs and constants. */
  scope: string | null;
}

/** What one node sent to one operand during the backward pass. */
export interface BackwardEdge {
  /** Operand index at the sending node. */
  input: number;
  /** Receiving node id. */
  to: number;
  /** Local derivative as text (null when the primitive declares no formula, e.g. sum or matmul). */
  formula: string | null;
  /** Local derivative's value from the primitive's `partials`: a number is a constant (1, -1); null when not elementwise. */
  partial: ValueSummary | number | null;
  /** The cotangent sent along this edge (the engine's VJP output, un-broadcast to the operand's shape). */
  contribution: ValueSummary;
  /** The receiving node's gradient after adding this contribution (shows fan-out accumulation). */
  accumulated: ValueSummary;
  /** 1-based: which contribution this is among all the receiving node gets. */
  arrival: number;
  /** How many contributions the receiving node gets in total (>1 means it fans out). */
  arrivals: number;
}

/** One node processed by the engine's backward pass, in the order the engine ran it. */
export interface BackwardStep {
  node: number;
  /** The upstream cotangent ∂output/∂node the node received. */
  ct: ValueSummary;
  edges: BackwardEdge[];
}

/** A forward-mode sweep: the tangent of every node when input `wrt` has tangent ones and the others zero. */
export interface ForwardSweep {
  wrt: number;
  /** One entry per node, in execution order; null is a zero tangent. */
  tangents: (ValueSummary | null)[];
}

/** Options for `trace`. */
export interface TraceOptions {
  /** Name of the output node; default "L". */
  outputName?: string;
  /** Forward-mode sweeps to record: true (default) for every input, false for none, or a list of input names. */
  forward?: boolean | readonly string[];
  /** Tensors with at most this many elements are recorded in full, larger ones as min/max/mean; default 64. */
  fullValueLimit?: number;
  /**
   * Record the value of every input and constant in full whatever its size (float32 values in their shortest
   * exact decimal form), so that the page can replay the graph: finite-difference checks of any node. Default
   * false: a [16,784] weight adds about 100 KB to the JSON.
   */
  fullLeaves?: boolean;
}

/**
 * A computation graph captured from one run of the engine: forward values, the backward schedule
 * exactly as the engine ran it, and forward-mode tangent sweeps. Plain data plus exporters.
 */
export class GraphTrace {
  /** @internal Use `trace()`. */
  constructor(
    readonly nodes: readonly GraphNode[],
    /** Ids of the input nodes, in argument order. */
    readonly inputs: readonly number[],
    /** Id of the output node. */
    readonly output: number,
    readonly backward: readonly BackwardStep[],
    readonly forward: readonly ForwardSweep[],
  ) {}

  /** The node with display name `name`. @throws ValueError when there is none */
  node(name: string): GraphNode {
    const n = this.nodes.find((x) => x.name === name);
    if (!n) throw new ValueError(`GraphTrace.node: no node named ${JSON.stringify(name)}; names are ${this.nodes.map((x) => x.name).join(", ")}`);
    return n;
  }

  /** The versioned JSON document described in docs/graph-schema.md (`"schema": "chainrule.graph/1"`). */
  toJSON(): GraphJSON {
    return graphToJSON(this);
  }

  /** Graphviz source: one record per node labelled `name: op | value | grad`, ids n0, n1, …; edges labelled with what flowed back. */
  toDot(options?: DotOptions): string {
    return graphToDot(this, options);
  }

  /** A jaxpr-like listing: inputs first, then one line per operation with its value and gradient. */
  toText(): string {
    return graphToText(this);
  }

  /** The interactive step-through page: one self-contained, offline HTML document (see `toHTML`). */
  toHTML(options?: HTMLOptions): string {
    return toHTML(this, options);
  }
}

/** Summarises a tensor (any trace level) as plain numbers: every element up to `limit` elements, else min/max/mean. */
export function summarize(t: Tensor, limit = FULL_VALUE_LIMIT): ValueSummary {
  const data = t.data;
  const shape = [...t.shape];
  if (data.length <= limit) return { shape, dtype: t.dtype, data: Array.from(data), stats: null };
  let min = Infinity, max = -Infinity, sum = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v < min || Number.isNaN(v)) min = v;
    if (v > max || Number.isNaN(v)) max = v;
    sum += v;
  }
  return { shape, dtype: t.dtype, data: null, stats: { min, max, mean: sum / data.length } };
}

function jsonSafe(params: unknown): unknown {
  if (params === null || params === undefined) return null;
  try {
    return JSON.parse(JSON.stringify(params)) as unknown;
  } catch {
    return String(params);
  }
}

/** Display names for intermediates: u, v, w, then u1, v1, w1, u2, … skipping names already taken (and taking each). */
function* intermediateNames(taken: Set<string>): Generator<string> {
  for (let round = 0; ; round++) {
    for (const letter of ["u", "v", "w"]) {
      const name = round === 0 ? letter : `${letter}${round}`;
      if (!taken.has(name)) {
        taken.add(name);
        yield name;
      }
    }
  }
}

/**
 * Runs `f` on a reverse trace and records its graph: forward values, the engine's backward pass
 * (seeded with ones, so a non-scalar output gives the gradient of its sum) observed step by step, and
 * forward-mode sweeps that replay each primitive's JVP rule over the recorded nodes.
 * The capture reads the engine's own nodes and rules; it derives no math of its own.
 * @param f a function of tensors built from chainrule ops
 * Each op node keeps the `nameScope` path it was recorded in (nn modules set one per layer), so the
 * page can collapse a module into one box.
 * @param inputs its arguments (numbers become float32 scalars); names come from each tensor's `.name`, else x0, x1, …
 * @returns a GraphTrace with `toJSON()`, `toDot()` and `toText()`
 * @throws ValueError when an input is not a tensor or number, or f returns something else, or for a `fullValueLimit` that is not a non-negative integer
 */
export function trace(f: (...args: Tensor[]) => TensorLike, inputs: readonly TensorLike[], options: TraceOptions = {}): GraphTrace {
  const outputName = options.outputName ?? "L";
  const limit = options.fullValueLimit ?? FULL_VALUE_LIMIT;
  if (!Number.isInteger(limit) || limit < 0) throw new ValueError(`trace: fullValueLimit must be a non-negative integer, got ${limit}`);
  const summarize1 = (t: Tensor): ValueSummary => summarize(t, limit);
  const summarizeLeaf = (t: Tensor): ValueSummary => (options.fullLeaves ? shortest(summarize(t, Infinity)) : summarize1(t));
  const tr = new Trace("reverse");
  const leafNodes: Node[] = [];
  const boxes = inputs.map((x, i) => {
    if (!(x instanceof Tensor) && typeof x !== "number") throw new ValueError(`trace: input ${i} must be a tensor or a number, got ${typeof x}`);
    const primal = toTensor(x);
    const box = Tensor._box(primal, tr);
    const node = Node.leaf(primal);
    box._node = node;
    box.name = primal.name;
    leafNodes.push(node);
    return box;
  });
  // Keep every value on the nodes: the page shows them all.
  const savedAll = recording.saveAll;
  recording.saveAll = true;
  let result: unknown;
  try {
    result = f(...boxes);
  } finally {
    recording.saveAll = savedAll;
  }
  if (!(result instanceof Tensor) && typeof result !== "number") {
    throw new ValueError(`trace: f must return a tensor or a number, got ${result === null ? "null" : typeof result}`);
  }
  const out = toTensor(result);
  const root = out._trace === tr ? out._node : null;

  // Execution order: inputs (every one, even when unused), then the reached nodes in creation order
  // (a topological order); constants are inserted just before their first consumer.
  const reached = new Set(root ? topologicalOrder(root) : []);
  const engineNodes = [...leafNodes, ...tr.tape!.filter((n) => reached.has(n))];
  const ids = new Map<Node, number>();
  const constIds = new Map<Tensor, number>();
  const nodes: GraphNode[] = [];
  const taken = new Set<string>([outputName]);
  const inputNames = leafNodes.map((n, i) => {
    const name = outOf(n).name ?? `x${i}`;
    taken.add(name);
    return name;
  });
  const names = intermediateNames(taken);
  let constCount = 0;
  const addConst = (t: Tensor, name?: string): number => {
    const known = constIds.get(t);
    if (known !== undefined) return known;
    const id = nodes.length;
    const value = summarizeLeaf(t);
    // A named tensor used as a constant (a data batch) keeps its name unless another node has it.
    const own = t.name !== undefined && t.name !== "" && !taken.has(t.name) ? t.name : undefined;
    const label = name ?? own ?? (t.size === 1 && value.data ? fmtConst(value.data[0]!) : `k${constCount++}`);
    if (own !== undefined) taken.add(own);
    nodes.push({ id, kind: "const", op: "const", name: label, inputs: [], params: null, value, grad: null, formulas: null, scope: null });
    constIds.set(t, id);
    return id;
  };
  for (const n of engineNodes) {
    if (n.prim === null) {
      ids.set(n, nodes.length);
      nodes.push({ id: nodes.length, kind: "input", op: "input", name: inputNames[leafNodes.indexOf(n)]!, inputs: [], params: null, value: summarizeLeaf(outOf(n)), grad: null, formulas: null, scope: null });
      continue;
    }
    const primals = primalsOf(n);
    const operandIds = n.parents.map((p, i) => (p ? ids.get(p)! : addConst(primals[i]!)));
    const id = nodes.length;
    ids.set(n, id);
    const name = n === root ? outputName : names.next().value!;
    const formulas = n.prim.formulas ? n.prim.formulas(operandIds.map((k) => nodes[k]!.name), name, n.params) : null;
    nodes.push({ id, kind: "op", op: n.prim.name, name, inputs: operandIds, params: jsonSafe(n.params), value: summarize1(outOf(n)), grad: null, formulas, scope: n.scope ?? null });
  }
  const output = root ? ids.get(root)! : addConst(out, outputName);

  const backward = root ? recordBackward(root, ids, nodes, summarize1) : [];
  const forward = root ? recordForward(engineNodes, leafNodes, ids, nodes, options.forward ?? true, summarize1) : [];
  return new GraphTrace(nodes, leafNodes.map((n) => ids.get(n)!), output, backward, forward);
}

/** float32 data in its shortest decimal form that reads back to the same float32 (at most 9 digits), for a smaller JSON. */
function shortest(v: ValueSummary): ValueSummary {
  if (v.dtype !== "float32" || v.data === null) return v;
  const data = v.data.map((x) => {
    if (!Number.isFinite(x) || Number.isInteger(x)) return x;
    for (let p = 6; p < 9; p++) {
      const y = Number(x.toPrecision(p));
      if (Math.fround(y) === x) return y;
    }
    return Number(x.toPrecision(9));
  });
  return { ...v, data };
}

function fmtConst(v: number): string {
  return Number.isInteger(v) || !Number.isFinite(v) ? String(v) : String(Number(v.toPrecision(6)));
}

/** Runs the engine's backward pass with an observer, keeping running sums per receiving node. */
function recordBackward(root: Node, ids: Map<Node, number>, nodes: GraphNode[], summarize: (t: Tensor) => ValueSummary): BackwardStep[] {
  const raw: { node: Node; ct: Tensor; contributions: (Tensor | null)[] }[] = [];
  const seed = onesLike(outOf(root));
  backwardPass(root, seed, { onNode: (node, ct, contributions) => raw.push({ node, ct, contributions: [...contributions] }) });
  const arrivals = new Map<number, number>();
  for (const r of raw) r.node.parents.forEach((p, i) => {
    if (p && r.contributions[i]) arrivals.set(ids.get(p)!, (arrivals.get(ids.get(p)!) ?? 0) + 1);
  });
  const running = new Map<number, Tensor>();
  const seen = new Map<number, number>();
  const steps: BackwardStep[] = [];
  if (root.prim === null) running.set(ids.get(root)!, seed); // f returned an input unchanged
  for (const { node, ct, contributions } of raw) {
    const id = ids.get(node)!;
    nodes[id]!.grad = summarize(ct);
    const partials = node.prim!.partials ? node.prim!.partials(primalsOf(node), outOf(node), node.params) : null;
    const edges: BackwardEdge[] = [];
    node.parents.forEach((p, i) => {
      const c = contributions[i];
      if (!p || !c) return;
      const to = ids.get(p)!;
      const acc = running.has(to) ? add(running.get(to)!, c) : c;
      running.set(to, acc);
      const arrival = (seen.get(to) ?? 0) + 1;
      seen.set(to, arrival);
      const pv = partials ? partials[i] : null;
      edges.push({
        input: i, to,
        formula: nodes[id]!.formulas?.[i] ?? null,
        partial: pv === null || pv === undefined ? null : typeof pv === "number" ? pv : summarize(pv),
        contribution: summarize(c), accumulated: summarize(acc), arrival, arrivals: arrivals.get(to)!,
      });
    });
    steps.push({ node: id, ct: summarize(ct), edges });
  }
  // Inputs are never "processed" by the engine: their gradient is the sum that arrived.
  for (const n of nodes) if (n.kind === "input" && running.has(n.id)) n.grad = summarize(running.get(n.id)!);
  return steps;
}

/** Replays each recorded primitive's JVP rule in execution order, once per chosen input. */
function recordForward(engineNodes: Node[], leafNodes: Node[], ids: Map<Node, number>, nodes: GraphNode[], which: boolean | readonly string[], summarize: (t: Tensor) => ValueSummary): ForwardSweep[] {
  if (which === false) return [];
  const chosen = leafNodes.filter((n) => which === true || which.includes(nodes[ids.get(n)!]!.name));
  return chosen.map((wrt) => {
    const tangent = new Map<Node, Tensor | null>();
    for (const n of engineNodes) {
      if (n.prim === null) {
        tangent.set(n, n === wrt ? onesLike(outOf(n)) : null);
        continue;
      }
      const ts = n.parents.map((p) => (p ? tangent.get(p) ?? null : null));
      tangent.set(n, ts.some((t) => t !== null) ? n.prim.jvp(primalsOf(n), ts, outOf(n), n.params) : null);
    }
    const tangents: (ValueSummary | null)[] = nodes.map(() => null);
    for (const n of engineNodes) {
      const t = tangent.get(n);
      if (t) tangents[ids.get(n)!] = summarize(t);
    }
    return { wrt: ids.get(wrt)!, tangents };
  });
}
