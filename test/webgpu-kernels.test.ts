// webgpu kernels outside the op property table, against the CPU backend on the same float32 values: every
// optimizer's update (each option that changes the shader), with a schedule and several steps so the
// per-step hyperparameters (bias corrections, Adagrad's decayed rate) are exercised.
import { afterAll, describe, expect, it } from "vitest";
import { Tensor, optim, randn, type Pytree } from "../src/index.js";
import { webgpuForTests } from "./helpers/webgpu.js";

const device = await webgpuForTests();
afterAll(() => device?.release());

/** float32 updates on two devices: the same formulas, evaluated in float64 on the CPU and in f32 on the GPU. */
const RTOL = 1e-5, ATOL = 1e-6;

async function expectClose(gpu: Tensor, cpu: Tensor, what: string): Promise<void> {
  expect(gpu.device, what).toBe("webgpu");
  expect(gpu.shape, what).toEqual(cpu.shape);
  const g = await gpu.dataAsync();
  const c = cpu.data;
  for (let i = 0; i < c.length; i++) {
    if (!(Math.abs(g[i]! - c[i]!) <= ATOL + RTOL * Math.abs(c[i]!))) expect.fail(`${what}[${i}]: webgpu ${g[i]}, cpu ${c[i]}`);
  }
}

const rules: [string, () => optim.OptimizerRule][] = [
  ["sgd, Nesterov momentum and weight decay", () => optim.sgd({ lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01 })],
  ["adam, L2 weight decay", () => optim.adam({ lr: 0.05, weightDecay: 0.1 })],
  ["adamw with a schedule", () => optim.adamw({ lr: (step) => 0.05 / (1 + step) })],
  ["rmsprop", () => optim.rmsprop({ lr: 0.01 })],
  ["rmsprop, centered, momentum and weight decay", () => optim.rmsprop({ lr: 0.01, alpha: 0.9, centered: true, momentum: 0.5, weightDecay: 0.1 })],
  ["rmsprop with momentum", () => optim.rmsprop({ lr: 0.02, momentum: 0.9, eps: 1e-6 })],
  ["adagrad", () => optim.adagrad({ lr: 0.1 })],
  ["adagrad, lrDecay, weight decay and an initial accumulator", () => optim.adagrad({ lr: 0.1, lrDecay: 0.5, weightDecay: 0.05, initialAccumulatorValue: 0.3 })],
];

describe.skipIf(device === null)("webgpu optimizer updates against the CPU", () => {
  for (const [name, make] of rules) {
    it(`${name}: four steps give the CPU's parameters and state`, async () => {
      const shapes = [[3, 5], [7]];
      let cpuParams: Pytree = shapes.map((s, i) => randn(s, { seed: 40 + i }));
      let gpuParams: Pytree = (cpuParams as Tensor[]).map((p) => p.to("webgpu"));
      const rule = make();
      let cpuState = rule.init(cpuParams);
      let gpuState = rule.init(gpuParams);
      for (const slot of Object.values(gpuState.slots)) for (const t of slot) expect(t.device).toBe("webgpu");
      for (let step = 0; step < 4; step++) {
        const grads = shapes.map((s, i) => randn(s, { seed: 100 * step + i }));
        ({ params: cpuParams, state: cpuState } = rule.update(cpuParams, grads, cpuState));
        ({ params: gpuParams, state: gpuState } = rule.update(gpuParams, grads.map((g) => g.to("webgpu")), gpuState));
      }
      for (let i = 0; i < shapes.length; i++) await expectClose((gpuParams as Tensor[])[i]!, (cpuParams as Tensor[])[i]!, `${name}: parameter ${i}`);
      expect(Object.keys(gpuState.slots)).toEqual(Object.keys(cpuState.slots));
      for (const [slot, ts] of Object.entries(cpuState.slots)) {
        for (let i = 0; i < ts.length; i++) await expectClose(gpuState.slots[slot]![i]!, ts[i]!, `${name}: slot ${slot} of parameter ${i}`);
      }
      // The update moved the parameters (the comparison above is not between two unchanged copies).
      const start = randn([3, 5], { seed: 40 }).data;
      const moved = (cpuParams as Tensor[])[0]!.data;
      expect(Math.max(...moved.map((v, k) => Math.abs(v - start[k]!)))).toBeGreaterThan(1e-3);
    });
  }

  it("the imperative RMSprop and Adagrad classes update GPU leaves in place and lower a loss", async () => {
    for (const make of [(ps: Tensor[]) => new optim.RMSprop(ps, { lr: 0.01 }), (ps: Tensor[]) => new optim.Adagrad(ps, { lr: 0.1 })]) {
      const w = randn([4], { seed: 3 }).to("webgpu");
      w.requiresGrad = true;
      const opt = make([w]);
      const target = randn([4], { seed: 4 }).to("webgpu");
      const losses: number[] = [];
      for (let step = 0; step < 10; step++) {
        opt.zeroGrad();
        const l = w.sub(target).square().sum();
        l.backward();
        opt.step();
        losses.push(await l.itemAsync());
      }
      expect(w.device).toBe("webgpu");
      expect(losses[9]!).toBeLessThan(losses[0]! * 0.9);
    }
  });
});
