// Per-example gradients of the MNIST MLP by vmap(grad(loss)): one batched forward and backward pass,
// against a loop of 128 grad calls, in float64 to 1e-12.
import { describe, expect, it } from "vitest";
import { data, grad, nn, stack, treeMap, vmap, type Tensor } from "../src/index.js";
import { expectAllClose } from "./helpers/close.js";


describe("per-example gradients (vmap of grad)", () => {
  it("the MNIST MLP, batch 128: vmap equals a loop of grad calls (float64, 1e-12)", () => {
    const all = data.loadMnist();
    // Every 78th digit: all ten classes (the package stores digits class by class).
    const batch = data.subset(all, Int32Array.from({ length: 128 }, (_, i) => i * 78));
    const x = batch.images.astype("float64");
    const y = batch.labels;
    const model = nn.mnistModel("mlp", { hidden: 256, seed: 0 });
    const params = treeMap(model.stateDict(), (p) => p.astype("float64"));
    const loss = (p: nn.StateDict, xi: Tensor, yi: Tensor) => nn.crossEntropy(model.apply(p, xi), yi);
    const perExample = vmap(grad(loss), { inAxes: [null, 0, 0] })(params, x, y);
    const xs = Array.from({ length: 128 }, (_, i) => x.slice(i, i + 1).reshape([784]));
    const ys = Array.from({ length: 128 }, (_, i) => y.slice(i, i + 1).reshape([]));
    const loop = xs.map((xi, i) => grad(loss)(params, xi, ys[i]!));
    for (const key of Object.keys(params)) {
      const got = perExample[key]!;
      expect(got.shape).toEqual([128, ...params[key]!.shape]);
      expectAllClose(got, stack(loop.map((g) => g[key]!)), 1e-12, 1e-12);
    }
    // The batch mean of the per-example gradients is the gradient of the mean loss.
    const meanLoss = grad((p: nn.StateDict) => nn.crossEntropy(model.apply(p, x), y))(params);
    for (const key of Object.keys(params)) expectAllClose(perExample[key]!.mean(0), meanLoss[key]!, 1e-10, 1e-12);
  }, 120_000);
});
