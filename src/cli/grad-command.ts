import type { Tensor } from "../core/tensor.js";
import { jvp, valueAndGrad } from "../autodiff/transforms.js";
import { onesLike, zerosLike } from "../ops/index.js";
import { loadExpression } from "./explain-command.js";
import type { Style } from "./style.js";

/** Options of `chainrule grad`. */
export interface GradCommandOptions {
  at?: string[];
  json?: boolean;
  mode: "forward" | "reverse";
}

/** Finite numbers as JSON numbers; NaN and ±Infinity as strings (as in the graph schema). */
const jsonNumber = (v: number): number | string => (Number.isFinite(v) ? v : String(v));

/**
 * `chainrule grad "<expr>" --at a=3,b=2`: the value and the gradient with respect to every variable,
 * in float64. Reverse mode uses `valueAndGrad` (one backward sweep); forward mode uses `jvp` once per
 * variable with a one-hot tangent.
 */
export function runGrad(expression: string, options: GradCommandOptions, style: Style): string {
  const e = loadExpression(expression, options.at);
  const f = e.fn as (...args: Tensor[]) => Tensor;
  let value: number;
  let grads: number[];
  if (options.mode === "forward") {
    value = f(...e.tensors).item();
    grads = e.tensors.map((_, i) => {
      const tangents = e.tensors.map((t, j) => (i === j ? onesLike(t) : zerosLike(t)));
      const [, t] = jvp(f, e.tensors, tangents);
      return t.item();
    });
  } else {
    const [v, g] = valueAndGrad(f, { argnums: e.tensors.map((_, i) => i) })(...e.tensors);
    value = v.item();
    grads = (g as Tensor[]).map((t) => t.item());
  }
  if (options.json) {
    return JSON.stringify({ value: jsonNumber(value), grads: Object.fromEntries(e.names.map((n, i) => [n, jsonNumber(grads[i]!)])) }) + "\n";
  }
  const at = e.names.map((n, i) => `${n} = ${e.tensors[i]!.item()}`).join(", ");
  const rows = [[`L`, String(value)], ...e.names.map((n, i) => [`∂L/∂${n}`, String(grads[i])])];
  const width = Math.max(...rows.map(([k]) => [...k!].length));
  const sweeps = options.mode === "forward" ? `forward mode: ${e.names.length} jvp sweep${e.names.length === 1 ? "" : "s"}, one per variable` : "reverse mode: one backward sweep";
  return [
    `  ${style.bold(`L = ${e.source}`)}${at ? `   ${style.dim("at")} ${at}` : ""}`,
    ...rows.map(([k, v]) => `    ${k!.padEnd(width + (k!.length - [...k!].length))}  ${style.cyan(v!)}`),
    `  ${style.dim(`${sweeps}, float64`)}`,
    "",
  ].join("\n");
}
