// Words and math for each step. Numbers are the recorded ones; formulas are the primitives' own `formulas`
// text with scalar values substituted for the names, so the reader can redo the arithmetic by hand.
import { infix, nameTerm, valueTerm, type Term } from "../../cli/infix.js";
import type { GraphNode, ValueSummary } from "../capture.js";
import { fmtNumber, fmtOp, fmtType, fmtValue } from "../export-text.js";
import type { Graph, GradState, Mode, State, Step } from "./model.js";

/** The explanation shown under the graph. */
export interface Explanation {
  title: string;
  prose: string;
  math: string[];
}

/** Inputs listed in the final summary; more are left to the inspector. */
const SUMMARY_INPUTS = 6;

const scalarOf = (v: ValueSummary | null | undefined): number | null => (v && v.data && v.data.length === 1 ? v.data[0]! : null);

/** A value for a formula: scalars as numbers, tensors as `f32[2,3] […]`. */
export function show(v: ValueSummary | null): string {
  if (v === null) return "0";
  const s = scalarOf(v);
  if (s !== null && v.shape.length === 0) return fmtNumber(s);
  const text = fmtValue(v);
  return `${fmtType(v)} ${text.length > 60 ? text.slice(0, 57) + "…" : text}`;
}

/** Elements of a value (1 for a scalar). */
export const sizeOf = (v: ValueSummary): number => v.shape.reduce((a, b) => a * b, 1);

/** The sum of a value's elements (from the recorded data, else mean × size). */
export function sumOf(v: ValueSummary): number {
  return v.data ? v.data.reduce((a, b) => a + b, 0) : v.stats!.mean * sizeOf(v);
}

/** How many scalar inputs the graph has: forward mode needs one sweep per input element for a full gradient. */
export function scalarInputs(g: Graph): number {
  return g.inputs.reduce((a, i) => a + sizeOf(g.nodes[i]!.value), 0);
}

const count = (n: number): string => n.toLocaleString("en-US");

const paren = (s: string): string => (s.startsWith("-") ? `(${s})` : s);
/** Parenthesises a formula that contains a sum or difference before it is multiplied. */
const group = (s: string): string => (/[+-]/.test(s) ? `(${s})` : s);

/**
 * Substitutes scalar values for node names in a formula (`2·v` → `2·7`); null when a named value is not a
 * scalar (then only the symbolic formula and the recorded result are shown).
 */
export function substitute(formula: string, values: ReadonlyMap<string, ValueSummary>): string | null {
  let ok = true;
  const out = formula.replace(/[A-Za-z_$][\w$]*/g, (name) => {
    const v = values.get(name);
    if (!v) return name; // a function name such as log or sign
    const s = scalarOf(v);
    if (s === null) {
      ok = false;
      return name;
    }
    return formula === name ? fmtNumber(s) : paren(fmtNumber(s));
  });
  return ok ? out : null;
}

/** `u = a·b` for operators, `sum[axes=[0] keepDims=false](x)` for ops with parameters. */
function render(n: GraphNode, terms: Term[]): string {
  return n.params === null ? infix(n.op, terms).text : `${fmtOp(n)}(${terms.map((t) => t.text).join(", ")})`;
}

/**
 * The symbol of a local derivative, at an edge: ∂v/∂u. When the consumer is the output L itself, ∂L/∂u
 * would be the symbol of u's total gradient (the node's), so the local one is written with L's own
 * formula instead: ∂(v²)/∂v, ∂(u + x)/∂x.
 */
export function localSymbol(g: Graph, consumer: number, operand: number): string {
  const c = g.nodes[consumer]!;
  const o = g.nodes[operand]!.name;
  if (consumer !== g.output) return `∂${c.name}/∂${o}`;
  return `∂(${render(c, c.inputs.map((k) => nameTerm(g.nodes[k]!)))})/∂${o}`;
}

