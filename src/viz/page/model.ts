// The page's model: the recorded graph (decoded from the chainrule.graph/1 JSON) and the timeline of steps
// the page walks through. Nothing here computes derivatives: every number comes from the recording.
import type { BackwardEdge, BackwardStep, ForwardSweep, GraphNode, ValueSummary } from "../capture.js";
import type { GraphJSON, JsonNumber } from "../export-json.js";

/** The recorded graph with plain numbers (the JSON spells NaN and ±Infinity as strings). */
export interface Graph {
  nodes: GraphNode[];
  inputs: number[];
  output: number;
  backward: BackwardStep[];
  forward: ForwardSweep[];
}

const num = (v: JsonNumber): number => (typeof v === "number" ? v : Number(v));

function decodeValue(v: GraphJSON["nodes"][number]["value"]): ValueSummary;
function decodeValue(v: GraphJSON["nodes"][number]["value"] | null): ValueSummary | null;
function decodeValue(v: GraphJSON["nodes"][number]["value"] | null): ValueSummary | null {
  if (v === null) return null;
  return {
    shape: v.shape,
    dtype: v.dtype,
    data: v.data ? v.data.map(num) : null,
    stats: v.stats ? { min: num(v.stats.min), max: num(v.stats.max), mean: num(v.stats.mean) } : null,
  };
}

/** Turns the JSON document back into numbers. @throws Error when the schema is not chainrule.graph/1 */
export function decodeGraph(json: GraphJSON): Graph {
  if (json.schema !== "chainrule.graph/1") throw new Error(`page: unsupported graph schema ${JSON.stringify(json.schema)}; expected "chainrule.graph/1"`);
  return {
    inputs: json.inputs,
    output: json.output,
    nodes: json.nodes.map((n) => ({ ...n, value: decodeValue(n.value), grad: decodeValue(n.grad), scope: n.scope ?? null })),
    backward: json.backward.map((s) => ({
      node: s.node,
      ct: decodeValue(s.ct),
      edges: s.edges.map((e) => ({
        ...e,
        partial: e.partial === null ? null : typeof e.partial === "object" ? decodeValue(e.partial) : num(e.partial),
        contribution: decodeValue(e.contribution),
        accumulated: decodeValue(e.accumulated),
      })),
    })),
    forward: json.forward.map((s) => ({ wrt: s.wrt, tangents: s.tangents.map((t) => decodeValue(t)) })),
  };
}

/** Reverse: evaluate, then the backward pass. Forward: evaluate while pushing tangents for one input. */
export type Mode = "reverse" | "forward";

/** One step of the walk-through. */
export type Step =
  | { kind: "start" }
  /** Node `node` computes its value (and, in forward mode, its tangent). */
  | { kind: "compute"; node: number }
  /** The backward pass seeds the output with ∂L/∂L = 1. */
  | { kind: "seed"; node: number }
  /** Node `from` sends a gradient to operand `edge.input` (node `edge.to`) during the backward pass. */
  | { kind: "edge"; from: number; step: BackwardStep; edge: BackwardEdge };

/** The steps of one mode, in order; step 0 is the start (inputs and constants known). */
export function timeline(g: Graph, mode: Mode): Step[] {
  const steps: Step[] = [{ kind: "start" }];
  for (const n of g.nodes) if (n.kind === "op") steps.push({ kind: "compute", node: n.id });
  if (mode === "forward") return steps;
  steps.push({ kind: "seed", node: g.output });
  for (const s of g.backward) for (const e of s.edges) steps.push({ kind: "edge", from: s.node, step: s, edge: e });
  return steps;
}

/** A gradient as known at some step: the running sum and how many of its contributions have arrived. */
export interface GradState {
  value: ValueSummary;
  arrival: number;
  arrivals: number;
  /** The contributions so far (for the sum shown at fan-out nodes). */
  parts: ValueSummary[];
}

/** What the page shows after step k. */
export interface State {
  /** Nodes whose value is known. */
  computed: Set<number>;
  /** Gradients known so far (reverse mode). */
  grads: Map<number, GradState>;
  /** Edges that carried a gradient so far, keyed by `edgeKey`, with what they carried. */
  flows: Map<string, ValueSummary>;
  /** Tangents known so far (forward mode); null is a symbolic zero. */
  tangents: Map<number, ValueSummary | null>;
  /** The node the step is about and the edge(s) it lights. */
  focus: number | null;
  focusEdges: string[];
}

/** The key of the graph edge from operand `input` of node `consumer`. */
export const edgeKey = (consumer: number, input: number): string => `${consumer}:${input}`;

/**
 * The state after step `k` of `steps`, replayed from the start (cheap: a few map updates per step).
 * @param sweep the forward-mode sweep shown (forward mode only)
 */
export function stateAt(g: Graph, steps: readonly Step[], k: number, sweep: ForwardSweep | null): State {
  const st: State = { computed: new Set(), grads: new Map(), flows: new Map(), tangents: new Map(), focus: null, focusEdges: [] };
  for (const n of g.nodes) if (n.kind !== "op") st.computed.add(n.id);
  if (sweep) for (const n of g.nodes) if (n.kind !== "op") st.tangents.set(n.id, sweep.tangents[n.id] ?? null);
  for (let i = 0; i <= k && i < steps.length; i++) {
    const s = steps[i]!;
    st.focusEdges = [];
    if (s.kind === "start") {
      st.focus = null;
    } else if (s.kind === "compute") {
      st.computed.add(s.node);
      st.focus = s.node;
      const n = g.nodes[s.node]!;
      st.focusEdges = n.inputs.map((_, j) => edgeKey(s.node, j));
      if (sweep) st.tangents.set(s.node, sweep.tangents[s.node] ?? null);
    } else if (s.kind === "seed") {
      const out = g.nodes[s.node]!;
      const seed = g.backward[0]?.ct ?? out.grad;
      if (seed) st.grads.set(s.node, { value: seed, arrival: 1, arrivals: 1, parts: [seed] });
      st.focus = s.node;
    } else {
      const e = s.edge;
      const prev = st.grads.get(e.to);
      st.grads.set(e.to, { value: e.accumulated, arrival: e.arrival, arrivals: e.arrivals, parts: [...(prev?.parts ?? []), e.contribution] });
      const key = edgeKey(s.from, e.input);
      st.flows.set(key, e.contribution);
      st.focus = e.to;
      st.focusEdges = [key];
    }
  }
  return st;
}
