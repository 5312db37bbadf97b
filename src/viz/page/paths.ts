// Paths from an input to the output, and the input's gradient as the sum over paths of the products of
// the local derivatives along each (the chain rule over a DAG: ∂L/∂x = Σ_paths Π_edges ∂v/∂u). Numbers
// come from the recorded backward pass (each edge's local derivative); nothing is differentiated here.
import type { Graph } from "./model.js";
import { edgeKey } from "./model.js";

/** One path from the input to the output: its nodes, its edges (`edgeKey`), and the local derivative of each edge. */
export interface GraphPath {
  nodes: number[];
  edges: string[];
  /** Local derivatives along the path, in order; null when one is not a recorded scalar (a tensor op). */
  factors: number[] | null;
  /** Their product; null with `factors`. */
  product: number | null;
}

/** Every path from `from` to the output: how many there are, the first `limit`, and what they cover. */
export interface Paths {
  from: number;
  /** The number of paths (can be far more than are listed). */
  count: number;
  listed: GraphPath[];
  /** The sum of all products when every path was listed with scalar factors; else null. */
  sum: number | null;
  /** Edges and nodes that lie on at least one path, for highlighting. */
  edges: Set<string>;
  nodes: Set<number>;
}

/** Paths listed at most; a graph can have exponentially many. */
export const PATHS_LISTED = 24;

/** The recorded local derivative of the edge from operand `input` of `consumer`, when it is a scalar. */
function localValue(g: Graph, consumer: number, input: number): number | null {
  const step = g.backward.find((s) => s.node === consumer);
  const e = step?.edges.find((x) => x.input === input);
  const p = e?.partial;
  if (p === undefined || p === null) return null;
  if (typeof p === "number") return p;
  return p.shape.length === 0 && p.data ? p.data[0]! : null;
}

/**
 * The paths from node `from` to the output along operand edges (an operand used twice by one node gives
 * two edges, so two paths), with their products of local derivatives.
 * @param limit paths listed at most (all are counted)
 */
export function pathsFrom(g: Graph, from: number, limit = PATHS_LISTED): Paths {
  const consumers: { to: number; input: number }[][] = g.nodes.map(() => []);
  for (const n of g.nodes) n.inputs.forEach((k, j) => consumers[k]!.push({ to: n.id, input: j }));
  // Paths to the output from each node, counted in reverse execution order (ids are topological).
  const toOut = new Array<number>(g.nodes.length).fill(0);
  toOut[g.output] = 1;
  for (let id = g.nodes.length - 1; id >= 0; id--) {
    if (id === g.output) continue;
    toOut[id] = consumers[id]!.reduce((a, c) => a + toOut[c.to]!, 0);
  }
  const reached = new Set<number>([from]);
  for (let id = from; id < g.nodes.length; id++) if (reached.has(id)) for (const c of consumers[id]!) reached.add(c.to);
  const nodes = new Set<number>();
  const edges = new Set<string>();
  for (const id of reached) {
    if (toOut[id] === 0) continue;
    nodes.add(id);
    for (const c of consumers[id]!) if (toOut[c.to]! > 0) edges.add(edgeKey(c.to, c.input));
  }
  const listed: GraphPath[] = [];
  // Depth-first, iteratively (an explicit stack: long chains must not overflow the call stack).
  const stack: { node: number; path: number[]; keys: string[]; factors: (number | null)[] }[] = [{ node: from, path: [from], keys: [], factors: [] }];
  while (stack.length > 0 && listed.length < limit) {
    const top = stack.pop()!;
    if (top.node === g.output) {
      const ok = top.factors.every((f) => f !== null);
      const factors = ok ? (top.factors as number[]) : null;
      listed.push({ nodes: top.path, edges: top.keys, factors, product: factors ? factors.reduce((a, b) => a * b, 1) : null });
      continue;
    }
    const next = consumers[top.node]!.filter((c) => toOut[c.to]! > 0);
    for (let i = next.length - 1; i >= 0; i--) {
      const c = next[i]!;
      stack.push({ node: c.to, path: [...top.path, c.to], keys: [...top.keys, edgeKey(c.to, c.input)], factors: [...top.factors, localValue(g, c.to, c.input)] });
    }
  }
  const count = toOut[from]!;
  const all = listed.length === count && listed.every((p) => p.product !== null);
  return { from, count, listed, sum: all ? listed.reduce((a, p) => a + p.product!, 0) : null, edges, nodes };
}
