import { describe, expect, it } from "vitest";
import { add, mul, square, sin, tanh, sum, tensor, valueAndGrad, trace } from "../src/index.js";
import type { GraphTrace, Tensor, ValueSummary } from "../src/index.js";
import { expectAllClose } from "./helpers/close.js";

const seedFn = (a: Tensor, b: Tensor, c: Tensor) => square(add(mul(a, b), c));
const seedTrace = (): GraphTrace => trace(seedFn, [tensor(3, { name: "a" }), tensor(2, { name: "b" }), tensor(1, { name: "c" })]);
const num = (v: ValueSummary | number | null): number | null => (v === null ? null : typeof v === "number" ? v : v.data![0]!);

describe("trace: the seed L = (a·b + c)²", () => {
  const g = seedTrace();

  it("records nodes in execution order with names, ops, operands and values", () => {
    expect(g.nodes.map((n) => [n.id, n.name, n.op, n.inputs, num(n.value)])).toEqual([
      [0, "a", "input", [], 3],
      [1, "b", "input", [], 2],
      [2, "c", "input", [], 1],
      [3, "u", "mul", [0, 1], 6],
      [4, "v", "add", [3, 2], 7],
      [5, "L", "square", [4], 49],
    ]);
    expect(g.inputs).toEqual([0, 1, 2]);
    expect(g.output).toBe(5);
    expect(g.nodes.map((n) => num(n.grad))).toEqual([28, 42, 14, 14, 14, 1]);
    expect(g.node("v").formulas).toEqual(["1", "1"]);
  });

  it("records the backward schedule in the engine's order: upstream, local derivative, contribution", () => {
    const steps = g.backward.map((s) => ({
      node: g.nodes[s.node]!.name,
      ct: num(s.ct),
      edges: s.edges.map((e) => [g.nodes[e.to]!.name, e.formula, num(e.partial), num(e.contribution), num(e.accumulated)]),
    }));
    expect(steps).toEqual([
      { node: "L", ct: 1, edges: [["v", "2·v", 14, 14, 14]] },
      { node: "v", ct: 14, edges: [["u", "1", 1, 14, 14], ["c", "1", 1, 14, 14]] },
      { node: "u", ct: 14, edges: [["a", "b", 2, 28, 28], ["b", "a", 3, 42, 42]] },
    ]);
    // add's partials are the constant 1, mul's are tensors.
    expect(g.backward[1]!.edges[0]!.partial).toBe(1);
    expect(typeof g.backward[2]!.edges[0]!.partial).toBe("object");
  });

  it("forward-mode sweeps give, at the output, the same gradients as reverse mode", () => {
    expect(g.forward.map((s) => g.nodes[s.wrt]!.name)).toEqual(["a", "b", "c"]);
    expect(g.forward.map((s) => num(s.tangents[g.output]!))).toEqual([28, 42, 14]);
    // Tangents of every node for ∂/∂a: a=1, b and c zero (null), u = b = 2, v = 2, L = 2·v·2 = 28.
    expect(g.forward[0]!.tangents.map(num)).toEqual([1, null, null, 2, 2, 28]);
  });

  it("pins the text listing", () => {
    expect(g.toText()).toMatchInlineSnapshot(`
      "{ lambda a:f32[] b:f32[] c:f32[] .
          # a = 3                       ∂L/∂a = 28
          # b = 2                       ∂L/∂b = 42
          # c = 1                       ∂L/∂c = 14
        let u:f32[] = mul a b   # = 6   ∂L/∂u = 14
            v:f32[] = add u c   # = 7   ∂L/∂v = 14
            L:f32[] = square v  # = 49  ∂L/∂L = 1
        in ( L ) }"
    `);
  });

  it("pins the Graphviz source", () => {
    expect(g.toDot()).toMatchInlineSnapshot(`
      "digraph chainrule {
        rankdir=LR;
        node [shape=record, fontname="Helvetica", fontsize=11];
        edge [fontname="Helvetica", fontsize=9];
        n0 [label="{a (input) | value 3 | grad 28}", style=filled, fillcolor="#eef4ff"];
        n1 [label="{b (input) | value 2 | grad 42}", style=filled, fillcolor="#eef4ff"];
        n2 [label="{c (input) | value 1 | grad 14}", style=filled, fillcolor="#eef4ff"];
        n3 [label="{u = mul | value 6 | grad 14}"];
        n4 [label="{v = add | value 7 | grad 14}"];
        n5 [label="{L = square | value 49 | grad 1}", style=bold];
        n0 -> n3 [label="b × 14 = 28"];
        n1 -> n3 [label="a × 14 = 42"];
        n3 -> n4 [label="1 × 14 = 14"];
        n2 -> n4 [label="1 × 14 = 14"];
        n4 -> n5 [label="2·v × 1 = 14"];
      }"
    `);
  });

  it("DOT edge labels parenthesise a formula with an operator and a negative upstream, as the text export does", () => {
    const t = trace((x) => tanh(x), [tensor(0.5, { name: "x", dtype: "float64" })]);
    const edge = t.toDot().split("\n").find((l) => l.includes("n0 -> n1"))!;
    expect(edge).toMatch(/^ {2}n0 -> n1 \[label="\(1-L²\) × 1 = 0\.78644\d*"\];$/); // 1 - tanh(0.5)² = 0.786448
    const negated = trace((x) => mul(tanh(x), -1), [tensor(0.5, { name: "x", dtype: "float64" })]).toDot();
    expect(negated).toMatch(/n0 -> n1 \[label="\(1-u²\) × \(-1\) = -0\.78644\d*"\]/);
  });

  it("toJSON is versioned, survives JSON.stringify, and matches the trace", () => {
    const doc = JSON.parse(JSON.stringify(g)) as ReturnType<GraphTrace["toJSON"]>;
    expect(doc.schema).toBe("chainrule.graph/1");
    expect(doc.nodes.map((n) => n.name)).toEqual(["a", "b", "c", "u", "v", "L"]);
    expect(doc.backward[2]!.edges[1]!.contribution.data).toEqual([42]);
    expect(Object.keys(doc).sort()).toEqual(["backward", "forward", "inputs", "nodes", "output", "schema"]);
  });
});

