// webgpu kernels outside the op property table, against the CPU backend on the same float32 values: every
// optimizer's update (each option that changes the shader), with a schedule and several steps so the
// per-step hyperparameters (bias corrections, Adagrad's decayed rate) are exercised; and the cases random
// values never reach: ties and NaN in sorting, int and bool scans, −∞ in logcumsumexp, zeros in cumprod.
import { afterAll, describe, expect, it } from "vitest";
import * as c from "../src/index.js";
import { Tensor, optim, randn, type Pytree } from "../src/index.js";
import { webgpuForTests } from "./helpers/webgpu.js";
import v8 from "node:v8";
import vm from "node:vm";

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

  it("clipGradNorm and clipGrads refuse GPU gradients with an error that names the op and what to do", () => {
    const g = randn([2, 3], { seed: 5 }).to("webgpu");
    expect(() => optim.clipGrads([g], 1)).toThrow(/clipGrads: gradient 0 \(shape \[2,3\]\) lives on the GPU, .*clip with ops instead/);
    const w = randn([2, 3], { seed: 6 }).to("webgpu");
    w.requiresGrad = true;
    w.square().sum().backward();
    expect(() => optim.clipGradNorm([w], 1)).toThrow(/clipGradNorm: gradient 0 .* lives on the GPU/);
  });

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

describe.skipIf(device === null)("webgpu scans and sorting: ties, NaN, ints, infinities", () => {
  const gpu = (v: c.NestedArray, dtype: c.DType = "float32") => c.tensor(v, { dtype }).to("webgpu");

  it("argsort and sort are stable with ties, put NaN last ascending and first descending, along any axis", async () => {
    const x = gpu([[3, 1, 2, 1], [NaN, -1, 5, 0]]);
    expect(await c.argsort(x).array()).toEqual([[1, 3, 2, 0], [1, 3, 2, 0]]);
    expect(await c.argsort(x, -1, { descending: true }).array()).toEqual([[0, 2, 1, 3], [0, 2, 3, 1]]);
    expect(await c.sort(x).array()).toEqual([[1, 1, 2, 3], [-1, 0, 5, NaN]]);
    expect(await c.sort(x, 0).array()).toEqual([[3, -1, 2, 0], [NaN, 1, 5, 1]]);
    expect(await c.argsort(gpu([2, 2, 1, 2, 1])).array()).toEqual([2, 4, 0, 1, 3]);
    expect(await c.argsort(gpu([5, -7, 5, 0], "int32"), -1, { descending: true }).array()).toEqual([0, 2, 3, 1]);
  });

  it("topk: ties go to the lower index; the gradient lands on the selected positions", async () => {
    const x = gpu([[1, 4, 4, 2], [0, -3, 7, 7]]);
    const r = c.topk(x, 2);
    expect(await r.values.array()).toEqual([[4, 4], [7, 7]]);
    expect(await r.indices.array()).toEqual([[1, 2], [2, 3]]);
    expect(r.indices.device).toBe("webgpu");
    const g = c.grad((t: Tensor) => c.sum(c.mul(c.topk(t, 2).values, gpu([[1, 10], [100, 1000]]))))(x);
    expect(await g.array()).toEqual([[0, 1, 10, 0], [0, 0, 100, 1000]]);
  });

  it("takeAlongAxis checks GPU indices against their axis, reported at the next read (the flattened gather alone would pass 3 here)", async () => {
    const x = gpu([[1, 2, 3], [4, 5, 6]]);
    expect(await c.takeAlongAxis(x, gpu([[2, -3], [0, 1]], "int32"), 1).array()).toEqual([[3, 1], [4, 5]]);
    const bad = c.takeAlongAxis(x, gpu([[0, 3], [0, 0]], "int32"), 1);
    await expect(bad.dataAsync()).rejects.toThrow(/takeAlongAxis: index 3 is out of range for axis 1 of length 3; expected an integer in \[-3, 2\]/);
  });

  it("under vmap, batched GPU indices (sort, topk, gather, scatterAdd) are folded on the GPU and range-checked there", async () => {
    const x = randn([3, 5], { seed: 80 });
    const sortEach = c.vmap((u: Tensor) => c.mul(c.sort(u), c.topk(u, 5).values));
    expect(await sortEach(x.to("webgpu")).array()).toEqual(sortEach(x).toArray());
    const idx = c.tensor([[0, 4], [2, 2], [-1, 1]], { dtype: "int32" });
    const pick = c.vmap((u: Tensor, i: Tensor) => c.gather(u, i, 0));
    expect(await pick(x.to("webgpu"), idx.to("webgpu")).array()).toEqual(pick(x, idx).toArray());
    const spread = c.vmap((b: Tensor, u: Tensor, i: Tensor) => c.scatterAdd(b, i, u, 0));
    const base = randn([3, 5], { seed: 82 }), upd = randn([3, 2], { seed: 81 });
    const want = spread(base, upd, idx).data, got = await spread(base.to("webgpu"), upd.to("webgpu"), idx.to("webgpu")).dataAsync();
    for (let k = 0; k < want.length; k++) expect(got[k]).toBeCloseTo(want[k]!, 6);
    const bad = pick(x.to("webgpu"), c.tensor([[0, 5], [0, 0], [0, 0]], { dtype: "int32" }).to("webgpu"));
    await expect(bad.dataAsync()).rejects.toThrow(/gather: index 5 is out of range for axis 0 of length 5; expected an integer in \[-5, 4\]/);
  });

  it("cumsum of ints and bools counts in int32; logcumsumexp passes −∞ through; cumprod's gradient is exact at zeros", async () => {
    const b = c.cumsum(gpu([1, 0, 1, 1], "bool"));
    expect([b.dtype, await b.array()]).toEqual(["int32", [1, 1, 2, 3]]);
    expect(await c.cumsum(gpu([[2, -3], [4, 5]], "int32"), 0, { reverse: true }).array()).toEqual([[6, 2], [4, 5]]);
    expect(await c.cumprod(gpu([[2, -3], [4, 5]], "int32"), 0).array()).toEqual([[2, -3], [8, -15]]);
    expect(await c.logcumsumexp(gpu([-Infinity, -Infinity, 0, -Infinity])).array()).toEqual([-Infinity, -Infinity, 0, 0]);
    const l = await c.logcumsumexp(gpu([0, 0, 1000])).array();
    expect((l as number[])[1]).toBeCloseTo(Math.LN2, 6);
    expect((l as number[])[2]).toBe(1000);
    const x = gpu([2, 0, 3, 0, 5]);
    expect(await c.cumprod(x).array()).toEqual([2, 0, 0, 0, 0]);
    expect(await c.grad((t: Tensor) => c.sum(c.cumprod(t)))(x).array()).toEqual([1, 8, 0, 0, 0]);
  });
});

