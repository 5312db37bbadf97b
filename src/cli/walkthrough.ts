import type { BackwardEdge, GraphNode, GraphTrace } from "../viz/capture.js";
import { fmtNumber, fmtValue } from "../viz/export-text.js";
import { checkGradient, type FiniteDifference } from "./fd-check.js";
import { formulaOf, infix, nameTerm, valueTerm } from "./infix.js";
import { columns, type Cell, type Style } from "./style.js";

/**
 * The step-by-step explanation printed by `chainrule` (and `chainrule explain`): forward values, then
 * the backward pass edge by edge as local derivative × upstream gradient, then a finite-difference
 * check. Every number is read from the recorded graph (or, for the check, from evaluating f).
 */
export function renderWalkthrough(g: GraphTrace, checks: readonly FiniteDifference[], style: Style, source?: string): string {
  const out = g.nodes[g.output]!;
  const L = out.name;
  const d = (n: GraphNode): string => `∂${L}/∂${n.name}`;
  const inputs = g.inputs.map((i) => g.nodes[i]!);
  const lines: string[] = [];
  const heading = (text: string, note: string): void => {
    lines.push("", `  ${style.bold(text)}  ${style.dim(note)}`);
  };

  const hasOps = g.nodes.some((n) => n.kind === "op");
  const formula = (hasOps ? formulaOf(g) : null) ?? source ?? "f(…)";
  const at = inputs.map((n) => `${n.name} = ${fmtValue(n.value)}`).join(", ");
  lines.push(`  ${style.bold(`${L} = ${formula}`)}${at ? `   ${style.dim("at")} ${at}` : ""}`);
  if (!hasOps) {
    lines.push("", `  Nothing to walk through: the expression has no operations; its value is ${fmtValue(out.value)}.`);
    if (inputs.length) lines.push("", `  ${style.bold("Gradient")}  ${inputs.map((n) => `∂${L}/∂${n.name} = ${style.cyan(fmtValue(n.grad))}`).join(",  ")}`);
    return lines.join("\n");
  }

  heading("Forward pass", "evaluate each elementary operation and record it in the graph");
  const fwd: Cell[][] = [];
  for (const n of g.nodes) {
    if (n.kind !== "op") continue;
    const operands = n.inputs.map((k) => g.nodes[k]!);
    const symbolic = infix(n.op, operands.map(nameTerm)).text;
    const numeric = infix(n.op, operands.map((o) => (o.kind === "const" ? nameTerm(o) : valueTerm(o)))).text;
    fwd.push([`${n.name} =`, symbolic, `= ${numeric}`, { text: `= ${fmtValue(n.value)}`, color: style.cyan }]);
  }
  lines.push(...columns(fwd, "    ", " "));

  heading("Backward pass", `chain rule from ${L} back to the inputs: local derivative × upstream gradient`);
  // The seed is whatever the engine started the backward pass with (ones for the output).
  const seed = fmtValue(g.backward[0]?.ct ?? out.grad);
  const bwd: Cell[][] = [[`${d(out)} =`, seed, "", { text: `= ${seed}`, color: style.cyan }, note("start: the output's gradient with respect to itself", style)]];
  for (const step of g.backward) {
    const sender = g.nodes[step.node]!;
    for (const e of step.edges) bwd.push(...edgeRows(g, sender, e, fmtValue(step.ct), d, style));
  }
  lines.push(...columns(bwd, "    ", " "));

  if (checks.length > 0) {
    heading("Check", `central differences in float64, (${L}(x+h) - ${L}(x-h)) / 2h with h = 1e-6·max(1,|x|)`);
    const rows: Cell[][] = checks.map((c, i) => {
      const n = inputs[i]!;
      const grad = n.grad?.data?.[0] ?? 0;
      const check = checkGradient(grad, c);
      if (check.kind === "unavailable") return [`${d(n)} = ${fmtNumber(grad)}`, { text: `finite difference not available (${check.reason})`, color: style.yellow }];
      return [
        `${d(n)} = ${fmtNumber(grad)}`,
        `finite difference ${c.estimate.toFixed(6)}`,
        { text: `difference ${Math.abs(grad - c.estimate).toExponential(1)}`, color: style.dim },
        check.kind === "agree" ? { text: "✓", color: style.green } : { text: "✗ mismatch", color: style.red },
      ];
    });
    lines.push(...columns(rows, "    "));
  }

  lines.push("", `  ${style.bold("Gradient")}  ${inputs.map((n) => `${d(n)} = ${style.cyan(fmtValue(n.grad))}`).join(",  ")}`);
  return lines.join("\n");
}

/** One backward edge as rows: `∂L/∂a = b × ∂L/∂u = 2 × 14 = 28`, plus the sum after the last arrival at a fan-out node. */
function edgeRows(g: GraphTrace, sender: GraphNode, e: BackwardEdge, upstream: string, d: (n: GraphNode) => string, style: Style): Cell[][] {
  const to = g.nodes[e.to]!;
  const fanOut = e.arrivals > 1;
  const label = `${d(to)} ${fanOut ? "+=" : "="}`;
  // A formula like 1-u² is parenthesised before "× upstream"; negative numbers too.
  const local = e.formula === null ? `vjp of ${sender.op}` : /.[-+]/.test(e.formula) ? `(${e.formula})` : e.formula;
  const partial = e.partial === null ? null : typeof e.partial === "number" ? fmtNumber(e.partial) : fmtValue(e.partial);
  const numeric = partial === null ? "" : `= ${partial} × ${neg(upstream)}`;
  const arrival = fanOut ? note(`${ordinal(e.arrival)} of ${e.arrivals} paths into ${to.name}`, style) : "";
  const rows: Cell[][] = [[label, `${local} × ${d(sender)}`, numeric, { text: `= ${fmtValue(e.contribution)}`, color: fanOut ? undefined : style.cyan }, arrival]];
  if (fanOut && e.arrival === e.arrivals) {
    const terms = g.backward.flatMap((s) => s.edges).filter((x) => x.to === e.to).map((x) => neg(fmtValue(x.contribution)));
    rows.push([`${d(to)} =`, terms.join(" + "), "", { text: `= ${fmtValue(e.accumulated)}`, color: style.cyan }, note(`${to.name} is used ${e.arrivals} times: the paths add up`, style)]);
  }
  return rows;
}

/** Negative numbers in parentheses when they follow an operator. */
const neg = (t: string): string => (t.startsWith("-") ? `(${t})` : t);

/** A dimmed remark in the last column, set off by an extra space. */
const note = (text: string, style: Style): string => ` ${style.dim(text)}`;

function ordinal(k: number): string {
  const suffix = k % 100 >= 11 && k % 100 <= 13 ? "th" : ["th", "st", "nd", "rd"][k % 10] ?? "th";
  return `${k}${suffix}`;
}