describe("trace: fan-out accumulation", () => {
  it("b = a + a; c = b + b: each contribution and the running sum are visible", () => {
    const g = trace((a) => { const b = add(a, a); return add(b, b); }, [tensor(5, { name: "a" })], { outputName: "c" });
    expect(g.nodes.map((n) => n.name)).toEqual(["a", "u", "c"]);
    const edges = g.backward.flatMap((s) => s.edges.map((e) => [g.nodes[s.node]!.name, g.nodes[e.to]!.name, num(e.contribution), num(e.accumulated), e.arrival, e.arrivals]));
    expect(edges).toEqual([
      ["c", "u", 1, 1, 1, 2],
      ["c", "u", 1, 2, 2, 2],
      ["u", "a", 2, 2, 1, 2],
      ["u", "a", 2, 4, 2, 2],
    ]);
    expect(num(g.node("a").grad)).toBe(4);
    expect(num(g.forward[0]!.tangents[g.output]!)).toBe(4);
  });

  it("a value used by two consumers sums their contributions (v fans out to w and L)", () => {
    const x = tensor(0.5, { name: "x", dtype: "float64" });
    const g = trace((x) => { const v = tanh(x); return add(mul(v, v), sin(v)); }, [x]);
    const v = g.nodes.find((n) => n.op === "tanh")!;
    const into = g.backward.flatMap((s) => s.edges).filter((e) => e.to === v.id);
    expect(into).toHaveLength(3); // twice from mul (v·v), once from sin
    expect(into.map((e) => e.arrival)).toEqual([1, 2, 3]);
    expect(num(into[2]!.accumulated)).toBeCloseTo(into.reduce((s, e) => s + num(e.contribution)!, 0), 12);
    const [, ref] = valueAndGrad((x: Tensor) => { const v = tanh(x); return add(mul(v, v), sin(v)); })(x);
    expectAllClose(num(g.node("x").grad)!, ref.item(), 1e-12);
    expectAllClose(num(g.forward[0]!.tangents[g.output]!)!, ref.item(), 1e-12);
  });
});

describe("trace: tensors, constants and edge cases", () => {
  it("keeps full values up to 64 elements, summary stats beyond", () => {
    const g = trace((x) => sum(square(x)), [tensor(Array.from({ length: 100 }, (_, i) => i), { dtype: "float64" })]);
    expect(g.nodes[0]!.value.data).toBeNull();
    expect(g.nodes[0]!.value.stats).toEqual({ min: 0, max: 99, mean: 49.5 });
    expect(g.nodes[0]!.grad!.stats).toEqual({ min: 0, max: 198, mean: 99 });
    const small = trace((x) => sum(square(x)), [tensor([1, 2, 3])]);
    expect(small.nodes[0]!.name).toBe("x0");
    expect(small.nodes[0]!.grad!.data).toEqual([2, 4, 6]);
  });

  it("constants become const nodes without gradient", () => {
    const g = trace((x) => mul(x, 3), [tensor(2, { name: "x" })]);
    expect(g.nodes.map((n) => [n.kind, n.name])).toEqual([["input", "x"], ["const", "3"], ["op", "L"]]);
    expect(g.nodes[1]!.grad).toBeNull();
    expect(g.backward[0]!.edges.map((e) => e.to)).toEqual([0]);
  });

  it("an unused input is listed with no gradient; forward: false skips the sweeps", () => {
    const g = trace((x) => square(x), [tensor(2, { name: "x" }), tensor(1, { name: "y" })], { forward: false });
    expect(g.node("y").grad).toBeNull();
    expect(g.forward).toEqual([]);
  });

  it("an output that is an input, or a constant, still gives a complete graph", () => {
    const same = trace((x) => x, [tensor(3, { name: "x" })]);
    expect(same.output).toBe(0);
    expect(num(same.node("x").grad)).toBe(1);
    expect(same.backward).toEqual([]);
    const constant = trace(() => tensor(5), [tensor(3, { name: "x" })]);
    expect(constant.nodes.map((n) => [n.kind, n.name, num(n.value)])).toEqual([["input", "x", 3], ["const", "L", 5]]);
    expect(constant.toText()).toContain("# L = 5");
    expect(constant.node("x").grad).toBeNull();
  });

  it("spells non-finite numbers as strings in JSON", () => {
    const g = trace((x) => mul(x, Infinity), [tensor(2, { name: "x" })]);
    const doc = JSON.parse(JSON.stringify(g.toJSON()));
    expect(doc.nodes[2].value.data).toEqual(["Infinity"]);
  });
});