describe.skipIf(device === null)("webgpu linear algebra against the CPU, and its errors", () => {
  /** Batches of random n×n matrices, n·I added so they are well conditioned (float32 keeps ~6 digits of A⁻¹). */
  const matrices = (batch: number[], n: number, seed: number) => c.add(randn([...batch, n, n], { seed }), c.mul(c.eye(n), n));

  it("inv, solve, det, slogdet and cholesky of batches of 1×1 to 5×5 matrices match the CPU", async () => {
    for (const n of [1, 2, 3, 5]) {
      const a = matrices([2, 3], n, n);
      const spd = c.add(c.matmul(a, c.transpose(a, [0, 1, 3, 2])), c.eye(n));
      const b = randn([2, 3, n, 2], { seed: 10 + n });
      const cases: [string, (x: Tensor) => Tensor, Tensor][] = [
        ["inv", (x) => c.inv(x), a],
        ["solve", (x) => c.solve(x, b.device === x.device ? b : b.to("webgpu")), a],
        ["det", (x) => c.det(x), a],
        ["slogdet sign", (x) => c.slogdet(x)[0], c.neg(a)],
        ["slogdet logabsdet", (x) => c.slogdet(x)[1], a],
        ["cholesky", (x) => c.cholesky(x), spd],
      ];
      for (const [name, f, x] of cases) {
        const want = f(x);
        const got = f(x.to("webgpu"));
        expect(got.device).toBe("webgpu");
        expect(got.shape).toEqual(want.shape);
        const g = await got.dataAsync(), w = want.data;
        for (let i = 0; i < w.length; i++) {
          if (!(Math.abs(g[i]! - w[i]!) <= 1e-5 + 1e-4 * Math.abs(w[i]!))) expect.fail(`${name} n ${n} [${i}]: webgpu ${g[i]}, cpu ${w[i]}`);
        }
      }
    }
  });

  it("hand values: a 2×2 inverse and determinant, a negative determinant's sign, a 0×0 determinant of 1", async () => {
    const a = c.tensor([[4, 7], [2, 6]]).to("webgpu");
    const inv = (await c.inv(a).array()) as number[][];
    [[0.6, -0.7], [-0.2, 0.4]].forEach((row, i) => row.forEach((v, j) => expect(inv[i]![j]).toBeCloseTo(v, 6)));
    expect(await c.det(a).itemAsync()).toBeCloseTo(10, 5);
    const [sign, logabs] = c.slogdet(c.tensor([[0, 1], [1, 0]]).to("webgpu"));
    expect([await sign.itemAsync(), await logabs.itemAsync()]).toEqual([-1, 0]);
    expect(await c.det(c.zeros([2, 0, 0]).to("webgpu")).array()).toEqual([1, 1]);
    expect(await c.det(c.tensor([[1, 2], [2, 4]]).to("webgpu")).itemAsync()).toBe(0);
  });

  it("a singular or indefinite matrix is reported at the next read, with the CPU's message and the batch index", async () => {
    const singular = c.stack([c.eye(2), c.tensor([[1, 2], [2, 4]])]).to("webgpu");
    const x = c.inv(singular);
    await expect(x.dataAsync()).rejects.toThrow(/inv: matrix is singular \(batch index \[1\]\): pivot 2 of 2 is exactly 0 after partial pivoting \(found on the GPU, reported at this read\); got shape \[2,2,2\]; a singular matrix has no inverse/);
    // Reported once: the next read goes through.
    expect(await c.det(singular).array()).toEqual([1, 0]);
    const detGrad = c.grad((m: Tensor) => c.det(m))(c.tensor([[1, 2], [2, 4]]).to("webgpu"));
    await expect(detGrad.dataAsync()).rejects.toThrow(/det: matrix is singular: .*the derivative of det at a singular matrix/);
    await expect(c.solve(singular, c.ones([2, 2, 1]).to("webgpu")).dataAsync()).rejects.toThrow(/solve: matrix is singular \(batch index \[1\]\)/);
    await expect(c.cholesky(c.tensor([[1, 2], [2, 1]]).to("webgpu")).dataAsync()).rejects.toThrow(/cholesky: matrix is not positive definite: its leading minor of order 2 is not positive/);
    // slogdet of a singular matrix is a value, as on the CPU: sign 0, logabsdet −∞; its gradient there is refused
    const [sign, logabs] = c.slogdet(singular);
    expect([await sign.array(), await logabs.array()]).toEqual([[1, 0], [0, -Infinity]]);
    const slogdetGrad = c.grad((m: Tensor) => c.slogdet(m)[1])(c.tensor([[1, 2], [2, 4]]).to("webgpu"));
    await expect(slogdetGrad.dataAsync()).rejects.toThrow(/slogdet: matrix is singular: .*the derivative of logabsdet at a singular matrix/);
  });

  it("0×0 matrices are nonsingular even when their status buffer comes from the reuse pool holding other values", async () => {
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc") as () => void;
    for (let k = 0; k < 3; k++) {
      // A freed 3-element buffer of non-zeros goes back to the pool, where the next status buffer is taken from.
      await c.tensor([7, 7, 7], { dtype: "int32" }).to("webgpu").dataAsync();
      gc();
      await new Promise((r) => setTimeout(r, 20));
      expect(await c.inv(c.zeros([3, 0, 0]).to("webgpu")).array()).toEqual([[], [], []]);
      expect(await c.slogdet(c.zeros([3, 0, 0]).to("webgpu"))[1].array()).toEqual([0, 0, 0]);
    }
  });
});

