// Lays the DAG out left to right (inputs on the left, the loss on the right) with dagre. Collapsed modules
// are one box each; expanded modules are dagre clusters, drawn as frames around their contents.
import dagre, { type EdgeLabel, type GraphLabel, type NodeLabel } from "@dagrejs/dagre";
import type { ValueSummary } from "../capture.js";
import type { Graph } from "./model.js";
import { edgeKey } from "./model.js";
import { groupGraph, groupUnit, nodeUnit, type Group, type Grouping } from "./groups.js";
import { allLines } from "./labels.js";
import { short } from "./format.js";

export interface Box { x: number; y: number; w: number; h: number }
/** One recorded operand edge (operand `from` → consumer `to`, operand index `input`). */
export interface EdgeMember { key: string; from: number; to: number; input: number }
/**
 * A drawn edge. Between two plain nodes it is one operand edge; an edge into or out of a collapsed module
 * stands for every operand edge between the same two boxes (`members`; the first is also `key`/`from`/`to`).
 */
export interface EdgePath extends EdgeMember { members: EdgeMember[]; points: { x: number; y: number }[] }
/** A frame around an expanded module, with its title above the contents. */
export interface FrameBox extends Box { scope: string; label: string }
/** `boxes[id]` is undefined for a node not drawn on its own (a constant of a compact graph, a member of a collapsed module). */
export interface Layout {
  boxes: (Box | undefined)[];
  /** Collapsed modules, by scope. */
  groups: Map<string, Box & { group: Group }>;
  /** Expanded modules, outer before inner. */
  frames: FrameBox[];
  edges: EdgePath[];
  width: number;
  height: number;
  compact: boolean;
}

/** Graphs with more nodes than this get smaller boxes and no space reserved for edge labels. */
export const COMPACT_ABOVE = 80;

/** Graphs with more nodes than this are ranked with dagre's fast longest-path ranker. */
export const FAST_RANKING_ABOVE = 200;

/** Room above a frame's contents for its title. */
export const FRAME_TITLE = 16;
const FRAME_PAD = 8;

/** Approximate width of text at the page's 12px font (no DOM measuring, so layout works before attach). */
export const textWidth = (s: string, px = 12): number => [...s].length * px * 0.6;

/**
 * Height of a tensor's picture: bars and ranges 18px; a heatmap about 3px per row (18 to 48px), so an
 * [8,16] activation or a [10,16] weight is readable.
 */
export function previewHeight(v: ValueSummary): number {
  if (v.shape.length < 2 || v.data === null) return 18;
  const rows = v.data.length / v.shape[v.shape.length - 1]!;
  return Math.max(18, Math.min(48, Math.round(rows * 3)));
}

/**
 * Width of monospace text: glyphs are 0.6 em; symbols the monospace font lacks (∂, ∇, Σ in some fonts)
 * fall back to a proportional font, so those count a little wider.
 */
export const monoWidth = (s: string, px: number): number => [...s].reduce((w, c) => w + (c.charCodeAt(0) < 0x250 ? 0.6 : 0.75), 0) * px;

/** Which way the graph runs: left to right on wide screens, top to bottom on narrow ones (a phone). */
export type Direction = "LR" | "TB";

/**
 * Box sizes: constants are small pills; tensors get room for their picture; every box is as wide as the
 * widest line it will show at any step (labels.ts), so values and gradients are never cut off.
 */
function sizeOf(g: Graph, id: number, compact: boolean): { w: number; h: number } {
  const n = g.nodes[id]!;
  if (n.kind === "const") return { w: Math.max(28, textWidth(n.name, 11) + 16), h: 24 };
  const tensor = n.value.shape.length > 0;
  const title = `${n.name}  ${n.kind === "input" ? "input" : n.op}`;
  const lines = allLines(g, id, compact);
  const widest = Math.max(monoWidth(title, 13), ...lines.value.map((s) => monoWidth(s, 12)), ...lines.extra.map((s) => monoWidth(s, 11)));
  const w = Math.max(compact ? 96 : 120, Math.ceil(widest) + 22);
  // A tensor input (a parameter) also gets a picture of its gradient, below its value's.
  const gradPicture = tensor && n.kind === "input" && n.grad !== null ? previewHeight(n.grad) + 4 : 0;
  return { w, h: (compact ? 44 : 56) + (tensor ? previewHeight(n.value) + 4 : 0) + gradPicture };
}

/** A module box: title, ops and value, gradient, where gradients went; a picture of its single output. */
function groupSize(g: Graph, grp: Group): { w: number; h: number } {
  const outNode = grp.outputs.length === 1 ? g.nodes[grp.outputs[0]!]! : null;
  const out = outNode?.value ?? null;
  const L = g.nodes[g.output]!.name;
  // The lines render.ts writes, at their widest: the op count and value, the gradient, where gradients went.
  const inside = new Set(grp.members);
  const senders = [...new Set(grp.members.flatMap((m) => g.nodes[m]!.inputs).filter((k) => !inside.has(k) && g.nodes[k]!.kind !== "const").map((k) => g.nodes[k]!.name))];
  const lines = [
    [`${grp.label} ▸ module`, 13],
    [`${grp.ops} ops${outNode ? ` = ${short(outNode.value)}` : ""}`, 12],
    [outNode?.grad ? `∂${L}/∂out = ${short(outNode.grad)}` : "", 11],
    [`∇ out → ${senders.join(", ")}`, 10.5],
  ] as const;
  const w = Math.max(170, Math.ceil(Math.max(...lines.map(([s, px]) => monoWidth(s, px)))) + 28);
  return { w, h: 70 + (out && out.shape.length > 0 ? previewHeight(out) + 4 : 0) };
}

