import type { DType } from "../core/dtype.js";
import type { GraphTrace, NodeKind } from "./capture.js";

/** The schema id written into every document; bump the number on any incompatible change. */
export const GRAPH_SCHEMA = "chainrule.graph/1";

/** A number in the JSON document: finite numbers as is; NaN and ±Infinity as the strings "NaN", "Infinity", "-Infinity". */
export type JsonNumber = number | "NaN" | "Infinity" | "-Infinity";

/** A value in the JSON document (see docs/graph-schema.md). */
export interface ValueJSON {
  shape: number[];
  dtype: DType;
  data: JsonNumber[] | null;
  stats: { min: JsonNumber; max: JsonNumber; mean: JsonNumber } | null;
}

/** The `chainrule.graph/1` document: see docs/graph-schema.md for every field. */
export interface GraphJSON {
  schema: typeof GRAPH_SCHEMA;
  inputs: number[];
  output: number;
  nodes: {
    id: number;
    kind: NodeKind;
    op: string;
    name: string;
    inputs: number[];
    params: unknown;
    value: ValueJSON;
    grad: ValueJSON | null;
    formulas: string[] | null;
    /** The node's `nameScope` path, null at top level; absent in documents written before scopes were recorded. */
    scope?: string | null;
  }[];
  backward: {
    node: number;
    ct: ValueJSON;
    edges: {
      input: number;
      to: number;
      formula: string | null;
      partial: ValueJSON | JsonNumber | null;
      contribution: ValueJSON;
      accumulated: ValueJSON;
      arrival: number;
      arrivals: number;
    }[];
  }[];
  forward: { wrt: number; tangents: (ValueJSON | null)[] }[];
}

/** Deep copy with non-finite numbers spelled as strings, so `JSON.stringify` loses nothing. */
function encode(v: unknown): unknown {
  if (typeof v === "number") return Number.isFinite(v) ? v : String(v);
  if (Array.isArray(v)) return v.map(encode);
  if (v !== null && typeof v === "object") {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) o[k] = encode(x);
    return o;
  }
  return v;
}

/** The graph as a plain, versioned JSON document (`JSON.stringify(graph)` gives the same). */
export function graphToJSON(g: GraphTrace): GraphJSON {
  return encode({
    schema: GRAPH_SCHEMA,
    inputs: g.inputs,
    output: g.output,
    nodes: g.nodes,
    backward: g.backward,
    forward: g.forward,
  }) as GraphJSON;
}
