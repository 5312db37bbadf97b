// docs/edge-conventions.md (issue 19): every public op's value and derivative at the edges beside PyTorch's.
// The file must be current (rendered from chainrule now and the committed PyTorch results), every difference
// from PyTorch must carry its reason, every public op must be in the table or named as not an op with edges,
// and where chainrule's own two modes differ it must be the documented kind (exactly one of them NaN).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import * as cr from "../src/index.js";
import { evaluate, loadCases, NOT_COVERED, OPS } from "../tools/edge-conventions/ops.js";
import { DOC, render } from "../tools/edge-conventions/render.js";

const rendered = render();
/** The lower-case function names a module exports (typed loosely: the modules' own types are too deep to map). */
const functionsOf = (m: object): string[] => Object.entries(m as Record<string, unknown>).filter(([k, v]) => typeof v === "function" && /^[a-z]/.test(k)).map(([k]) => k);
const publicFunctions = [...functionsOf(cr), ...functionsOf(cr.nn)];

describe("edge conventions (docs/edge-conventions.md)", () => {
  it("is current: rendering chainrule's results now beside pytorch.json gives the committed file", () => {
    // On a mismatch: `npx tsx tools/edge-conventions/render.ts` (and pytorch.py first if cases.json changed).
    expect(rendered.text).toBe(readFileSync(DOC, "utf8"));
  });

  it("gives a reason for every difference from PyTorch, and keeps no reason for a difference that is gone", () => {
    expect(rendered.differences.filter((d) => d.reason === undefined).map((d) => d.key)).toEqual([]);
    const reasons = JSON.parse(readFileSync(new URL("../tools/edge-conventions/reasons.json", import.meta.url), "utf8")) as Record<string, string>;
    const used = new Set(rendered.differences.map((d) => d.key));
    expect(Object.keys(reasons).filter((k) => !used.has(k) && !rendered.differences.some((d) => d.key.startsWith(`${k}|`)))).toEqual([]);
    expect(rendered.differences.length).toBeGreaterThan(20); // the table compares for real
  });

  it("covers every public function that is an op, and names the others with the reason", () => {
    const missing = publicFunctions.filter((f) => !(f in OPS) && !(f in NOT_COVERED));
    expect(missing).toEqual([]);
    expect(Object.keys(NOT_COVERED).filter((f) => !publicFunctions.includes(f))).toEqual([]);
    expect(rendered.ops).toBeGreaterThanOrEqual(130);
  });

  it("chainrule's two modes differ only where exactly one is NaN (forward mode's strong zero, or ∞ − ∞ summing the gradient)", () => {
    const { cases } = loadCases();
    for (const key of rendered.modeDifferences) {
      const r = evaluate(cases.find((c) => `${c.op}|${c.edge}|${c.index}` === key)!);
      const total = r.grads!.flat().reduce((a, x) => a + Number(x === "nan" ? NaN : x === "inf" ? Infinity : x === "-inf" ? -Infinity : x), 0);
      const tangent = r.tangent === "nan" ? NaN : Number(r.tangent === "inf" ? Infinity : r.tangent);
      expect(Number.isNaN(tangent) !== Number.isNaN(total), key).toBe(true);
    }
  });

  it("gives a reason for every difference between chainrule's two modes (‡), and keeps none that is gone", () => {
    expect(rendered.modeReasons.filter((d) => d.reason === undefined).map((d) => d.key)).toEqual([]);
    const reasons = JSON.parse(readFileSync(new URL("../tools/edge-conventions/modes.json", import.meta.url), "utf8")) as Record<string, string>;
    expect(Object.keys(reasons).filter((k) => !rendered.modeDifferences.includes(k))).toEqual([]);
  });

  it("renders the issue's rows as fixed (relu(NaN), pow(1, ∞), pow(−1, −∞))", () => {
    expect(rendered.text).toContain("| `relu` | 0 → 0; 0 |  | ∞ → ∞; 1<br>−∞ → 0; 0 | NaN → NaN; 1 |  |");
    expect(rendered.text).toContain("(1, ∞) → 1; ∞, 0");
    expect(rendered.text).toContain("(−1, −∞) → 1; −∞, NaN");
  });
});

describe("binaryCrossEntropyWithLogits at infinite logits (found by the table: ∞·0 = NaN in its kernel)", () => {
  it("gives the loss's limit, propagates NaN, and matches the former formula on finite inputs", () => {
    for (const dtype of ["float32", "float64"] as const) {
      const x = cr.tensor([Infinity, Infinity, -Infinity, -Infinity, NaN, 0, 2], { dtype });
      const y = cr.tensor([0, 1, 1, 0, 1, NaN, 0.3], { dtype });
      const got = Array.from(cr.nn.binaryCrossEntropyWithLogits(x, y, { reduction: "none" }).data);
      expect(got.slice(0, 6)).toEqual([Infinity, 0, Infinity, 0, NaN, NaN]);
      expect(got[6]).toBeCloseTo(2 - 0.6 + Math.log1p(Math.exp(-2)), dtype === "float32" ? 6 : 14);
    }
    const rng = new cr.Rng(7);
    const xs = Array.from({ length: 50 }, () => rng.normal() * 30), ys = Array.from({ length: 50 }, () => rng.next());
    const got = cr.nn.binaryCrossEntropyWithLogits(cr.tensor(xs, { dtype: "float64" }), cr.tensor(ys, { dtype: "float64" }), { reduction: "none" }).data;
    xs.forEach((v, i) => expect(got[i]).toBeCloseTo(Math.max(v, 0) - v * ys[i]! + Math.log1p(Math.exp(-Math.abs(v))), 10));
  });
});