/**
 * Positions every box and routes every edge (operand → consumer, one per operand, repeats included, merged
 * per pair of boxes at collapsed modules). Large graphs are compact: smaller boxes, and constants left out,
 * since a shared literal such as 0.5 feeding a hundred nodes would tie the whole drawing together (their
 * values stay in the explanations).
 * @param grouping which modules are collapsed (default: none)
 * @param direction "LR" (inputs on the left) or "TB" (inputs on top, for narrow screens)
 */
export function layoutGraph(g: Graph, grouping: Grouping = groupGraph(g, new Set()), direction: Direction = "LR"): Layout {
  const compact = g.nodes.length > COMPACT_ABOVE;
  const { unit } = grouping;
  const drawn = (id: number): boolean => !compact || g.nodes[id]!.kind !== "const";
  const ownBox = (id: number): boolean => drawn(id) && unit[id] === nodeUnit(id);
  const hasFrames = grouping.frames.length > 0;
  const dg = new dagre.graphlib.Graph<GraphLabel, NodeLabel, EdgeLabel>({ multigraph: true, compound: hasFrames });
  // dagre's default ranker (network simplex) takes seconds past a few hundred nodes; longest-path is
  // near-linear and, for graphs built layer by layer, gives much the same picture.
  const big = g.nodes.length > FAST_RANKING_ABOVE;
  // Frames need room across the ranks for their padding and titles: dagre keeps only edgesep between nested clusters.
  const depth = (s: string): number => s.split("/").length;
  const maxDepth = Math.max(0, ...grouping.frames.map(depth));
  const framed = hasFrames ? FRAME_TITLE + FRAME_PAD : 0;
  dg.setGraph({
    rankdir: direction, nodesep: (compact ? 12 : 22) + framed, ranksep: compact ? 36 : 56, edgesep: 8 + (hasFrames ? FRAME_PAD * 2 : 0),
    marginx: 16 + maxDepth * FRAME_PAD, marginy: 16 + maxDepth * (FRAME_TITLE + FRAME_PAD), ...(big ? { ranker: "longest-path" } : {}),
  });
  dg.setDefaultEdgeLabel(() => ({}));
  for (const n of g.nodes) {
    if (!ownBox(n.id)) continue;
    const { w, h } = sizeOf(g, n.id, compact);
    dg.setNode(nodeUnit(n.id), { width: w, height: h });
  }
  for (const grp of grouping.groups) {
    const { w, h } = groupSize(g, grp);
    dg.setNode(groupUnit(grp.scope), { width: w, height: h });
  }
  if (hasFrames) {
    for (const s of grouping.frames) dg.setNode(`f:${s}`, {});
    for (const s of grouping.frames) {
      const p = s.lastIndexOf("/") < 0 ? null : s.slice(0, s.lastIndexOf("/"));
      if (p !== null && grouping.frames.includes(p)) dg.setParent(`f:${s}`, `f:${p}`);
    }
    for (const [u, frame] of grouping.parent) if (dg.hasNode(u)) dg.setParent(u, `f:${frame}`);
  }
  // Operand edges, merged per pair of boxes when one end is a module.
  const paths = new Map<string, { v: string; w: string; members: EdgeMember[] }>();
  for (const n of g.nodes) {
    n.inputs.forEach((k, j) => {
      if (!drawn(k) || !drawn(n.id)) return;
      const v = unit[k]!, w = unit[n.id]!;
      if (v === w) return; // inside one collapsed module
      const key = edgeKey(n.id, j);
      const id = v.startsWith("g:") || w.startsWith("g:") ? `${v}>${w}` : key;
      const p = paths.get(id);
      if (p) p.members.push({ key, from: k, to: n.id, input: j });
      else paths.set(id, { v, w, members: [{ key, from: k, to: n.id, input: j }] });
    });
  }
  for (const [name, p] of paths) dg.setEdge(p.v, p.w, compact ? {} : { width: 34, height: 14, labelpos: "c" }, name);
  dagre.layout(dg);
  const boxAt = (u: string): Box => {
    const l = dg.node(u);
    return { x: l.x!, y: l.y!, w: l.width, h: l.height };
  };
  const boxes = g.nodes.map((n) => (ownBox(n.id) ? boxAt(nodeUnit(n.id)) : undefined));
  const groups = new Map(grouping.groups.map((grp) => [grp.scope, { ...boxAt(groupUnit(grp.scope)), group: grp }]));
  // dagre's clusters hug their contents; pad them and leave room for the title.
  const frames: FrameBox[] = grouping.frames.map((s) => {
    const b = boxAt(`f:${s}`);
    const top = FRAME_TITLE + FRAME_PAD;
    return { scope: s, label: s.slice(s.lastIndexOf("/") + 1), x: b.x, y: b.y - (top - FRAME_PAD) / 2, w: b.w + 2 * FRAME_PAD, h: b.h + top + FRAME_PAD };
  });
  const edges: EdgePath[] = [];
  for (const [name, p] of paths) {
    const e = dg.edge({ v: p.v, w: p.w, name });
    edges.push({ ...p.members[0]!, members: p.members, points: (e?.points ?? []).map((q: { x: number; y: number }) => ({ x: q.x, y: q.y })) });
  }
  const gl = dg.graph();
  return { boxes, groups, frames, edges, width: gl.width ?? 0, height: gl.height ?? 0, compact };
}
