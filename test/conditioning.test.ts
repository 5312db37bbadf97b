// The fuzz test's rounding bound (test/helpers/conditioning.ts): on edge inputs forward and reverse mode may
// differ by rounding alone where the chain-rule sums cancel (issue 19: x·(x − x) − x at x = 1e300, seeds
// −627399092 and −2136439214), and the bound must say so; and it must not hide a wrong rule: a rule planted
// wrong (reverse mode 1.5 × sin's true derivative, forward mode right) is still caught.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { cos, customVjp, mul, sin, tensor, type Tensor } from "../src/index.js";
import { compareModes, sweepMagnitudes } from "./helpers/conditioning.js";
import { direction, inputsOf, isEdge } from "./helpers/fuzz-inputs.js";
import { programArb, resolve, type Instr, type OpName } from "./helpers/programs.js";

const f64 = (v: number[]) => tensor(v, { dtype: "float64" });
const ins = (op: OpName, a: number, b = 0, p = 0): Instr => ({ op, a, b, p, keep: false });
/** sin whose reverse rule is 1.5·cos x (forward mode differentiates sin itself, so it stays right). */
const wrongSin = customVjp((x: Tensor) => sin(x), (x: Tensor) => [sin(x), x] as [Tensor, Tensor], (x, ct) => [mul(ct, mul(cos(x), 1.5))], { name: "wrongSin" });

describe("the rounding bound of forward and reverse mode", () => {
  // x0: [1]; v1 = neg(x0); v2 = add(x0, v1); v3 = matmul(x0, v2); v4 = sub(v3, x0): out = w·(x0·(x0 − x0) − x0).
  const cancel = resolve([[1]], [ins("neg", 0), ins("add", 0, 1), ins("matmul", 0, 2), ins("sub", 3, 0)], 3);

  it("classifies x·(x − x) − x at x = 1e300 as rounding: reverse mode's ±1e300 contributions to x̄ absorb −1", () => {
    const w = cancel.w.item(), v = direction(cancel, 1)[0]!.item();
    const m = compareModes(cancel, [f64([1e300])]);
    expect(m.kind).toBe("rounding");
    expect(m.forward).toBe(-w * v); // the exact derivative is −w along v
    expect(m.reverse).toBe(0); // (−w + 1e300·w) − 1e300·w
    // The reverse part: Σ|contributions to x̄|·|v| = (|w| + 0 + 1e300·|w| + 1e300·|w|)·|v| (from sub, matmul,
    // add, neg), plus |v̄1|·|t1| = 1e300·|w|·|v|; v2's tangent is 0.
    const s = sweepMagnitudes([f64([1e300])], cancel.stepFns, cancel.w, [f64([v])]);
    expect(s.reverse / Math.abs(w * v) / 1e300).toBeCloseTo(3, 9);
    // The forward part: |t1|·|v̄1| + (|v| + |−v|)·|v̄2| (+ |v|·|w| for the last step) ≈ 3e300·|w·v|.
    expect(s.forward / Math.abs(w * v) / 1e300).toBeCloseTo(3, 9);
    expect(m.bound).toBeGreaterThan(1e280);
    // At an ordinary x the same program has no cancellation and the modes agree.
    expect(compareModes(cancel, [f64([1.5])]).kind).toBe("agree");
  });

  it("catches the planted rule where intermediates are huge but nothing cancels (sin(x0·x1), x0 = 1e−300, x1 = 1e300)", () => {
    const prog = (impl: { sin?: (x: Tensor) => Tensor }) => resolve([[1], [1]], [ins("mul", 0, 1), ins("sin", 2)], 5, impl);
    const xs = [f64([1e-300]), f64([1e300])];
    expect(compareModes(prog({}), xs).kind).toBe("agree");
    const m = compareModes(prog({ sin: wrongSin }), xs);
    expect(m.kind).toBe("disagree");
    expect(Math.abs(m.reverse / m.forward)).toBeCloseTo(1.5, 6);
    expect(Math.abs(m.forward)).toBeGreaterThan(1e290); // huge, and the bound stays relative to it
  });

  it("catches the planted rule in random programs: the bound hides it in almost none where it shows", () => {
    // The fuzz test's own programs (a third on edge inputs), each run with the right sin and the planted one.
    const programs = fc.sample(programArb(30), { seed: 19, numRuns: 600 }).filter((p) => p.kinds.includes("sin"));
    const counts = { visible: 0, visibleEdge: 0, caught: 0, hidden: 0, rightDisagrees: 0, rightRounding: 0 };
    for (const p of programs) {
      const xs = inputsOf(p);
      const right = compareModes(p, xs);
      if (right.kind === "disagree") counts.rightDisagrees++;
      if (right.kind === "rounding") counts.rightRounding++;
      if (right.kind !== "agree") continue;
      const planted = compareModes(resolve(p.inputShapes, p.instrs, p.seed, { sin: wrongSin }), xs);
      if (planted.kind === "agree" || planted.kind === "oneNaN") continue; // sin's derivative does not reach the output here
      counts.visible++;
      if (isEdge(p)) counts.visibleEdge++;
      if (planted.kind === "disagree") counts.caught++;
      else counts.hidden++;
    }
    console.log(`conditioning: ${programs.length} programs with sin; planted rule visible in ${counts.visible} (${counts.visibleEdge} on edge inputs), caught in ${counts.caught}, hidden by the bound in ${counts.hidden}; right rule: ${counts.rightRounding} rounding, ${counts.rightDisagrees} disagree`);
    expect(counts.rightDisagrees).toBe(0);
    expect(counts.visible).toBeGreaterThanOrEqual(50);
    expect(counts.visibleEdge).toBeGreaterThanOrEqual(10);
    expect(counts.hidden).toBeLessThanOrEqual(counts.visible * 0.01);
  }, 120_000);
});
