import type { GraphNode, GraphTrace } from "../viz/capture.js";
import { fmtValue } from "../viz/export-text.js";

/**
 * Mathematical notation for recorded operations, for the walkthrough: `a·b`, `u + c`, `v²`, `sin(x)`.
 * Display only — values and derivatives always come from the recorded graph.
 */

/** A rendered operand and how tightly it binds (higher binds tighter; 9 = atom). */
export interface Term {
  text: string;
  prec: number;
}

const ATOM = 9;

const paren = (t: Term, needed: boolean): string => (needed ? `(${t.text})` : t.text);

/** Renders one operation over already-rendered operands. */
export function infix(op: string, x: readonly Term[]): Term {
  const [a, b] = x;
  switch (op) {
    case "add": return { text: `${paren(a!, a!.prec < 1)} + ${paren(b!, b!.prec < 1)}`, prec: 1 };
    case "sub": return { text: `${paren(a!, a!.prec < 1)} - ${paren(b!, b!.prec <= 1)}`, prec: 1 };
    case "mul": return { text: `${paren(a!, a!.prec < 2)}·${paren(b!, b!.prec < 2)}`, prec: 2 };
    case "div": return { text: `${paren(a!, a!.prec < 2)}/${paren(b!, b!.prec <= 2)}`, prec: 2 };
    case "neg": return { text: `-${paren(a!, a!.prec < 3)}`, prec: 3 };
    case "pow": return { text: `${paren(a!, a!.prec <= 4)}^${paren(b!, b!.prec < 4)}`, prec: 4 };
    case "square": return { text: `${paren(a!, a!.prec <= 4)}²`, prec: 4 };
    default: return { text: `${op}(${x.map((t) => t.text).join(", ")})`, prec: ATOM };
  }
}

/** A node's value as an operand: negative numbers in parentheses so `2·(-3)` reads right. */
export function valueTerm(n: GraphNode): Term {
  const text = fmtValue(n.value);
  return { text: text.startsWith("-") ? `(${text})` : text, prec: ATOM };
}

/** A node as an operand by name. */
export function nameTerm(n: GraphNode): Term {
  return { text: n.name, prec: ATOM };
}

/**
 * The whole output as one formula over the inputs (`(a·b + c)²`), or null when the graph is too big
 * to print that way. Shared subexpressions are written out each time they are used.
 */
export function formulaOf(g: GraphTrace, limit = 120): string | null {
  if (g.nodes.length > 60) return null;
  const memo = new Map<number, Term>();
  const term = (id: number): Term => {
    const n = g.nodes[id]!;
    if (n.kind !== "op") return nameTerm(n);
    let t = memo.get(id);
    if (!t) {
      t = infix(n.op, n.inputs.map(term));
      memo.set(id, t);
    }
    return t;
  };
  const text = term(g.output).text;
  return text.length <= limit ? text : null;
}