function valuesAround(g: Graph, n: GraphNode): Map<string, ValueSummary> {
  const m = new Map<string, ValueSummary>();
  for (const k of n.inputs) m.set(g.nodes[k]!.name, g.nodes[k]!.value);
  m.set(n.name, n.value);
  return m;
}

function computeMath(g: Graph, n: GraphNode): string[] {
  const ops = n.inputs.map((k) => g.nodes[k]!);
  const symbolic = render(n, ops.map(nameTerm));
  if (ops.every((o) => scalarOf(o.value) !== null) && scalarOf(n.value) !== null) {
    return [`${n.name} = ${symbolic} = ${render(n, ops.map(valueTerm))} = ${show(n.value)}`];
  }
  return [`${n.name} = ${symbolic}`, `${n.name} = ${show(n.value)}`];
}

function tangentMath(g: Graph, n: GraphNode, st: State, wrt: GraphNode): { prose: string; math: string[] } {
  const t = st.tangents.get(n.id) ?? null;
  const d = (name: string): string => `d${name}`;
  const live = n.inputs.map((k, j) => ({ k, j, node: g.nodes[k]! })).filter((o) => o.node.kind !== "const");
  if (t === null) {
    return {
      prose: `None of ${n.name}'s operands depends on ${wrt.name}, so its tangent is a symbolic zero and the JVP rule is skipped.`,
      math: [`${d(n.name)} = 0`],
    };
  }
  if (!n.formulas) {
    return {
      prose: `${n.op} has no elementwise local derivative; its JVP rule maps the operand tangents to ${d(n.name)}.`,
      math: [`${d(n.name)} = jvp_${n.op}(${live.map((o) => d(o.node.name)).join(", ")}) = ${show(t)}`],
    };
  }
  const term = (f: string, name: string): string => (f === "1" ? d(name) : f === "-1" ? `-${d(name)}` : `${group(f)}·${d(name)}`);
  const symbolic = live.map((o) => term(n.formulas![o.j]!, o.node.name)).join(" + ");
  const vals = valuesAround(g, n);
  const numericTerms = live.map((o) => {
    const f = substitute(n.formulas![o.j]!, vals);
    const tv = st.tangents.get(o.k) ?? null;
    const ts = tv === null ? "0" : scalarOf(tv) !== null && tv.shape.length === 0 ? paren(fmtNumber(scalarOf(tv)!)) : null;
    return f === null || ts === null ? null : f === "1" ? ts : `${group(f)}·${ts}`;
  });
  const numeric = numericTerms.every((x) => x !== null) ? ` = ${numericTerms.join(" + ")}` : "";
  return {
    prose: `Forward mode pushes the tangent along with the value: ${d(n.name)} = Σ (local derivative) · (operand tangent).`,
    math: [`${d(n.name)} = ${symbolic}${numeric} = ${show(t)}`],
  };
}

function sumLine(outName: string, to: GraphNode, gs: GradState): string | null {
  if (gs.arrivals <= 1) return null;
  const d = `∂${outName}/∂${to.name}`;
  if (gs.arrival < gs.arrivals) return `${d} = ${gs.parts.map(show).join(" + ")} so far (${gs.arrival} of ${gs.arrivals} contributions)`;
  return `${d} = ${gs.parts.map(show).join(" + ")} = ${show(gs.value)}   (sum of ${gs.arrivals} contributions)`;
}

