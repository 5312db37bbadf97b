import jsep from "jsep";
import type { Tensor } from "../core/tensor.js";
import { ParseError } from "../core/errors.js";
import { abs, add, cos, div, exp, log, mul, neg, pow, relu, scalar, sigmoid, sin, sqrt, square, sub, tan, tanh } from "../ops/index.js";

/**
 * Expressions for the command line, parsed by jsep and evaluated by walking the syntax tree against a
 * whitelist — never by JavaScript evaluation. Grammar: numbers, variables, + - * / ^, unary minus and
 * plus, parentheses, and one-argument calls of the functions below. `^` is exponentiation: it binds
 * tighter than * and unary minus and groups to the right, so a*b^2 = a*(b^2), -x^2 = -(x^2) and
 * 2^3^2 = 2^9. `x^2` with the literal exponent 2 records a `square` (derivative 2·x), any other power a
 * `pow`. Numbers in the expression are float64 scalars.
 */

/** The callable functions and the library op each maps to. */
export const FUNCTIONS: ReadonlyMap<string, (x: Tensor) => Tensor> = new Map([
  ["sqrt", sqrt], ["exp", exp], ["log", log], ["sin", sin], ["cos", cos], ["tan", tan], ["tanh", tanh],
  ["sigmoid", sigmoid], ["relu", relu], ["abs", abs], ["square", square], ["neg", neg],
]);

const BINARY: ReadonlyMap<string, (a: Tensor, b: Tensor) => Tensor> = new Map([
  ["+", add], ["-", sub], ["*", mul], ["/", div], ["^", pow],
]);

type Expr = jsep.Expression;

let configured = false;

/** Restricts jsep to our grammar once: unknown operators then fail inside jsep, with a position. */
function configure(): void {
  if (configured) return;
  configured = true;
  jsep.removeAllBinaryOps();
  jsep.removeAllUnaryOps();
  jsep.removeAllLiterals();
  for (const [op, prec] of [["+", 9], ["-", 9], ["*", 10], ["/", 10]] as const) jsep.addBinaryOp(op, prec);
  jsep.addBinaryOp("^", 11, true);
  jsep.addUnaryOp("-");
  jsep.addUnaryOp("+");
  // jsep applies a unary operator to the next token only, which would make -x^2 = (-x)^2.
  // Re-associate so the power binds first, as in mathematics (and Python's -x**2).
  jsep.hooks.add("after-token", function (env) {
    const node = env.node;
    if (!node || node.type !== "UnaryExpression") return;
    this.gobbleSpaces();
    if (this.char !== "^") return;
    const operands: Expr[] = [(node as jsep.UnaryExpression).argument];
    while (this.char === "^") {
      this.index++;
      const next = this.gobbleToken();
      if (!next) this.throwError("Expected expression after ^");
      operands.push(next);
      this.gobbleSpaces();
    }
    let power = operands[operands.length - 1]!;
    for (let i = operands.length - 2; i >= 0; i--) power = { type: "BinaryExpression", operator: "^", left: operands[i]!, right: power };
    env.node = { ...node, argument: power };
  });
  // After a complete expression only ")" (or "]", which jsep rejects itself) or the end may follow; jsep would otherwise accept "a b" or
  // "a, b" as a list of expressions. (Our functions all take one argument, so a comma is never valid.)
  jsep.hooks.add("after-expression", function () {
    this.gobbleSpaces();
    if (this.index < this.expr.length && this.char !== ")" && this.char !== "]") {
      this.throwError(this.char === "," ? 'Unexpected ","; functions take one argument' : `Unexpected "${this.char}"`);
    }
  }, true);
}

/** A parsed expression: its variables in order of first use and a function of one tensor per variable. */
export interface CompiledExpression {
  source: string;
  variables: string[];
  /** Evaluates with the library's ops; arguments in the order of `variables`. */
  fn: (...args: Tensor[]) => Tensor;
}

function fail(message: string, position?: number): never {
  throw new ParseError(`expression: ${message}`, position);
}

