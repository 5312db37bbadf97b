// The webgpu device in Node: tensors on the GPU, async reads, sync-read errors, mixed devices, float64,
// and autodiff (the seed, fan-out, second order, a small MLP) against the same programs on the CPU.
import { afterAll, describe, expect, it } from "vitest";
import { Tensor, grad, jvp, valueAndGrad, hessian, tensor, scalar, randn, matmul, relu, sum, mean, square, tanh, sigmoid, exp, ValueError, noGrad, optim, nn } from "../src/index.js";
import { webgpuForTests } from "./helpers/webgpu.js";
import v8 from "node:v8";
import vm from "node:vm";

const device = await webgpuForTests();
afterAll(() => device?.release());

/** float32 tolerance of GPU results against the CPU's (different summation orders, fused ops). */
const RTOL = 1e-5, ATOL = 1e-6;
async function expectClose(gpu: Tensor, cpu: Tensor, rtol = RTOL, atol = ATOL): Promise<void> {
  expect(gpu.device).toBe("webgpu");
  expect(gpu.shape).toEqual(cpu.shape);
  const g = await gpu.dataAsync();
  const c = cpu.data;
  for (let i = 0; i < c.length; i++) {
    const tol = atol + rtol * Math.abs(c[i]!);
    if (!(Math.abs(g[i]! - c[i]!) <= tol)) expect.fail(`element ${i}: webgpu ${g[i]}, cpu ${c[i]} (rtol ${rtol}, atol ${atol})`);
  }
}
const gpu = (t: Tensor): Tensor => t.to("webgpu");

