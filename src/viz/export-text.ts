import type { GraphNode, GraphTrace, ValueSummary } from "./capture.js";
import { shortName } from "../core/dtype.js";

/** A number for display: integers as is, others to 6 significant digits (the JSON keeps full precision). */
export function fmtNumber(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "∞" : "-∞";
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  return String(Number(v.toPrecision(6)));
}

/** A recorded value for display: `49`, `[1, 2, 3]`, `[[1, 2], [3, 4]]`, or `min … max … mean …` for large tensors. */
export function fmtValue(v: ValueSummary | null): string {
  if (v === null) return "0";
  if (v.data === null) {
    const s = v.stats!;
    return `min ${fmtNumber(s.min)} max ${fmtNumber(s.max)} mean ${fmtNumber(s.mean)}`;
  }
  const data = v.data;
  const fmt = (x: number): string => (v.dtype === "bool" ? (x ? "true" : "false") : fmtNumber(x));
  if (v.shape.length === 0) return fmt(data[0]!);
  let k = 0;
  const walk = (dim: number): string => {
    const n = v.shape[dim]!;
    const parts: string[] = [];
    for (let i = 0; i < n; i++) parts.push(dim === v.shape.length - 1 ? fmt(data[k++]!) : walk(dim + 1));
    return `[${parts.join(", ")}]`;
  };
  return walk(0);
}

/** `f32[]`, `f64[2,3]`: dtype and shape as in a jaxpr. */
export function fmtType(v: ValueSummary): string {
  return `${shortName(v.dtype)}[${v.shape.join(",")}]`;
}

/** `mul`, `sum[axes=[0] keepDims=false]`, `cast[float64]`: the op with its parameters. */
export function fmtOp(n: GraphNode): string {
  const p = n.params;
  if (p === null || p === undefined) return n.op;
  if (typeof p === "object" && !Array.isArray(p)) {
    const parts = Object.entries(p as Record<string, unknown>).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
    return `${n.op}[${parts.join(" ")}]`;
  }
  return `${n.op}[${typeof p === "string" ? p : JSON.stringify(p)}]`;
}

function pad(s: string, width: number): string {
  return s + " ".repeat(Math.max(0, width - [...s].length));
}

/**
 * A jaxpr-like listing of the graph: the lambda line declares the inputs (and non-scalar constants
 * before a `;`), comment lines give each input's value and gradient, then one `let` line per operation
 * with its value and gradient. Scalar constants appear inline as their value.
 */
export function graphToText(g: GraphTrace): string {
  const out = g.nodes[g.output]!;
  const d = (n: GraphNode): string => `∂${out.name}/∂${n.name}`;
  const consts = g.nodes.filter((n) => n.kind === "const" && n.value.shape.length > 0);
  const inputs = g.inputs.map((i) => g.nodes[i]!);
  const decl = (n: GraphNode): string => `${n.name}:${fmtType(n.value)}`;
  const head = `{ lambda ${consts.length ? consts.map(decl).join(" ") + " ; " : ""}${inputs.map(decl).join(" ")} .`;
  // Three columns: code, value, gradient; inputs are comment rows so the program stays jaxpr-like.
  const rows: [string, string, string][] = [];
  const constOutput = out.kind === "const" && !consts.includes(out) ? [out] : []; // f ignored its inputs
  for (const n of [...consts, ...constOutput, ...inputs]) rows.push([`    # ${n.name} = ${fmtValue(n.value)}`, "", n.kind === "input" ? `${d(n)} = ${fmtValue(n.grad)}` : ""]);
  g.nodes.filter((n) => n.kind === "op").forEach((n, i) => {
    const code = `${i === 0 ? "  let " : "      "}${decl(n)} = ${fmtOp(n)} ${n.inputs.map((k) => g.nodes[k]!.name).join(" ")}`;
    rows.push([code, `# = ${fmtValue(n.value)}`, `${d(n)} = ${fmtValue(n.grad)}`]);
  });
  const w0 = Math.max(0, ...rows.map((r) => [...r[0]].length)) + 2;
  const w1 = Math.max(0, ...rows.map((r) => [...r[1]].length)) + 2;
  const lines = [head, ...rows.map(([c, v, gr]) => (pad(c, w0) + pad(v, w1) + gr).trimEnd())];
  lines.push(`  in ( ${out.name} ) }`);
  return lines.join("\n");
}
