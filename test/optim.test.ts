import { describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { io, nn, optim, Rng, tensor, valueAndGrad, ShapeError, GradientError } from "../src/index.js";
import type { Tensor } from "../src/index.js";
import { expectAllClose } from "./helpers/close.js";

// A 2-2-1 tanh MLP with an MSE loss, and an independent plain-number reference of its gradient.
const X = [[1, 2], [-0.5, 0.25]];
const T = [[0.5], [-1]];
const x = tensor(X, { dtype: "float64" });
const t = tensor(T, { dtype: "float64" });
const init = {
  "0.weight": [[0.1, 0.3], [-0.2, 0.4]], // [out, in], as PyTorch
  "0.bias": [0.05, -0.05],
  "2.weight": [[0.7, -0.6]],
  "2.bias": [0.1],
};

function makeModel(): nn.MLP {
  const m = new nn.MLP([2, 2, 1], { activation: "tanh", dtype: "float64", rng: new Rng(0) });
  m.loadStateDict(Object.fromEntries(Object.entries(init).map(([k, v]) => [k, tensor(v, { dtype: "float64" })])));
  return m;
}

type Flat = Record<string, number[]>;
const flat = (d: Record<string, number[] | number[][]>): Flat => Object.fromEntries(Object.entries(d).map(([k, v]) => [k, v.flat()]));

/** Loss gradient by hand: forward, then the chain rule written out on plain numbers. */
function handGrad(p: Flat): Flat {
  const [w11, w21, w12, w22] = p["0.weight"]!; // [out, in] row-major: w_ij = input i → unit j, stored at [j, i]
  const [b1, b2] = p["0.bias"]!;
  const [v1, v2] = p["2.weight"]!;
  const [c] = p["2.bias"]!;
  const g: Flat = { "0.weight": [0, 0, 0, 0], "0.bias": [0, 0], "2.weight": [0, 0], "2.bias": [0] };
  X.forEach(([a1, a2], n) => {
    const h1 = Math.tanh(a1! * w11! + a2! * w21! + b1!);
    const h2 = Math.tanh(a1! * w12! + a2! * w22! + b2!);
    const y = h1 * v1! + h2 * v2! + c!;
    const dy = (2 * (y - T[n]![0]!)) / X.length;
    g["2.weight"]![0]! += h1 * dy;
    g["2.weight"]![1]! += h2 * dy;
    g["2.bias"]![0]! += dy;
    const dz1 = dy * v1! * (1 - h1 * h1), dz2 = dy * v2! * (1 - h2 * h2);
    g["0.weight"]![0]! += a1! * dz1;
    g["0.weight"]![2]! += a1! * dz2;
    g["0.weight"]![1]! += a2! * dz1;
    g["0.weight"]![3]! += a2! * dz2;
    g["0.bias"]![0]! += dz1;
    g["0.bias"]![1]! += dz2;
  });
  return g;
}

const lossOf = (m: nn.Module) => (p: nn.StateDict) => nn.mseLoss(m.apply(p, x), t);

describe("one step on a tiny MLP matches hand-computed updates", () => {
  it("the gradient matches the hand-written chain rule", () => {
    const m = makeModel();
    const [, g] = valueAndGrad(lossOf(m))(m.stateDict());
    const ref = handGrad(flat(init));
    for (const k of Object.keys(init)) expectAllClose(g[k]!, ref[k]!, 1e-12, 1e-14);
  });

  it("SGD with momentum and weight decay: p − lr·(g + wd·p) on the first step", () => {
    const m = makeModel();
    const rule = optim.sgd({ lr: 0.1, momentum: 0.9, weightDecay: 0.01 });
    const [, g] = valueAndGrad(lossOf(m))(m.stateDict());
    const { params } = rule.update(m.stateDict(), g, rule.init(m.stateDict()));
    const p0 = flat(init), ref = handGrad(p0);
    for (const k of Object.keys(init)) expectAllClose(params[k]!, p0[k]!.map((v, i) => v - 0.1 * (ref[k]![i]! + 0.01 * v)), 1e-12, 1e-14);
  });

  it("Adam: two steps follow the bias-corrected formula", () => {
    const m = makeModel();
    const rule = optim.adam({ lr: 0.01 });
    let params = m.stateDict();
    let state = rule.init(params);
    const p = flat(init);
    const mom: Flat = {}, vel: Flat = {};
    for (const k of Object.keys(p)) (mom[k] = p[k]!.map(() => 0)), (vel[k] = p[k]!.map(() => 0));
    for (let step = 1; step <= 2; step++) {
      const [, g] = valueAndGrad(lossOf(m))(params);
      ({ params, state } = rule.update(params, g, state));
      const ref = handGrad(p);
      for (const k of Object.keys(p)) {
        p[k] = p[k]!.map((v, i) => {
          const gi = ref[k]![i]!;
          mom[k]![i] = 0.9 * mom[k]![i]! + 0.1 * gi;
          vel[k]![i] = 0.999 * vel[k]![i]! + 0.001 * gi * gi;
          const mh = mom[k]![i]! / (1 - 0.9 ** step), vh = vel[k]![i]! / (1 - 0.999 ** step);
          return v - (0.01 * mh) / (Math.sqrt(vh) + 1e-8);
        });
        expectAllClose(params[k]!, p[k]!, 1e-10, 1e-12);
      }
    }
    expect(state.step).toBe(2);
    // On the first step Adam moves every weight by about lr (m̂/√v̂ = sign g).
    expect(Math.abs(params["2.bias"]!.item() - 0.1)).toBeLessThan(0.021);
  });
});

describe("imperative optimizers", () => {
  it("step() after backward() gives the same parameters as the functional update (SGD Nesterov, AdamW)", () => {
    for (const make of [() => optim.sgd({ lr: 0.05, momentum: 0.9, nesterov: true }), () => optim.adamw({ lr: 0.01, weightDecay: 0.1 })]) {
      const a = makeModel(), b = makeModel();
      const opt = new optim.Optimizer(a.parameters(), make());
      const rule = make();
      let params = b.stateDict();
      let state = rule.init(params);
      for (let i = 0; i < 3; i++) {
        opt.zeroGrad();
        nn.mseLoss(a.forward(x), t).backward();
        opt.step();
        const [, g] = valueAndGrad(lossOf(b))(params);
        ({ params, state } = rule.update(params, g, state));
      }
      for (const [k, leaf] of Object.entries(a.parameters())) expectAllClose(leaf, params[k]!, 1e-12, 1e-14);
      expect(a.parameters()["0.weight"]!.requiresGrad).toBe(true);
    }
  });

  it("AdamW decays decoupled from the gradient; Adam's decay goes through the moments", () => {
    const p = tensor([2, -4], { dtype: "float64" });
    const zero = tensor([0, 0], { dtype: "float64" });
    const w = optim.adamw({ lr: 0.1, weightDecay: 0.5 });
    expectAllClose(w.update([p], [zero], w.init([p])).params[0]!, [2 * 0.95, -4 * 0.95], 1e-15);
    const a = optim.adam({ lr: 0.1, weightDecay: 0.5 });
    expectAllClose(a.update([p], [zero], a.init([p])).params[0]!, [2 - 0.1, -4 + 0.1], 1e-12); // first step moves by lr·sign(wd·p)
  });

  it("the classes validate their inputs", () => {
    expect(() => new optim.SGD([tensor([1, 2])], { lr: 0.1 })).toThrow(/not a leaf created with \{ requiresGrad: true \}/);
    expect(() => optim.sgd({ lr: -1 })).toThrow(/lr must be a positive number/);
    expect(() => optim.sgd({ lr: 0.1, nesterov: true })).toThrow(/Nesterov/);
    const opt = new optim.Adam([tensor([1], { requiresGrad: true })]);
    expect(() => opt.step()).toThrow(GradientError);
    const rule = optim.sgd({ lr: 0.1 });
    const ps = [tensor([1, 2])];
    expect(() => rule.update(ps, [tensor([1, 2, 3])], rule.init(ps))).toThrow(ShapeError);
  });

  it("state saved to a file and loaded resumes identically", () => {
    const dir = mkdtempSync(join(tmpdir(), "chainrule-optim-"));
    try {
      const run = (stepsBefore: number, resume: boolean): Tensor => {
        const m = makeModel();
        let opt = new optim.Adam(m.parameters(), { lr: 0.02 });
        const step = () => {
          opt.zeroGrad();
          nn.mseLoss(m.forward(x), t).backward();
          opt.step();
        };
        for (let i = 0; i < stepsBefore; i++) step();
        if (resume) {
          io.saveSafetensors(join(dir, "opt.safetensors"), opt.stateDict());
          opt = new optim.Adam(m.parameters(), { lr: 0.02 });
          opt.loadStateDict(io.loadSafetensors(join(dir, "opt.safetensors")).tensors);
          expect(opt.state.step).toBe(stepsBefore);
        }
        for (let i = 0; i < 2; i++) step();
        return m.parameters()["0.weight"]!;
      };
      expect(Array.from(run(2, true).data)).toEqual(Array.from(run(2, false).data));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("learning-rate schedules", () => {
  it("stepDecay multiplies by gamma every stepSize updates", () => {
    const s = optim.stepDecay(0.1, 3, 0.5);
    expect([0, 2, 3, 5, 6].map(s)).toEqual([0.1, 0.1, 0.05, 0.05, 0.025]);
  });

  it("cosineDecay goes from lr to minLr along half a cosine, after a linear warm-up", () => {
    const s = optim.cosineDecay(1, 10, { minLr: 0.1 });
    expect(s(0)).toBe(1);
    expect(s(5)).toBeCloseTo(0.55, 12);
    expect(s(10)).toBeCloseTo(0.1, 12);
    expect(s(50)).toBeCloseTo(0.1, 12);
    const w = optim.cosineDecay(1, 12, { warmupSteps: 2 });
    expect([w(0), w(1), w(2)]).toEqual([0.5, 1, 1]);
  });

  it("a schedule drives the optimizer's learning rate", () => {
    const rule = optim.sgd({ lr: optim.stepDecay(1, 1, 0.5) });
    let ps = [tensor([0], { dtype: "float64" })];
    let st = rule.init(ps);
    for (let i = 0; i < 3; i++) ({ params: ps, state: st } = rule.update(ps, [tensor([1], { dtype: "float64" })], st));
    expect(ps[0]!.item()).toBe(-(1 + 0.5 + 0.25));
  });
});
