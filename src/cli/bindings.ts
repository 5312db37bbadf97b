import { Tensor } from "../core/tensor.js";
import { ParseError, ValueError } from "../core/errors.js";
import { scalar } from "../ops/index.js";
import type { CompiledExpression } from "./expression.js";

const NAME = /^[A-Za-z_$][\w$]*$/;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Parses `--at` values: `a=3,b=2,c=1` (the option may also be repeated). Order is kept.
 * @throws ParseError for an entry that is not `name=value`; ValueError for a duplicate name or a value that is not a number
 */
export function parseBindings(specs: readonly string[]): Map<string, number> {
  const values = new Map<string, number>();
  for (const spec of specs) {
    for (const raw of spec.split(",")) {
      const entry = raw.trim();
      if (entry === "") continue;
      const eq = entry.indexOf("=");
      const name = eq < 0 ? entry : entry.slice(0, eq).trim();
      const text = eq < 0 ? "" : entry.slice(eq + 1).trim();
      if (eq < 0 || !NAME.test(name)) throw new ParseError(`--at: cannot read ${JSON.stringify(entry)}; expected name=number, e.g. --at a=3,b=2`);
      if (values.has(name)) throw new ValueError(`--at: ${name} is given twice; give each variable one value`);
      if (!NUMBER.test(text)) throw new ValueError(`--at: the value of ${name} must be a number, got ${JSON.stringify(text)}`);
      values.set(name, Number(text));
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
 * @throws ValueError when a variable has no value, or a value names no variable of the expression
 */
export function bindVariables(expr: CompiledExpression, values: ReadonlyMap<string, number>): BoundExpression {
  const variables = expr.variables;
  const missing = variables.filter((v) => !values.has(v));
  if (missing.length > 0) {
    const example = missing.map((v) => `${v}=…`).join(",");
    throw new ValueError(`--at: no value for ${missing.length > 1 ? "variables" : "variable"} ${missing.join(", ")}; pass ${missing.length > 1 ? "them" : "it"} with --at ${example}`);
  }
  const unknown = [...values.keys()].filter((k) => !variables.includes(k));
  if (unknown.length > 0) {
    const uses = variables.length ? `the expression uses ${variables.join(", ")}` : "the expression has no variables";
    throw new ValueError(`--at: unknown variable ${unknown.join(", ")}; ${uses}`);
  }
  const names = [...values.keys()];
  const order = variables.map((v) => names.indexOf(v)); // order[i]: position in `names` of the expression's i-th variable
  return {
    names,
    tensors: names.map((n) => scalar(values.get(n)!, { dtype: "float64", name: n })),
    fn: (...args: Tensor[]) => expr.fn(...order.map((k) => args[k]!)),
  };
}