describe.skipIf(device === null)("webgpu composites that build CPU constants move them to their inputs' device", () => {
  async function expectSame(got: Tensor, want: Tensor, what: string): Promise<void> {
    expect(got.device, what).toBe("webgpu");
    expect(got.shape, what).toEqual(want.shape);
    const g = await got.dataAsync(), w = want.data;
    for (let i = 0; i < w.length; i++) {
      if (!(Math.abs(g[i]! - w[i]!) <= 1e-5 + 1e-4 * Math.abs(w[i]!))) expect.fail(`${what}[${i}]: webgpu ${g[i]}, cpu ${w[i]}`);
    }
  }
  const q = randn([2, 3, 4], { seed: 1 }), k = randn([2, 3, 4], { seed: 2 }), v = randn([2, 3, 5], { seed: 3 });
  const gq = q.to("webgpu"), gk = k.to("webgpu"), gv = v.to("webgpu");

  it("attention: causal, a CPU bool mask, a GPU bool mask, and their gradients", async () => {
    const mask = c.tensor([[true, false, true], [true, true, false], [false, true, true]]);
    const sdpa = (o: { causal?: boolean; mask?: Tensor }) => (a: Tensor, b: Tensor, d: Tensor) => c.nn.scaledDotProductAttention(a, b, d, o);
    for (const [what, cpu, gpu] of [
      ["causal", sdpa({ causal: true }), sdpa({ causal: true })],
      ["CPU mask and causal", sdpa({ mask, causal: true }), sdpa({ mask, causal: true })],
      ["GPU mask", sdpa({ mask }), sdpa({ mask: mask.to("webgpu") })],
    ] as const) {
      await expectSame(gpu(gq, gk, gv), cpu(q, k, v), what);
      const loss = (f: typeof cpu) => (a: Tensor, b: Tensor, d: Tensor) => c.sum(c.square(f(a, b, d)));
      const gc = c.grad(loss(cpu), { argnums: [0, 1, 2] })(q, k, v);
      const gg = c.grad(loss(gpu), { argnums: [0, 1, 2] })(gq, gk, gv);
      for (let i = 0; i < 3; i++) await expectSame(gg[i]!, gc[i]!, `${what}: gradient ${i}`);
    }
    // The CPU mask is still checked before it moves: a query with no key is an error at the op.
    expect(() => c.nn.scaledDotProductAttention(gq, gk, gv, { mask: c.tensor([[false, false, false], [true, true, true], [true, true, true]]) })).toThrow(/query row 0 .* no key to attend to/);
  });

  it("MultiheadAttention returns its averaged weights on the GPU; oneHot and Embedding take GPU indices", async () => {
    const mha = new c.nn.MultiheadAttention(4, 2, { batchFirst: true, causal: true });
    const gpuParams = Object.fromEntries(Object.entries(mha.parameters()).map(([name, p]) => [name, p.to("webgpu")]));
    await expectSame(mha.apply(gpuParams, gq), mha.forward(q), "MultiheadAttention output");
    // The head-averaged weights come from attending to an identity (built on the CPU, moved to the inputs' device).
    const weightsOf = (x: Tensor) => mha.attend(x, x, x, { causal: true })[1];
    const withWeights = Object.assign(Object.create(mha) as typeof mha, { forward: weightsOf });
    await expectSame(c.nn.MultiheadAttention.prototype.apply.call(withWeights, gpuParams, gq), weightsOf(q), "MultiheadAttention weights");
    const idx = c.tensor([2, 0, 1], { dtype: "int32" });
    expect(await c.oneHot(idx.to("webgpu"), 3).array()).toEqual([[0, 0, 1], [1, 0, 0], [0, 1, 0]]);
    const emb = new c.nn.Embedding(4, 3);
    await expectSame(emb.apply({ weight: emb.parameters()["weight"]!.to("webgpu") }, idx.to("webgpu")), emb.forward(idx), "Embedding");
  });

  it("BatchNorm2d trains on GPU batches (running statistics updated there) and evaluates with them, as on the CPU", async () => {
    const cpu = new c.nn.BatchNorm2d(3, { momentum: 0.3 }), gpu = new c.nn.BatchNorm2d(3, { momentum: 0.3 });
    const gpuParams = Object.fromEntries(Object.entries(gpu.parameters()).map(([name, p]) => [name, p.to("webgpu")]));
    for (let step = 0; step < 3; step++) {
      const x = c.add(c.mul(randn([4, 3, 2, 2], { seed: 50 + step }), 2), 1);
      await expectSame(gpu.apply(gpuParams, x.to("webgpu")), cpu.forward(x), `training step ${step}`);
    }
    for (const name of ["running_mean", "running_var"]) await expectSame(gpu.buffers()[name]!, cpu.buffers()[name]!, name);
    expect(gpu.buffers()["num_batches_tracked"]!.item()).toBe(3);
    cpu.eval();
    gpu.eval();
    const x = randn([2, 3, 2, 2], { seed: 60 });
    await expectSame(gpu.apply(gpuParams, x.to("webgpu")), cpu.forward(x), "evaluation");
    // A module never trained on the GPU evaluates GPU inputs with its CPU statistics, moved.
    await expectSame(cpu.apply(Object.fromEntries(Object.entries(cpu.parameters()).map(([n, p]) => [n, p.to("webgpu")])), x.to("webgpu")), cpu.forward(x), "evaluation with CPU statistics");
  });

  it("GRU and LSTM start from zero states on the inputs' device; outputs and input gradients match the CPU", async () => {
    const x = randn([2, 3, 4], { seed: 70 });
    for (const m of [new c.nn.GRU(4, 5, { batchFirst: true, numLayers: 2 }), new c.nn.LSTM(4, 5, { batchFirst: true })]) {
      const gpuParams = Object.fromEntries(Object.entries(m.parameters()).map(([name, p]) => [name, p.to("webgpu")]));
      await expectSame(m.apply(gpuParams, x.to("webgpu")), m.forward(x), m.constructor.name);
      const loss = (ps: Record<string, Tensor>) => (t: Tensor) => c.sum(c.square(m.apply(ps, t)));
      await expectSame(c.grad(loss(gpuParams))(x.to("webgpu")), c.grad(loss(m.parameters()))(x), `${m.constructor.name} input gradient`);
    }
  });
});
