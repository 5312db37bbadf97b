import { trace } from "../viz/capture.js";
import { compileExpression } from "./expression.js";
import { bindVariables, parseBindings, type BoundExpression } from "./bindings.js";
import { centralDifferences, checkGradient } from "./fd-check.js";
import { fmtNumber } from "../viz/export-text.js";
import { renderWalkthrough } from "./walkthrough.js";
import type { Style } from "./style.js";

/** The seed example: L = (a·b + c)² at a=3, b=2, c=1. `^2` records a `square`, so the graph is mul, add, square. */
export const SEED = { expression: "(a*b + c)^2", at: "a=3,b=2,c=1" } as const;

/** Parses an expression and its `--at` values (the seed when no expression is given). */
export function loadExpression(expression: string | undefined, at: readonly string[] | undefined): BoundExpression & { source: string } {
  const source = expression ?? SEED.expression;
  const compiled = compileExpression(source);
  const specs = at && at.length > 0 ? at : expression === undefined ? [SEED.at] : [];
  return { source, ...bindVariables(compiled, parseBindings(specs)) };
}

/** What `explain` printed, and the inputs whose gradient disagrees with its finite difference. */
export interface ExplainResult {
  text: string;
  /** One line per failed check, e.g. "∂L/∂x = 0 but the finite difference is 0.500000"; empty when all agree or cannot be checked. */
  mismatches: string[];
}

const squash = (s: string): string => s.replace(/\s+/g, "");

/**
 * `chainrule` / `chainrule explain [expr] --at …`: the step-by-step walkthrough, its finite-difference
 * check, and a footer of commands to try next (leaving out the one just run).
 */
export function runExplain(expression: string | undefined, options: { at?: string[] }, style: Style): ExplainResult {
  const e = loadExpression(expression, options.at);
  const g = trace(e.fn, e.tensors, { outputName: "L", forward: false });
  const title = `${style.bold("chainrule")} ${style.dim("· reverse-mode automatic differentiation, step by step")}`;
  const hints: [string, string, string][] = [
    // [command, why, its expression (to skip the hint when the user just ran it)]
    [`chainrule grad "sin(x)*y" --at x=0,y=2 --json`, "value and gradient of any expression", ""],
    [`chainrule explain "x*x + x" --at x=3`, "x is used 3 times: its gradients add up", "x*x + x"],
    [`chainrule viz --format dot | dot -Tsvg > graph.svg`, "the recorded graph", ""],
  ];
  const shown = hints.filter(([, , expr]) => expression === undefined || expr === "" || squash(expr) !== squash(expression));
  const width = Math.max(...shown.map(([c]) => c.length));
  const footer = [`  ${style.bold("Try next")}`, ...shown.map(([c, why]) => `    ${c.padEnd(width)}  ${style.dim(why)}`)].join("\n");
  const checks = centralDifferences(e.fn, e.tensors);
  const mismatches: string[] = [];
  checks.forEach((c, i) => {
    const grad = g.nodes[g.inputs[i]!]!.grad?.data?.[0] ?? 0;
    if (checkGradient(grad, c).kind === "mismatch") mismatches.push(`∂L/∂${c.name} = ${fmtNumber(grad)} but the finite difference is ${c.estimate.toFixed(6)}`);
  });
  return { text: [`  ${title}`, "", renderWalkthrough(g, checks, style, e.source), "", footer, ""].join("\n"), mismatches };
}