/** Best-effort position of `pattern` in the source, for errors found after parsing. */
function locate(source: string, pattern: RegExp): number | undefined {
  const m = pattern.exec(source);
  return m ? m.index + (m[1] !== undefined ? m[0].indexOf(m[1]) : 0) : undefined;
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

// The compiled evaluator recurses once per tree level, so depth is capped well inside Node's call stack.
const MAX_DEPTH = 4000;

/** Depth of a parsed tree, found iteratively so that a hostile input cannot overflow the stack here. */
function treeDepth(root: Expr): number {
  let max = 0;
  const stack: [Expr, number][] = [[root, 1]];
  while (stack.length > 0) {
    const [node, d] = stack.pop()!;
    if (d > max) max = d;
    for (const value of Object.values(node)) {
      if (Array.isArray(value)) {
        for (const v of value) if (v && typeof v === "object" && "type" in v) stack.push([v as Expr, d + 1]);
      } else if (value && typeof value === "object" && "type" in value) stack.push([value as Expr, d + 1]);
    }
  }
  return max;
}

/**
 * Parses and checks an expression, returning a function that evaluates it with chainrule ops.
 * @throws ParseError with `position` (0-based) for syntax errors, unknown functions, member access,
 *   calls of anything but a listed function, strings, arrays and other JavaScript constructs
 */
export function compileExpression(source: string): CompiledExpression {
  configure();
  if (source.trim() === "") fail("the expression is empty", 0);
  const starstar = /\*\s*\*/.exec(source);
  if (starstar) fail("** is not supported; write powers with ^, e.g. x^2", starstar.index);
  let ast: Expr;
  try {
    ast = jsep(source);
  } catch (e) {
    if (e instanceof RangeError) fail(`the expression nests too deeply to parse; keep it under ${MAX_DEPTH} levels`);
    const err = e as Error & { index?: number; description?: string };
    const text = err.description ?? err.message;
    fail(text.charAt(0).toLowerCase() + text.slice(1), err.index);
  }
  const depth = treeDepth(ast);
  if (depth > MAX_DEPTH) fail(`the expression nests ${depth} levels deep (a long chain of + counts one level per term); the limit is ${MAX_DEPTH}`);
  const variables: string[] = [];
  type Eval = (env: ReadonlyMap<string, Tensor>) => Tensor;
  const build = (node: Expr): Eval => {
    switch (node.type) {
      case "Literal": {
        const value = (node as jsep.Literal).value;
        if (typeof value !== "number") fail(`only numbers are allowed as literals, got ${(node as jsep.Literal).raw}`, locate(source, /["'`]/));
        return () => scalar(value, { dtype: "float64" });
      }
      case "Identifier": {
        const name = (node as jsep.Identifier).name;
        if (FUNCTIONS.has(name)) fail(`${name} is a function; call it like ${name}(x)`, locate(source, new RegExp(`(?<![\\w$])${escapeRe(name)}(?![\\w$])`)));
        if (!variables.includes(name)) variables.push(name);
        return (env) => env.get(name)!;
      }
      case "UnaryExpression": {
        const u = node as jsep.UnaryExpression;
        const arg = build(u.argument);
        return u.operator === "-" ? (env) => neg(arg(env)) : arg;
      }
      case "BinaryExpression": {
        const b = node as jsep.BinaryExpression;
        const left = build(b.left);
        const right = build(b.right);
        const r = b.right as jsep.Literal;
        if (b.operator === "^" && r.type === "Literal" && r.value === 2) return (env) => square(left(env));
        const op = BINARY.get(b.operator)!;
        return (env) => op(left(env), right(env));
      }
      case "CallExpression": {
        const c = node as jsep.CallExpression;
        if (c.callee.type !== "Identifier") {
          if (c.callee.type === "MemberExpression") return build(c.callee);
          fail("only named functions can be called, e.g. sin(x)", locate(source, /\)\s*(\()/));
        }
        const name = (c.callee as jsep.Identifier).name;
        const f = FUNCTIONS.get(name);
        if (!f) fail(`unknown function ${name}; expected one of ${[...FUNCTIONS.keys()].join(", ")}`, locate(source, new RegExp(`(?<![\\w$.])${escapeRe(name)}\\s*\\(`)));
        if (c.arguments.length !== 1) fail(`${name} takes 1 argument, got ${c.arguments.length}`, locate(source, new RegExp(`(?<![\\w$.])${escapeRe(name)}\\s*\\(`)));
        const arg = build(c.arguments[0]!);
        return (env) => f(arg(env));
      }
      case "MemberExpression":
        fail("member access (. or [ ]) is not allowed", locate(source, /[\w$)\]]\s*([.[])/));
      case "ArrayExpression":
        fail("arrays are not allowed", locate(source, /\[/));
      case "ThisExpression":
        fail("this is not allowed", locate(source, /(?<![\w$])this(?![\w$])/));
      default:
        fail(`unsupported syntax (${node.type}); use numbers, variables, + - * / ^, parentheses and functions`);
    }
  };
  const evaluate = build(ast);
  return {
    source,
    variables,
    fn: (...args: Tensor[]) => evaluate(new Map(variables.map((v, i) => [v, args[i]!]))),
  };
}
