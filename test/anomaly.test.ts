import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { AnomalyError, add, atan2, detectAnomaly, grad, jvp, log, mul, pow, scalar, sqrt, sum, tensor, where, greater, exp } from "../src/index.js";
import type { Tensor } from "../src/index.js";
import { anomalyState } from "../src/autodiff/anomaly.js";

const f64 = (v: number) => scalar(v, { dtype: "float64" });

// The call-site assertions look up the line of a marker comment in this file, so they stay exact when lines move.
const SOURCE = readFileSync(fileURLToPath(import.meta.url), "utf8").split("\n");
function lineOf(marker: string): number {
  const i = SOURCE.findIndex((l) => l.includes(`// ${marker}`) && !l.includes("lineOf("));
  if (i < 0) throw new Error(`marker ${marker} not found`);
  return i + 1;
}

function anomalyOf(fn: () => unknown): AnomalyError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AnomalyError);
    return e as AnomalyError;
  }
  throw new Error("expected an AnomalyError, nothing was thrown");
}

// y = log(x)·w + 1: log(0) = -Infinity in the forward pass.
function forwardProgram(x: Tensor, w: Tensor): Tensor {
  const l = log(x); // site:log
  return sum(add(mul(l, w), 1));
}

// y = atan2(x, 2x) at x = 0: the forward pass is finite (atan2(0, 0) = 0), but atan2's partials are
// 0/0 = NaN there. (A zero cotangent times an infinite partial, as in sqrt(x)·0 at 0, no longer gives
// NaN: zero cotangents are strong zeros, see test/edge-derivatives.test.ts.)
function backwardProgram(x: Tensor): Tensor {
  const r = atan2(x, mul(x, 2)); // site:atan2
  return sum(r);
}

