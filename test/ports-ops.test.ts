// Small ports of tutorial code that needed issue 12's ops, rewritten in our own words and numbers:
// top-k accuracy, scaled dot-product attention written with einsum, returns-to-go with a reverse cumsum,
// and a training loop with gradient clipping and RMSprop.
import { describe, expect, it } from "vitest";
import * as c from "../src/index.js";
import { nn, optim, type Tensor } from "../src/index.js";
import { expectAllClose } from "./helpers/close.js";
import { values } from "./helpers/op-table.js";

describe("ports that use the new ops", () => {
  it("top-2 accuracy from logits (topk + equal + any)", () => {
    const logits = c.tensor([[0.1, 2.0, 1.5, -1], [3, 0, 2.9, 1], [0, 0, 0.5, 0.4]]);
    const labels = c.tensor([[2], [3], [3]], { dtype: "int32" });
    const hits = c.any(c.equal(c.topk(logits, 2).indices, labels), -1);
    expect(hits.toArray()).toEqual([true, false, true]);
    expect(c.mean(c.cast(hits, "float32")).item()).toBeCloseTo(2 / 3, 6);
  });

  it("attention with einsum equals the matmul form, values and gradients", () => {
    const q = values([2, 3, 4], 11), k = values([2, 5, 4], 12), v = values([2, 5, 4], 13);
    const viaEinsum = (qq: Tensor, kk: Tensor, vv: Tensor) =>
      c.sum(c.square(c.einsum("bqk,bkd->bqd", nn.softmax(c.div(c.einsum("bqd,bkd->bqk", qq, kk), 2), -1), vv)));
    const viaMatmul = (qq: Tensor, kk: Tensor, vv: Tensor) =>
      c.sum(c.square(c.matmul(nn.softmax(c.div(c.matmul(qq, c.transpose(kk, [0, 2, 1])), 2), -1), vv)));
    expectAllClose(viaEinsum(q, k, v), viaMatmul(q, k, v), 1e-13, 1e-14);
    const g1 = c.grad(viaEinsum, { argnums: [0, 1, 2] })(q, k, v);
    const g2 = c.grad(viaMatmul, { argnums: [0, 1, 2] })(q, k, v);
    for (let i = 0; i < 3; i++) expectAllClose(g1[i]!, g2[i]!, 1e-12, 1e-13);
  });

  it("returns-to-go G_t = Σ_{k≥t} r_k by a reverse cumsum, and the REINFORCE-style gradient", () => {
    const r = c.tensor([1, 0, 2, 5], { dtype: "float64" });
    expect(c.cumsum(r, 0, { reverse: true }).toArray()).toEqual([8, 7, 7, 5]);
    // d/dlogp Σ_t logp_t·G_t = G_t
    const logp = c.tensor([-0.1, -0.2, -0.3, -0.4], { dtype: "float64" });
    expect(c.grad((lp: Tensor) => c.sum(c.mul(lp, c.cumsum(r, 0, { reverse: true }))))(logp).toArray()).toEqual([8, 7, 7, 5]);
  });

  it("a regression loop with clipGradNorm and RMSprop: the first clipped step equals the formulas", () => {
    const w = c.tensor([0, 0], { dtype: "float64", requiresGrad: true });
    const x = c.tensor([[1, 2], [3, 4], [5, 6]], { dtype: "float64" });
    const y = c.tensor([5, 11, 17], { dtype: "float64" }); // w* = [1, 2]
    const opt = new optim.RMSprop([w], { lr: 0.1 });
    c.mean(c.square(c.sub(c.matmul(x, w), y))).backward();
    // grad = 2/3 · Xᵀ(Xw − y) = 2/3 · −[1·5 + 3·11 + 5·17, 2·5 + 4·11 + 6·17] = −[82, 104]
    expectAllClose(w.grad!, [-82, -104], 1e-14, 0);
    const total = optim.clipGradNorm([w], 1);
    expect(total).toBeCloseTo(Math.hypot(82, 104), 10);
    opt.step();
    // After clipping, g = grad/‖grad‖ (up to the 1e-6); RMSprop's first step moves by lr·g/(0.1·|g|) = 1 per weight.
    expectAllClose(w, [1, 1], 1e-6, 0);
    for (let s = 0; s < 300; s++) {
      opt.zeroGrad();
      c.mean(c.square(c.sub(c.matmul(x, w), y))).backward();
      optim.clipGradNorm([w], 1);
      opt.step();
    }
    // The loss falls from 145 (at w = 0) by more than two orders of magnitude; RMSprop's fixed-size steps (≈ lr) keep w circling the optimum.
    expect(c.mean(c.square(c.sub(c.matmul(x, w), y))).item()).toBeLessThan(1);
  });
});
