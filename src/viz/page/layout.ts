// Lays the DAG out left to right (inputs on the left, the loss on the right) with dagre.
import dagre, { type EdgeLabel, type GraphLabel, type NodeLabel } from "@dagrejs/dagre";
import type { Graph } from "./model.js";
import { edgeKey } from "./model.js";

export interface Box { x: number; y: number; w: number; h: number }
export interface EdgePath { key: string; from: number; to: number; input: number; points: { x: number; y: number }[] }
/** `boxes[id]` is undefined for a node left out (constants of a compact graph). */
export interface Layout { boxes: (Box | undefined)[]; edges: EdgePath[]; width: number; height: number; compact: boolean }

/** Graphs with more nodes than this get smaller boxes and no space reserved for edge labels. */
export const COMPACT_ABOVE = 80;

/** Graphs with more nodes than this are ranked with dagre's fast longest-path ranker. */
export const FAST_RANKING_ABOVE = 200;

/** Approximate width of text at the page's 12px font (no DOM measuring, so layout works before attach). */
export const textWidth = (s: string, px = 12): number => [...s].length * px * 0.6;

/** Box sizes: constants are small pills; tensors get room for a heatmap. */
function sizeOf(g: Graph, id: number, compact: boolean): { w: number; h: number } {
  const n = g.nodes[id]!;
  if (n.kind === "const") return { w: Math.max(28, textWidth(n.name, 11) + 16), h: 24 };
  const tensor = n.value.shape.length > 0;
  const title = `${n.name} = ${n.op}`;
  const w = Math.max(compact ? 96 : 120, textWidth(title) + 20);
  return { w, h: (compact ? 44 : 56) + (tensor ? 22 : 0) };
}

/**
 * Positions every node and routes every edge (operand → consumer, one per operand, repeats included).
 * Large graphs are compact: smaller boxes, and constants left out, since a shared literal such as 0.5
 * feeding a hundred nodes would tie the whole drawing together (their values stay in the explanations).
 */
export function layoutGraph(g: Graph): Layout {
  const compact = g.nodes.length > COMPACT_ABOVE;
  const shown = (id: number): boolean => !compact || g.nodes[id]!.kind !== "const";
  const dg = new dagre.graphlib.Graph<GraphLabel, NodeLabel, EdgeLabel>({ multigraph: true });
  // dagre's default ranker (network simplex) takes seconds past a few hundred nodes; longest-path is
  // near-linear and, for graphs built layer by layer, gives much the same picture.
  const big = g.nodes.length > FAST_RANKING_ABOVE;
  dg.setGraph({ rankdir: "LR", nodesep: compact ? 12 : 22, ranksep: compact ? 36 : 56, edgesep: 8, marginx: 16, marginy: 16, ...(big ? { ranker: "longest-path" } : {}) });
  dg.setDefaultEdgeLabel(() => ({}));
  for (const n of g.nodes) {
    if (!shown(n.id)) continue;
    const { w, h } = sizeOf(g, n.id, compact);
    dg.setNode(String(n.id), { width: w, height: h });
  }
  for (const n of g.nodes) {
    n.inputs.forEach((k, j) => {
      if (shown(k)) dg.setEdge(String(k), String(n.id), compact ? {} : { width: 34, height: 14, labelpos: "c" }, edgeKey(n.id, j));
    });
  }
  dagre.layout(dg);
  const boxes = g.nodes.map((n) => {
    if (!shown(n.id)) return undefined;
    const l = dg.node(String(n.id));
    return { x: l.x!, y: l.y!, w: l.width, h: l.height };
  });
  const edges: EdgePath[] = [];
  for (const n of g.nodes) {
    n.inputs.forEach((k, j) => {
      if (!shown(k)) return;
      const key = edgeKey(n.id, j);
      const e = dg.edge({ v: String(k), w: String(n.id), name: key });
      edges.push({ key, from: k, to: n.id, input: j, points: (e?.points ?? []).map((p: { x: number; y: number }) => ({ x: p.x, y: p.y })) });
    });
  }
  const gl = dg.graph();
  return { boxes, edges, width: gl.width ?? 0, height: gl.height ?? 0, compact };
}