describe("detectAnomaly", () => {
  it("forward: names the op, the phase, the input statistics and the user's line", () => {
    const x = tensor([1, 0, 2], { dtype: "float64" });
    const w = tensor([1, 1, 1], { dtype: "float64" });
    const err = anomalyOf(() => detectAnomaly(() => forwardProgram(x, w)));
    expect(err.message).toMatch(/^log: forward pass: produced -Infinity at flat index 1 of shape \[3\]/);
    expect(err.message).toContain("input 0: float64[3] min 0, max 2, mean 1");
    expect(err.message).toContain(`anomaly.test.ts:${lineOf("site:log")}:`);
  });

  it("backward: names the op whose VJP rule produced NaN and where it was called", () => {
    const err = anomalyOf(() => detectAnomaly(() => grad(backwardProgram)(tensor([0, 4], { dtype: "float64" }))));
    expect(err.message).toMatch(/^atan2: backward pass: its VJP rule produced a gradient containing NaN at flat index 0 of shape \[2\]/);
    expect(err.message).toContain("incoming cotangent: float64[2] min 1, max 1");
    expect(err.message).toContain(`anomaly.test.ts:${lineOf("site:atan2")}:`);
  });

  it("backward through loss.backward() too", () => {
    const x = tensor([0, 4], { requiresGrad: true });
    const err = anomalyOf(() => detectAnomaly(() => backwardProgram(x).backward()));
    expect(err.message).toMatch(/^atan2: backward pass/);
    expect(err.message).toContain(`anomaly.test.ts:${lineOf("site:atan2")}:`);
  });

  it("without detectAnomaly the same code runs silently and returns the non-finite values", () => {
    const y = forwardProgram(tensor([1, 0, 2], { dtype: "float64" }), tensor([1, 1, 1], { dtype: "float64" }));
    expect(y.item()).toBe(-Infinity);
    const g = grad(backwardProgram)(tensor([0, 4], { dtype: "float64" }));
    expect(Number.isNaN(g.data[0])).toBe(true);
    expect(g.data[1]).toBe(0);
  });

  it("finite programs run unchanged and return fn's value", () => {
    const g = detectAnomaly(() => grad((x: Tensor) => sum(mul(sqrt(x), x)))(tensor([1, 4], { dtype: "float64" })));
    expect(Array.from(g.data)).toEqual([1.5, 3]);
  });

  it("no false alarm from a masked non-finite branch inside a rule: d/dx x² via pow at x = 0", () => {
    // pow's rule for the exponent computes log(0) = -Infinity and masks it with `where`; only what a
    // rule returns is checked.
    const [ga, gb] = detectAnomaly(() => grad((a: Tensor, b: Tensor) => pow(a, b), { argnums: [0, 1] })(f64(0), f64(2)));
    expect(ga.item()).toBe(0);
    expect(gb.item()).toBe(0);
    expect(detectAnomaly(() => grad(grad((a: Tensor) => pow(a, 2)))(f64(0))).item()).toBe(2);
  });

  it("a user's where() over a non-finite branch is reported in the forward pass (as in PyTorch, the branch is computed)", () => {
    const x = f64(-1);
    const err = anomalyOf(() => detectAnomaly(() => where(greater(x, 0), log(x), 0)));
    expect(err.message).toMatch(/^log: forward pass: produced NaN/);
  });

  it("checks second-order passes: grad of grad", () => {
    // d/dx sqrt(x) = 1/(2 sqrt x) is Infinity at 0: the inner backward pass reports it.
    const err = anomalyOf(() => detectAnomaly(() => grad(grad((x: Tensor) => sqrt(x)))(f64(0))));
    expect(err.message).toMatch(/^sqrt: backward pass: its VJP rule produced a gradient containing Infinity/);
  });

  it("a non-finite value fed in from outside is not blamed on the first op that sees it", () => {
    expect(Number.isNaN(detectAnomaly(() => exp(f64(NaN))).item())).toBe(true);
  });

  it("is off by default, restores the setting on return and on throw, and nests", () => {
    expect(anomalyState.enabled).toBe(false);
    detectAnomaly(() => {
      expect(anomalyState.enabled).toBe(true);
      detectAnomaly(() => expect(anomalyState.enabled).toBe(true));
      expect(anomalyState.enabled).toBe(true);
    });
    expect(anomalyState.enabled).toBe(false);
    expect(() => detectAnomaly(() => log(f64(0)))).toThrow(AnomalyError);
    expect(anomalyState.enabled).toBe(false);
    expect(() => detectAnomaly(() => { throw new RangeError("user error"); })).toThrow(RangeError);
    expect(anomalyState.enabled).toBe(false);
  });

  it("an async fn keeps detection on until its promise settles", async () => {
    const p = detectAnomaly(async () => {
      await new Promise((r) => setTimeout(r, 1));
      return log(f64(0));
    });
    await expect(p).rejects.toThrow(AnomalyError);
    expect(anomalyState.enabled).toBe(false);
    const ok = await detectAnomaly(async () => log(f64(1)).item());
    expect(ok).toBe(0);
    expect(anomalyState.enabled).toBe(false);
  });

  it("forward mode: a non-finite output of an op under jvp is reported", () => {
    const err = anomalyOf(() => detectAnomaly(() => jvp((x: Tensor) => log(x), [f64(0)], [f64(1)])));
    expect(err.message).toMatch(/^log: forward pass: produced -Infinity/);
  });

  it("forward mode: a non-finite tangent from a JVP rule is reported (sqrt at 0 has tangent +Infinity)", () => {
    const err = anomalyOf(() => detectAnomaly(() => jvp((x: Tensor) => sqrt(x), [f64(0)], [f64(1)])));
    expect(err.message).toMatch(/^\w+: /);
    expect(err.message).toMatch(/JVP rule produced a tangent containing Infinity/);
    // and silently without detection
    const [, t] = jvp((x: Tensor) => sqrt(x), [f64(0)], [f64(1)]);
    expect(t.item()).toBe(Infinity);
  });
});
