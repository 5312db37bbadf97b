import { Tensor } from "../core/tensor.js";
import { ParseError, ValueError } from "../core/errors.js";
import { scalar } from "../ops/index.js";
import type { CompiledExpression } from "./expression.js";

const NAME = /^[A-Za-z_$][\w$]*$/;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Where the values came from, for the wording of errors: the command line's `--at` option, or the
 * step-through page's "at" box (where `--at` would mean nothing to the reader).
 */
export type BindingsSource = "cli" | "page";

interface Wording {
  prefix: string;
  example: string;
  /** How to supply the missing values, e.g. "pass it with --at y=…". */
  supply(pronoun: string, example: string): string;
}

const WORDING: Record<BindingsSource, Wording> = {
  cli: { prefix: "--at: ", example: "--at a=3,b=2", supply: (it, ex) => `pass ${it} with --at ${ex}` },
  page: { prefix: "", example: "a=3, b=2", supply: (_it, ex) => `add ${ex} to the 'at' box` },
};

/**
 * Parses `--at` values: `a=3,b=2,c=1` (the option may also be repeated). Order is kept.
 * @param source the wording of errors: "cli" (default) names `--at`, "page" the page's 'at' box
 * @throws ParseError for an entry that is not `name=value`; ValueError for a duplicate name, or a value
 *   that is not a number or not finite in float64 (e.g. 1e400)
 */
export function parseBindings(specs: readonly string[], source: BindingsSource = "cli"): Map<string, number> {
  const w = WORDING[source];
  const values = new Map<string, number>();
  for (const spec of specs) {
    for (const raw of spec.split(",")) {
      const entry = raw.trim();
      if (entry === "") continue;
      const eq = entry.indexOf("=");
      const name = eq < 0 ? entry : entry.slice(0, eq).trim();
      const text = eq < 0 ? "" : entry.slice(eq + 1).trim();
      if (eq < 0 || !NAME.test(name)) throw new ParseError(`${w.prefix}cannot read ${JSON.stringify(entry)}; expected name=number, e.g. ${w.example}`);
      if (values.has(name)) throw new ValueError(`${w.prefix}${name} is given twice; give each variable one value`);
      if (!NUMBER.test(text)) throw new ValueError(`${w.prefix}the value of ${name} must be a number, got ${JSON.stringify(text)}`);
      const value = Number(text);
      if (!Number.isFinite(value)) throw new ValueError(`${w.prefix}the value of ${name} must be a finite number, got ${text}, which is beyond float64's range (±1.8e308)`);
      values.set(name, value);
    }
  }
  return values;
}

/** An expression ready to run: variable names in `--at` order, their values, and f taking them in that order. */
export interface BoundExpression {
  names: string[];
  tensors: Tensor[];
  fn: (...args: Tensor[]) => Tensor;
}

/**
 * Float64 scalar tensors, named after the variables, for the expression's variables in `--at` order.
 * @param source the wording of errors: "cli" (default) names `--at`, "page" the page's 'at' box
 * @throws ValueError when a variable has no value, or a value names no variable of the expression
 */
export function bindVariables(expr: CompiledExpression, values: ReadonlyMap<string, number>, source: BindingsSource = "cli"): BoundExpression {
  const w = WORDING[source];
  const variables = expr.variables;
  const missing = variables.filter((v) => !values.has(v));
  if (missing.length > 0) {
    const example = missing.map((v) => `${v}=…`).join(source === "cli" ? "," : ", ");
    throw new ValueError(`${w.prefix}no value for ${missing.length > 1 ? "variables" : "variable"} ${missing.join(", ")}; ${w.supply(missing.length > 1 ? "them" : "it", example)}`);
  }
  const unknown = [...values.keys()].filter((k) => !variables.includes(k));
  if (unknown.length > 0) {
    const uses = variables.length ? `the expression uses ${variables.join(", ")}` : "the expression has no variables";
    throw new ValueError(`${w.prefix}unknown variable ${unknown.join(", ")}; ${uses}`);
  }
  const names = [...values.keys()];
  const order = variables.map((v) => names.indexOf(v)); // order[i]: position in `names` of the expression's i-th variable
  return {
    names,
    tensors: names.map((n) => scalar(values.get(n)!, { dtype: "float64", name: n })),
    fn: (...args: Tensor[]) => expr.fn(...order.map((k) => args[k]!)),
  };
}
