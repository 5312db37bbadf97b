import { describe, expect, it } from "vitest";
import { grad, nn, randn, Rng, sum, tensor, mul, ShapeError, ValueError } from "../src/index.js";
import type { Tensor } from "../src/index.js";
import { expectAllClose } from "./helpers/close.js";

describe("modules", () => {
  it("parameters are named and ordered, stateDict snapshots them", () => {
    const m = new nn.Sequential(new nn.Conv2d(1, 2, 3, { rng: new Rng(0) }), new nn.ReLU(), new nn.Flatten(), new nn.Linear(8, 3, { rng: new Rng(1) }));
    expect(Object.keys(m.parameters())).toEqual(["0.weight", "0.bias", "3.weight", "3.bias"]);
    expect(m.parameters()["0.weight"]!.shape).toEqual([2, 1, 3, 3]);
    expect(m.parameters()["3.weight"]!.shape).toEqual([3, 8]); // [out, in], as PyTorch
    expect(m.numParameters()).toBe(2 * 9 + 2 + 8 * 3 + 3);
    const sd = m.stateDict();
    expect(sd["0.weight"]!.requiresGrad).toBe(false);
    expect(m.parameters()["0.weight"]!.requiresGrad).toBe(true);
    expect(m.forward(randn([4, 1, 4, 4], { seed: 1 })).shape).toEqual([4, 3]);
    expect(m.toString()).toContain("Linear(8 → 3)");
  });

  it("the same seed gives the same initial weights; Kaiming and Glorot have the right spread", () => {
    const a = new nn.MLP([50, 40, 10], { rng: new Rng(7) }), b = new nn.MLP([50, 40, 10], { rng: new Rng(7) });
    expect(Array.from(a.stateDict()["0.weight"]!.data)).toEqual(Array.from(b.stateDict()["0.weight"]!.data));
    expect(Array.from(a.stateDict()["0.bias"]!.data)).toEqual(new Array(40).fill(0));
    const k = nn.kaimingUniform([200, 100], 200, { rng: new Rng(1) }).data;
    const bound = Math.sqrt(2) * Math.sqrt(3 / 200);
    expect(Math.max(...Array.from(k, Math.abs))).toBeLessThanOrEqual(bound);
    const variance = Array.from(k).reduce((s, v) => s + v * v, 0) / k.length;
    expect(variance).toBeGreaterThan(0.9 * (2 / 200));
    expect(variance).toBeLessThan(1.1 * (2 / 200));
    const g = nn.glorotNormal([300, 200], 300, 200, { rng: new Rng(2) }).data;
    const gv = Array.from(g).reduce((s, v) => s + v * v, 0) / g.length;
    expect(gv).toBeGreaterThan(0.9 * (2 / 500));
    expect(gv).toBeLessThan(1.1 * (2 / 500));
  });

  it("apply(params, x) is differentiable and restores the stored values", () => {
    const m = new nn.Linear(3, 2, { rng: new Rng(0), dtype: "float64" });
    const x = tensor([[1, 2, 3]], { dtype: "float64" });
    const before = m.parameters()["weight"]!;
    const g = grad((p: nn.StateDict) => sum(mul(m.apply(p, x), tensor([[1, -1]], { dtype: "float64" }))))(m.stateDict());
    expectAllClose(g["weight"]!, [1, 2, 3, -1, -2, -3]); // [out, in]: row o is ct_o · x
    expectAllClose(g["bias"]!, [1, -1]);
    expect(m.parameters()["weight"]).toBe(before);
    expect(() => m.apply({ weight: before }, x)).toThrow(/no entry "bias"/);
    expect(() => m.apply({ ...m.stateDict(), extra: before }, x)).toThrow(/unknown entry "extra"/);
    expect(() => m.apply({ weight: tensor([[1, 2]]), bias: before }, x)).toThrow(ShapeError);
  });

  it("loadStateDict replaces values in place and checks names and shapes", () => {
    const m = new nn.Linear(2, 1, { rng: new Rng(0) });
    const leaf = m.parameters()["weight"]!;
    m.loadStateDict({ weight: tensor([[2, 3]]), bias: tensor([1]) });
    expect(m.parameters()["weight"]).toBe(leaf);
    expect(Array.from(m.forward(tensor([[1, 1]])).data)).toEqual([6]);
    expect(() => m.loadStateDict({ weight: tensor([[2, 3]]) })).toThrow(/missing bias/);
    expect(() => m.loadStateDict({ weight: tensor([[2], [3]]), bias: tensor([1]) })).toThrow(/"weight" has shape \[2,1\], expected \[1,2\]/);
  });

  it("dropout is active only in training mode", () => {
    const m = new nn.Sequential(new nn.Dropout(0.5, { rng: new Rng(0) }));
    const x = tensor(new Float32Array(100).fill(1), { shape: [1, 100] });
    expect(Array.from(m.forward(x).data).some((v) => v === 0)).toBe(true);
    m.eval();
    expect(m.layers[0]!.training).toBe(false);
    expect(m.forward(x)).toBe(x);
  });

  it("activation modules and pooling layers compute what their functions do", () => {
    const x = randn([1, 2, 4, 4], { seed: 3 });
    expect(Array.from(new nn.MaxPool2d(2).forward(x).data)).toEqual(Array.from(nn.maxPool2d(x, 2).data));
    expect(Array.from(new nn.AvgPool2d(2).forward(x).data)).toEqual(Array.from(nn.avgPool2d(x, 2).data));
    expect(new nn.Reshape([4, 8]).forward(x).shape).toEqual([1, 4, 8]);
    expect(Array.from(new nn.Normalize(0.5, 0.25).forward(tensor([0, 0.5, 1])).data)).toEqual([-2, 0, 2]);
    expect(() => new nn.Normalize(0, 0)).toThrow(/positive std/);
    expect(new nn.Tanh().forward(tensor([0])).item()).toBe(0);
    expect(new nn.Sigmoid().forward(tensor([0])).item()).toBe(0.5);
    expect(new nn.GELU().forward(tensor([0])).item()).toBe(0);
    expect(() => new nn.Linear(3, 2).forward(tensor([[1, 2]]))).toThrow(/expected last dimension 3/);
    expect(() => new nn.MLP([3])).toThrow(ValueError);
  });

  it("imperative backward fills .grad on module parameters", () => {
    const m = new nn.Linear(2, 1, { rng: new Rng(0) });
    const y: Tensor = sum(m.forward(tensor([[1, 2], [3, 4]])));
    y.backward();
    expect(Array.from(m.parameters()["weight"]!.grad!.data)).toEqual([4, 6]);
    expect(Array.from(m.parameters()["bias"]!.grad!.data)).toEqual([2]);
  });
});