/** The explanation of step `k`. */
export function explain(g: Graph, steps: readonly Step[], k: number, st: State, mode: Mode, wrt: number | null): Explanation {
  const s = steps[k]!;
  const out = g.nodes[g.output]!;
  const L = out.name;
  const ops = g.nodes.filter((n) => n.kind === "op").length;
  const inputs = g.inputs.map((i) => g.nodes[i]!);
  const wrtNode = wrt === null ? null : g.nodes[wrt]!;
  let e: Explanation;
  if (s.kind === "start") {
    const given = inputs.map((n) => `${n.name} = ${show(n.value)}`).join(", ");
    const sweeps = scalarInputs(g);
    const w = wrtNode?.name ?? "";
    if (mode === "reverse") {
      e = { title: "Start", prose: `The inputs are given (${given}). Step forward to evaluate the ${ops} operation${ops === 1 ? "" : "s"} one at a time; then the backward pass sends ∂${L}/∂· from ${L} back to every input.`, math: [] };
    } else if (sizeOf(wrtNode!.value) === 1 && wrtNode!.value.shape.length === 0) {
      const need = sweeps === inputs.length
        ? `${inputs.length} input${inputs.length === 1 ? " needs one sweep" : `s need ${inputs.length} sweeps`}`
        : `the ${count(sweeps)} input numbers need ${count(sweeps)} sweeps`;
      e = { title: `Start: forward mode for ∂·/∂${w}`, prose: `Forward mode pushes a tangent d· = ∂·/∂${w} along with each value: d${w} = 1, every other input's tangent is 0. One sweep gives ∂${L}/∂${w}; ${need} (reverse mode: one backward pass for all).`, math: inputs.map((n) => `d${n.name} = ${n.id === wrt ? 1 : 0}`) };
    } else {
      // A tensor input: one sweep follows one direction, so it gives one number per output element, not the gradient.
      const size = sizeOf(wrtNode!.value);
      e = {
        title: `Start: forward mode along d${w} = 1 (all ones)`,
        prose: `Forward mode pushes a tangent along with each value, for one direction of the inputs at a time. Here the tangent of ${w} (${fmtType(wrtNode!.value)}) is all ones and every other input's is 0, so the sweep gives the directional derivative ⟨∂${L}/∂${w}, 1⟩ = Σ ∂${L}/∂${w}: one number, not the [${wrtNode!.value.shape.join(",")}] gradient. The full gradient of ${w} needs ${count(size)} sweeps, one per element (${count(sweeps)} for all inputs); reverse mode gets every gradient in one backward pass.`,
        math: inputs.map((n) => `d${n.name} = ${n.id === wrt ? `1 (ones ${fmtType(n.value)})` : "0"}`),
      };
    }
  } else if (s.kind === "compute") {
    const n = g.nodes[s.node]!;
    const args = n.inputs.map((i) => g.nodes[i]!.name).join(", ");
    const title = `Forward ${steps.filter((x, i) => i <= k && x.kind === "compute").length}/${ops}: compute ${n.name}`;
    e = { title, prose: `${n.name} = ${fmtOp(n)}(${args}) is evaluated from values already known.`, math: computeMath(g, n) };
    if (mode === "forward" && wrtNode) {
      const tm = tangentMath(g, n, st, wrtNode);
      e.prose += " " + tm.prose;
      e.math.push(...tm.math);
    }
  } else if (s.kind === "seed") {
    const seed = st.grads.get(s.node)?.value ?? null;
    const ones = out.value.shape.length > 0;
    e = {
      title: "Backward: seed",
      prose: ones
        ? `The backward pass starts at ${L} with ones of shape [${out.value.shape.join(",")}]: the gradients computed are those of the sum of ${L}'s elements.`
        : `The backward pass starts at the output: ∂${L}/∂${L} = 1. Then each node, in reverse order, multiplies the gradient it received by its local derivatives and sends the products to its operands.`,
      math: [`∂${L}/∂${L} = ${show(seed)}`],
    };
  } else {
    const from = g.nodes[s.from]!;
    const to = g.nodes[s.edge.to]!;
    const ed = s.edge;
    const local = localSymbol(g, from.id, to.id);
    const upstream = `∂${L}/∂${from.name}`;
    const target = `∂${L}/∂${to.name}`;
    const edgeNo = steps.filter((x, i) => i <= k && x.kind === "edge").length;
    const total = steps.filter((x) => x.kind === "edge").length;
    const math: string[] = [];
    if (from.id !== g.output) math.push(`${target} ${ed.arrivals > 1 ? "+=" : "="} ${local} · ${upstream}`);
    const ct = s.step.ct;
    const contrib = show(ed.contribution);
    const lhs = ed.arrivals > 1 ? `${target} +=` : `${target} =`;
    if (ed.formula !== null) {
      const sub = substitute(ed.formula, valuesAround(g, from));
      const ctText = scalarOf(ct) !== null && ct.shape.length === 0 ? paren(fmtNumber(scalarOf(ct)!)) : upstream;
      const numeric = sub !== null && sub !== ed.formula ? ` = ${group(sub)} · ${ctText}` : "";
      math.push(`${lhs} ${group(ed.formula)} · ${ctText}${numeric} = ${contrib}`);
    } else {
      math.push(`${lhs} vjp_${from.op}(${upstream}) = ${contrib}`);
    }
    const gs = st.grads.get(to.id);
    const sl = gs ? sumLine(L, to, gs) : null;
    if (sl) math.push(sl);
    const why = ed.formula !== null
      ? `the local derivative ${local} = ${ed.formula} times the upstream gradient ${upstream} (chain rule)`
      : `${from.op}'s VJP rule applied to the upstream gradient ${upstream}${ed.contribution.shape.join(",") !== s.step.ct.shape.join(",") ? `, summed back to ${to.name}'s shape [${ed.contribution.shape.join(",")}]` : ""}`;
    const fan = ed.arrivals > 1 ? ` ${to.name} is used ${ed.arrivals} times, so its gradient is the sum of ${ed.arrivals} contributions (this is number ${ed.arrival}).` : "";
    e = { title: `Backward ${edgeNo}/${total}: ${from.name} → ${to.name}`, prose: `${from.name} = ${from.op}(…) sends ${to.name} ${why}.${fan}`, math };
  }
  if (k === steps.length - 1 && k > 0) {
    if (mode === "reverse") {
      const grads = inputs.slice(0, SUMMARY_INPUTS).map((n) => `∂${L}/∂${n.name} = ${show(st.grads.get(n.id)?.value ?? null)}`).join(",  ");
      e.math.push(`Gradient: ${grads}${inputs.length > SUMMARY_INPUTS ? `, … (${inputs.length} inputs; click one to inspect)` : ""}`);
      e.prose += " The backward pass is complete: one sweep gave the gradient with respect to every input.";
    } else if (wrtNode) {
      const t = st.tangents.get(g.output) ?? null;
      const fromReverse = wrtNode.grad;
      const w = wrtNode.name;
      if (wrtNode.value.shape.length === 0) {
        e.math.push(`∂${L}/∂${w} = d${L} = ${show(t)}${fromReverse ? `   (reverse mode: ${show(fromReverse)})` : ""}`);
        e.prose += ` The sweep is complete: d${L} = ∂${L}/∂${w}. The other inputs need a sweep each.`;
      } else {
        // The JVP along the all-ones tangent: ⟨∇L, 1⟩, to compare with the sum of the reverse-mode gradient.
        const size = sizeOf(wrtNode.value);
        const reverseSum = fromReverse ? `   (reverse mode: Σ of the ${fmtType(fromReverse)} gradient = ${fmtNumber(sumOf(fromReverse))})` : "";
        e.math.push(`JVP along d${w} = 1:  d${L} = ⟨∂${L}/∂${w}, 1⟩ = Σ ∂${L}/∂${w} = ${show(t)}${reverseSum}`);
        e.prose += ` The sweep is complete: d${L} is the derivative of ${L} along the all-ones direction of ${w}, the sum of the ${count(size)} elements of ∂${L}/∂${w}, not the gradient itself: that would take ${count(size)} sweeps, one per element.`;
      }
    }
  }
  return e;
}
