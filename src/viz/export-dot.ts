import type { BackwardEdge, GraphTrace } from "./capture.js";
import { fmtOp, fmtValue } from "./export-text.js";

/** Options for `toDot`. */
export interface DotOptions {
  /** Graphviz rank direction; default "LR" (inputs on the left, output on the right). */
  rankdir?: "LR" | "TB" | "BT" | "RL";
}

/** Escapes text for a record label field: braces, bars, angle brackets, quotes and backslashes are special there. */
function recordText(s: string): string {
  return s.replace(/[\\{}|<>"]/g, (c) => `\\${c}`);
}

function quoted(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/**
 * Graphviz source. Each node is a record `name = op | value | grad` with a stable id `n<id>`
 * (execution order). Each edge runs operand → consumer and is labelled with what the backward pass
 * sent back along it: `local derivative × upstream = contribution`. Constants are dashed and unlabelled.
 */
export function graphToDot(g: GraphTrace, options: DotOptions = {}): string {
  const lines = [
    "digraph chainrule {",
    `  rankdir=${options.rankdir ?? "LR"};`,
    '  node [shape=record, fontname="Helvetica", fontsize=11];',
    '  edge [fontname="Helvetica", fontsize=9];',
  ];
  for (const n of g.nodes) {
    const head = n.kind === "op" ? `${n.name} = ${fmtOp(n)}` : `${n.name} (${n.kind})`;
    const fields = [head, `value ${fmtValue(n.value)}`, n.kind === "const" ? "no grad" : `grad ${fmtValue(n.grad)}`];
    const style = n.id === g.output ? ", style=bold" : n.kind === "input" ? ", style=filled, fillcolor=\"#eef4ff\"" : n.kind === "const" ? ", style=dashed" : "";
    lines.push(`  n${n.id} [label="{${fields.map(recordText).join(" | ")}}"${style}];`);
  }
  // The backward step that sent something along each (consumer, operand index) edge, and its upstream value.
  const sent = new Map<string, { edge: BackwardEdge; upstream: string }>();
  for (const step of g.backward) for (const e of step.edges) sent.set(`${step.node}:${e.input}`, { edge: e, upstream: fmtValue(step.ct) });
  for (const n of g.nodes) {
    n.inputs.forEach((src, i) => {
      const s = sent.get(`${n.id}:${i}`);
      if (g.nodes[src]!.kind === "const") {
        lines.push(`  n${src} -> n${n.id} [style=dashed];`);
      } else if (s) {
        const c = fmtValue(s.edge.contribution);
        // As in the text export: a formula with an operator, like 1-u², is parenthesised before "× upstream".
        const local = s.edge.formula !== null && /.[-+]/.test(s.edge.formula) ? `(${s.edge.formula})` : s.edge.formula;
        const upstream = s.upstream.startsWith("-") ? `(${s.upstream})` : s.upstream;
        const label = local !== null ? `${local} × ${upstream} = ${c}` : c;
        lines.push(`  n${src} -> n${n.id} [label=${quoted(label)}];`);
      } else {
        lines.push(`  n${src} -> n${n.id};`);
      }
    });
  }
  lines.push("}");
  return lines.join("\n");
}
