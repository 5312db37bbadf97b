import { trace } from "../viz/capture.js";
import { compileExpression } from "./expression.js";
import { bindVariables, parseBindings, type BoundExpression } from "./bindings.js";
import { centralDifferences } from "./fd-check.js";
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

/** `chainrule` / `chainrule explain [expr] --at …`: the step-by-step walkthrough. */
export function runExplain(expression: string | undefined, options: { at?: string[] }, style: Style): string {
  const e = loadExpression(expression, options.at);
  const g = trace(e.fn, e.tensors, { outputName: "L", forward: false });
  const title = `${style.bold("chainrule")} ${style.dim("· reverse-mode automatic differentiation, step by step")}`;
  const hints: [string, string][] = [
    [`chainrule grad "sin(x)*y" --at x=0,y=2 --json`, "value and gradient of any expression"],
    [`chainrule explain "x*x + x" --at x=3`, "a value used twice: its gradients add up"],
    [`chainrule viz --format dot | dot -Tsvg > graph.svg`, "the recorded graph"],
  ];
  const width = Math.max(...hints.map(([c]) => c.length));
  const footer = [`  ${style.bold("Try next")}`, ...hints.map(([c, why]) => `    ${c.padEnd(width)}  ${style.dim(why)}`)].join("\n");
  return [`  ${title}`, "", renderWalkthrough(g, centralDifferences(e.fn, e.tensors), style, e.source), "", footer, ""].join("\n");
}