describe.skipIf(device === null)("webgpu device", () => {
  it("reports the adapter and moves tensors both ways", async () => {
    expect(device!.adapter.length).toBeGreaterThan(0);
    const x = tensor([[1, 2, 3], [4, 5, 6]]);
    const g = gpu(x);
    expect(g.device).toBe("webgpu");
    expect(x.device).toBe("cpu");
    expect(g.shape).toEqual([2, 3]);
    expect(await g.array()).toEqual([[1, 2, 3], [4, 5, 6]]);
    const back = await g.to("cpu");
    expect(back.device).toBe("cpu");
    expect(back.toArray()).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(await gpu(tensor([1, 0, 1], { dtype: "bool" })).array()).toEqual([true, false, true]);
    expect(await gpu(tensor([7, -3], { dtype: "int32" })).array()).toEqual([7, -3]);
    expect(await gpu(scalar(2.5)).itemAsync()).toBe(2.5);
    // CPU tensors answer the async readers too.
    expect(await x.array()).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(await scalar(4).itemAsync()).toBe(4);
  });

  it("synchronous readers of a GPU tensor throw, naming the async call to use", () => {
    const g = gpu(tensor([1, 2]));
    expect(() => g.data).toThrow(/data: this tensor lives on the GPU .*await x\.dataAsync\(\)/);
    expect(() => gpu(scalar(1)).item()).toThrow(/item: .*await x\.itemAsync\(\)/);
    expect(() => g.toArray()).toThrow(/toArray: .*await x\.array\(\)/);
    expect(String(g)).toBe("Tensor(webgpu, float32, shape [2]; read the values with await x.array())");
  });

  it("mixing devices in one op is an error naming both; numbers and 0-d CPU tensors are fine", async () => {
    const g = gpu(tensor([1, 2]));
    expect(() => g.add(tensor([1, 2]))).toThrow(ValueError);
    expect(() => g.add(tensor([1, 2]))).toThrow("add: inputs are on different devices: input 0 is on webgpu, input 1 (shape [2]) is on cpu");
    expect(() => matmul(tensor([[1, 2]]), gpu(tensor([[1], [2]])))).toThrow(/matmul: inputs are on different devices: input 1 is on webgpu, input 0 \(shape \[1,2\]\) is on cpu/);
    expect(await g.mul(3).add(scalar(1)).array()).toEqual([4, 7]);
  });

  it("float64 is refused on webgpu with a clear error", () => {
    expect(() => tensor([1, 2], { dtype: "float64" }).to("webgpu")).toThrow(/float64 tensors cannot live on the GPU \(WGSL has no 64-bit floats\)/);
    expect(() => gpu(tensor([1, 2])).astype("float64")).toThrow(/float64/);
  });

  it("the seed L = (a·b + c)² gives 49 and gradients 28, 42, 14 on the GPU, in both modes and imperatively", async () => {
    const seed = (a: Tensor, b: Tensor, c: Tensor) => square(a.mul(b).add(c));
    const [a, b, c] = [3, 2, 1].map((v) => gpu(scalar(v))) as [Tensor, Tensor, Tensor];
    const [L, gs] = valueAndGrad(seed, { argnums: [0, 1, 2] })(a, b, c);
    expect(L.device).toBe("webgpu");
    expect(await L.itemAsync()).toBe(49);
    expect(await Promise.all(gs.map((g) => g.itemAsync()))).toEqual([28, 42, 14]);
    const [, ta] = jvp((x: Tensor) => seed(x, b, c), [a], [gpu(scalar(1))]);
    expect(await ta.itemAsync()).toBe(28);
    const [la, lb, lc] = [3, 2, 1].map((v) => {
      const t = gpu(scalar(v));
      t.requiresGrad = true;
      return t;
    }) as [Tensor, Tensor, Tensor];
    seed(la, lb, lc).backward();
    expect(la.grad!.device).toBe("webgpu");
    expect(await Promise.all([la, lb, lc].map((t) => t.grad!.itemAsync()))).toEqual([28, 42, 14]);
  });

  it("fan-out: b = a + a, c = b · b gives dc/da = 8a, accumulated on the GPU", async () => {
    const f = (a: Tensor) => {
      const b = a.add(a);
      return b.mul(b).sum();
    };
    const a = tensor([0.5, -1, 2]);
    await expectClose(grad(f)(gpu(a)), grad(f)(a));
    expect(await grad(f)(gpu(a)).array()).toEqual([4, -8, 16]);
  });

  it("second order: grad of grad and a Hessian match the CPU", async () => {
    const f = (x: Tensor) => sum(tanh(x).mul(x.square()));
    const x = tensor([0.3, -0.7, 1.2]);
    const d2 = (x: Tensor) => sum(grad(f)(x));
    await expectClose(grad(d2)(gpu(x)), grad(d2)(x), 1e-4, 1e-5);
    await expectClose(hessian(f)(gpu(x)) as Tensor, hessian(f)(x) as Tensor, 1e-4, 1e-5);
  });

  it("a small MLP: loss and every gradient match the CPU, and an SGD step runs on the GPU", async () => {
    const w1 = randn([4, 8], { seed: 1 }).mul(0.5), b1 = randn([8], { seed: 2 }).mul(0.1);
    const w2 = randn([8, 3], { seed: 3 }).mul(0.5), b2 = randn([3], { seed: 4 }).mul(0.1);
    const x = randn([5, 4], { seed: 5 }), y = randn([5, 3], { seed: 6 });
    const loss = (w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor, x: Tensor, y: Tensor) =>
      mean(square(sigmoid(relu(matmul(x, w1).add(b1)).matmul(w2).add(b2)).sub(y)));
    const args = [w1, b1, w2, b2, x, y] as const;
    const [lc, gc] = valueAndGrad(loss, { argnums: [0, 1, 2, 3] })(...args);
    const [lg, gg] = valueAndGrad(loss, { argnums: [0, 1, 2, 3] })(...(args.map(gpu) as unknown as typeof args));
    await expectClose(lg, lc);
    for (let i = 0; i < 4; i++) await expectClose(gg[i]!, gc[i]!);
    // The same model in the imperative style, with the optimizer updating the GPU leaves in place.
    const params = [w1, b1, w2, b2].map((p) => {
      const t = gpu(p);
      t.requiresGrad = true;
      return t;
    });
    const opt = new optim.SGD(params, { lr: 0.5, momentum: 0.9 });
    const xs = gpu(x), ys = gpu(y);
    let first = 0, last = 0;
    for (let step = 0; step < 20; step++) {
      opt.zeroGrad();
      const l = loss(params[0]!, params[1]!, params[2]!, params[3]!, xs, ys);
      l.backward();
      opt.step();
      if (step === 0) first = await l.itemAsync();
      last = await l.itemAsync();
    }
    expect(params[0]!.device).toBe("webgpu");
    expect(last).toBeLessThan(first * 0.8);
  });

  it("a small CNN (conv2d with bias and padding, relu, max pooling, linear, cross-entropy with CPU labels) matches the CPU", async () => {
    const x = randn([2, 3, 9, 9], { seed: 1 }), w = randn([4, 3, 3, 3], { seed: 2 }).mul(0.3), b = randn([4], { seed: 3 });
    const w2 = randn([64, 5], { seed: 4 }).mul(0.2);
    const y = tensor([1, 3], { dtype: "int32" });
    const f = (x: Tensor, w: Tensor, b: Tensor, w2: Tensor) =>
      nn.crossEntropy(nn.maxPool2d(nn.conv2d(x, w, b, { padding: 1 }).relu(), 2).reshape([2, -1]).matmul(w2), y);
    const [lc, gc] = valueAndGrad(f, { argnums: [0, 1, 2, 3] })(x, w, b, w2);
    const [lg, gg] = valueAndGrad(f, { argnums: [0, 1, 2, 3] })(gpu(x), gpu(w), gpu(b), gpu(w2));
    await expectClose(lg, lc);
    for (let i = 0; i < 4; i++) await expectClose(gg[i]!, gc[i]!, 1e-4, 1e-5);
  });

  it("in-place updates write into GPU storage; noGrad works", async () => {
    const t = gpu(tensor([1, 2, 3]));
    t.addInPlace(1);
    expect(await t.array()).toEqual([2, 3, 4]);
    t.assign(0);
    expect(await t.array()).toEqual([0, 0, 0]);
    t.assign(gpu(tensor([5, 6, 7])));
    expect(await t.array()).toEqual([5, 6, 7]);
    const w = gpu(tensor([1, 2]));
    w.requiresGrad = true;
    noGrad(() => w.subInPlace(gpu(tensor([0.5, 0.5]))));
    expect(await w.array()).toEqual([0.5, 1.5]);
  });

  it("exp and the rest of the elementwise table run on the GPU", async () => {
    const x = tensor([-2, -0.5, 0, 0.5, 2]);
    await expectClose(exp(gpu(x)), exp(x));
  });

  it("GPU memory stays flat over 10 epochs of training (buffers freed by garbage collection), and a leak would show", async () => {
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc") as () => void;
    // Collect, then let the FinalizationRegistry callbacks (which return buffers) run.
    const settle = async (): Promise<number> => {
      for (let k = 0; k < 3; k++) {
        gc();
        await new Promise((r) => setTimeout(r, 20));
      }
      return device!.memory().bytes;
    };
    const w1 = gpu(randn([16, 32], { seed: 1 }).mul(0.3)), w2 = gpu(randn([32, 4], { seed: 2 }).mul(0.3));
    for (const w of [w1, w2]) w.requiresGrad = true;
    const opt = new optim.Adam([w1, w2], { lr: 1e-2 });
    const xs = Array.from({ length: 5 }, (_, i) => gpu(randn([8, 16], { seed: 10 + i })));
    const ys = Array.from({ length: 5 }, (_, i) => gpu(randn([8, 4], { seed: 20 + i })));
    const kept: Tensor[] = [];
    const epoch = async (leak: boolean): Promise<number> => {
      let last = 0;
      for (let b = 0; b < xs.length; b++) {
        opt.zeroGrad();
        const l = mean(square(tanh(matmul(xs[b]!, w1)).matmul(w2).sub(ys[b]!)));
        l.backward();
        opt.step();
        if (leak) kept.push(l, w1.grad!);
        last = await l.itemAsync();
      }
      return last;
    };
    const bytes: number[] = [];
    const losses: number[] = [];
    for (let e = 0; e < 10; e++) {
      losses.push(await epoch(false));
      bytes.push(await settle());
    }
    console.log(`webgpu memory: epoch 1 ${bytes[0]} B, epoch 10 ${bytes[9]} B; loss ${losses[0]!.toFixed(3)} → ${losses[9]!.toFixed(3)}`);
    expect(bytes[0]).toBeGreaterThan(0);
    expect(bytes[9]!).toBeLessThanOrEqual(bytes[0]! * 1.1);
    expect(losses[9]!).toBeLessThan(losses[0]!);
    // The control: holding on to each step's loss and gradient keeps their buffers, and the count grows.
    for (let e = 0; e < 3; e++) await epoch(true);
    expect(await settle()).toBeGreaterThan(bytes[9]! + 15 * 4);
    kept.length = 0;
  });
});
