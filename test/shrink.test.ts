// The shrinker of the PyTorch differential test (test/helpers/shrink.ts): a mismatch planted in one rule
// (relu with derivative 1 at 0, where the convention is 0) inside a fixture program shrinks to the known
// minimal program relu(x0) at x0 = 0; and the PyTorch oracle it uses (tools/pytorch-differential.py
// --eval) reproduces the fixture's stored results, when Debian's python3-torch is installed.
import { describe, expect, it } from "vitest";
import { greaterEqual, where, type Tensor } from "../src/index.js";
import { close, loadFixture, nums, replay, type Program } from "./helpers/differential.js";
import { candidates, describe as describeProgram, rankOf, shrink, torchResults, type Oracle } from "./helpers/shrink.js";

const fixture = loadFixture();
/** relu with derivative 1 at 0 (the rule under test says 0): the planted mismatch. */
const plantedRelu = (x: Tensor) => where(greaterEqual(x, 0), x, 0);
const same = (a: number[], b: number[]) => a.length === b.length && a.every((x, i) => close(x, b[i]!));
/** Fails where the planted rule changes the output, a gradient or the tangent. */
const plantedFails: Oracle = (ps) => ps.map((p) => {
  const right = replay(p).res, planted = replay(p, { relu: plantedRelu }).res;
  return !same([right.out, right.tangent, ...right.grads.flat()], [planted.out, planted.tangent, ...planted.grads.flat()]);
});

describe("shrinking a differential mismatch", () => {
  it("shrinks a planted wrong relu'(0) inside a fixture program to relu(x0) at x0 = 0", () => {
    const start = fixture.programs.find((p) => p.ops.length >= 6 && p.ops.some((i) => i[0] === "relu") && plantedFails([p])[0]);
    expect(start, "a fixture program where the planted rule shows").toBeDefined();
    const s = shrink(start!, plantedFails);
    const p = s.program;
    expect(plantedFails([p])).toEqual([true]);
    expect(p.ops).toEqual([["relu", 0]]);
    expect(p.inputs).toEqual(["0"]);
    expect(p.shape.every((d) => d === 1)).toBe(true);
    expect(describeProgram(p)).toBe(`  x0 = [0]  # shape [${p.shape.join(",")}], direction [1]\n  v1 = relu(x0)\n  out = sum(v1 * w), w = ones`);
    console.log(`shrink: ${start!.ops.length} instructions, ${start!.inputs.length} input(s) of shape [${start!.shape}] → 1 instruction in ${s.steps} steps, ${s.tried} programs tried`);
  });

  it("tries smaller programs only: fewer instructions, inputs or elements, or simpler values", () => {
    const p: Program = { shape: [2, 1], inputs: ["3.5 0", "-1 2"], ops: [["exp", 0], ["add", 2, 1], ["sum", 3, 2]], w: "", v: ["1 -1", "0.25 1"] };
    const groups = candidates(p);
    // A size that every accepted step must lower in one part without raising another, so shrinking ends.
    const measure = (q: Program) => [q.ops.length, q.inputs.length, q.inputs.length * q.shape.reduce((a, d) => a * d, 1), q.w === "" ? 0 : 1,
      q.v.flatMap(nums).filter((x) => x !== 1).length, q.inputs.flatMap(nums).reduce((a, x) => a + rankOf(x), 0)];
    const m0 = measure(p);
    for (const q of groups.flat()) {
      const m = measure(q);
      expect(m.every((x, i) => x <= m0[i]!) && m.some((x, i) => x < m0[i]!), JSON.stringify(q)).toBe(true);
      // every candidate is a valid program: it replays
      expect(() => replay(q)).not.toThrow();
    }
    // dropping v2 = exp(x0): add reads x0 instead, and sum reads the add (now v2)
    expect(groups[0]).toContainEqual({ ...p, ops: [["add", 0, 1], ["sum", 2, 2]] });
    // dropping input x0: its readers read x1, now x0
    expect(groups[0]).toContainEqual({ ...p, inputs: ["-1 2"], v: ["0.25 1"], ops: [["exp", 0], ["add", 1, 0], ["sum", 2, 2]] });
    // 3.5 → 0, 1, −1, … (simpler values first)
    expect(groups.at(-1)![0]!.inputs[0]).toBe("0 0");
    expect(nums(groups.at(-1)![1]!.inputs[0]!)).toEqual([1, 0]);
  });

  const torch = torchResults(fixture.programs.slice(0, 1));
  it.skipIf(torch === null)("the PyTorch oracle (--eval) reproduces the fixture's results for the same programs", () => {
    const some = fixture.programs.filter((_, k) => k % 300 === 0);
    const again = torchResults(some)!;
    again.forEach((q, k) => {
      const p = some[k]!;
      expect([q.out, q.tangent, q.grads, q.values]).toEqual([p.out, p.tangent, p.grads, p.values]);
    });
  });
});
