// chainrule with each workload's tensors on the GPU (x.to("webgpu")), through its public surface as built
// (dist/). Every timed call ends as a user's must: the results awaited back (itemAsync / dataAsync), so the
// time includes the read-back and all the GPU work queued before it. The same workloads as libs/chainrule.ts.
import * as chainruleModule from "../../dist/index.js";
import {
  add, exp, gather, grad, initWebGPU, jacrev, matmul, mul, neg, relu, scalar, sigmoid, square, stack, sub, sum, tanh, tensor,
  valueAndGrad, vmap, nn, data, optim, type Tensor, type WebGPUDevice,
} from "../../dist/index.js";
import { CHAINRULE_WEBGPU, type AsyncCase, type Library } from "../adapter.js";
import { SkipError } from "../measure.js";
import { CHAIN_X0, CNN, MLP, cnnData, w3OutIn, elementwiseInput, jacobianInputs, matmulInputs, mlpData } from "../data.js";
import type { Workload } from "../workloads.js";

const gpu = (t: Tensor): Tensor => t.to("webgpu");

function sumF64(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s;
}

/** Reads scalars back together (one wait for all). */
const items = (...ts: Tensor[]): Promise<number[]> => Promise.all(ts.map((t) => t.itemAsync()));

/** The case of a workload whose every call computes the same values: `once` is the call, its result the check. */
function repeated(once: () => Promise<number[]>, extra: Partial<AsyncCase> = {}): AsyncCase {
  let out: number[] = [];
  return { async: true, run: async () => { out = await once(); }, check: async () => (out.length ? out : once()), ...extra };
}

/** jit from this build, or a skip for a build without it. */
function jitOf<F extends (...args: never[]) => unknown>(f: F): F {
  const jit = (chainruleModule as { jit?: (g: F) => F }).jit;
  if (typeof jit !== "function") throw new SkipError("this build of chainrule has no jit()");
  return jit(f);
}

function seed(): AsyncCase {
  const vg = valueAndGrad((a: Tensor, b: Tensor, c: Tensor) => square(add(mul(a, b), c)), { argnums: [0, 1, 2] });
  const a = gpu(scalar(3)), b = gpu(scalar(2)), c = gpu(scalar(1));
  return repeated(async () => {
    const [v, [da, db, dc]] = vg(a, b, c);
    return items(v, da!, db!, dc!);
  });
}

const chainFn = (n: number) => (x: Tensor): Tensor => {
  for (let i = 0; i < n; i++) x = add(mul(tanh(x), 1.0001), 0.001);
  return x;
};

function chain(n: number, staged: Workload["staged"]): AsyncCase {
  const x0 = gpu(scalar(CHAIN_X0));
  const make = (len: number) => (staged ? jitOf(valueAndGrad(chainFn(len))) : valueAndGrad(chainFn(len)));
  const once = async (vg: (x: Tensor) => [Tensor, Tensor]) => items(...vg(x0));
  if (staged === "first") return repeated(() => once(make(n)), { maxRepeats: 10, note: "tracing + compiling + running, per call" });
  const vg = make(n);
  // A short chain warms the kernels up; under jit the warm-up is the timed function (its first call compiles).
  const small = staged ? vg : make(Math.min(n, 100));
  return repeated(() => once(vg), { warmup: async () => { await once(small); } });
}

function matmulCase(n: number): AsyncCase {
  const { a, b } = matmulInputs(n);
  const A = gpu(tensor(a, { shape: [n, n] })), B = gpu(tensor(b, { shape: [n, n] }));
  return repeated(async () => {
    const c = await matmul(A, B).dataAsync();
    return [sumF64(c), c[0]!, c[n * n - 1]!, c[(n >> 1) * n + Math.floor(n / 3)]!];
  });
}

function matmulFb(n: number): AsyncCase {
  const { a, b } = matmulInputs(n);
  const A = gpu(tensor(a, { shape: [n, n] })), B = gpu(tensor(b, { shape: [n, n] }));
  const vg = valueAndGrad((x: Tensor, y: Tensor) => sum(matmul(x, y)), { argnums: [0, 1] });
  return repeated(async () => {
    const [v, [ga, gb]] = vg(A, B);
    const [l, da, db] = await Promise.all([v.itemAsync(), ga!.dataAsync(), gb!.dataAsync()]);
    return [l, sumF64(da), sumF64(db), da[0]!, db[n * n - 1]!];
  });
}

function mlp(staged: boolean): AsyncCase {
  const { batch, input, hidden, classes, lr } = MLP;
  const d = mlpData();
  const X = gpu(tensor(d.x, { shape: [batch, input] }));
  const labels = gpu(tensor(d.labels, { shape: [batch] }));
  const loss = (w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor): Tensor =>
    nn.crossEntropy(add(matmul(relu(add(matmul(X, w1), b1)), w2), b2), labels);
  const vg = valueAndGrad(loss, { argnums: [0, 1, 2, 3] });
  const fresh = (): Tensor[] => [
    tensor(d.w1, { shape: [input, hidden] }), tensor(d.b1, { shape: [hidden] }),
    tensor(d.w2, { shape: [hidden, classes] }), tensor(d.b2, { shape: [classes] }),
  ].map(gpu);
  const update = (w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor): [Tensor, Tensor[]] => {
    const [v, g] = vg(w1, b1, w2, b2);
    return [v, [w1, b1, w2, b2].map((w, i) => sub(w, mul(g[i]!, lr)))];
  };
  const stepFn = staged ? jitOf(update) : update;
  let params = fresh();
  return {
    async: true,
    async run() {
      const [v, next] = stepFn(params[0]!, params[1]!, params[2]!, params[3]!);
      await v.itemAsync(); // the loss a training loop prints; the update stays on the GPU
      params = next;
    },
    async check() {
      const p = fresh();
      const [v, p1] = stepFn(p[0]!, p[1]!, p[2]!, p[3]!);
      return items(v, loss(p1[0]!, p1[1]!, p1[2]!, p1[3]!));
    },
    note: `nn.crossEntropy with the labels on the GPU${staged ? ", the whole step under jit" : ""}`,
  };
}

/** One Adam step of the CLI's CNN in eval mode (no dropout), as libs/chainrule.ts, on the GPU. */
function cnn(): AsyncCase {
  const { batch, side, c1, c2, k, classes, flat, lr, beta1, beta2, eps } = CNN;
  const d = cnnData();
  const model = nn.mnistModel("cnn").eval();
  const X = gpu(tensor(d.x, { shape: [batch, side * side] }));
  const labels = gpu(tensor(d.labels, { shape: [batch] }));
  const fresh = (): nn.StateDict => Object.fromEntries(Object.entries({
    "2.weight": tensor(d.w1, { shape: [c1, 1, k, k] }), "2.bias": tensor(d.b1, { shape: [c1] }),
    "5.weight": tensor(d.w2, { shape: [c2, c1, k, k] }), "5.bias": tensor(d.b2, { shape: [c2] }),
    "10.weight": tensor(w3OutIn(d), { shape: [classes, flat] }), "10.bias": tensor(d.b3, { shape: [classes] }),
  }).map(([name, t]) => [name, gpu(t)]));
  const loss = (p: nn.StateDict): Tensor => nn.crossEntropy(model.apply(p, X), labels);
  const vg = valueAndGrad(loss);
  const adam = optim.adam({ lr, betas: [beta1, beta2], eps });
  let params = fresh();
  let state = adam.init(params);
  return {
    async: true,
    async run() {
      const [v, g] = vg(params);
      ({ params, state } = adam.update(params, g, state));
      await v.itemAsync();
    },
    async check() {
      const p0 = fresh();
      const [v, g] = vg(p0);
      const { params: p1 } = adam.update(p0, g, adam.init(p0));
      return items(v, loss(p1));
    },
    note: "nn.mnistModel(\"cnn\") in eval mode, nn.crossEntropy, optim.adam; images, labels, parameters and Adam's state on the GPU",
  };
}

function elementwise(n: number, staged: boolean): AsyncCase {
  const x = gpu(tensor(elementwiseInput(n)));
  const f = (v: Tensor): Tensor => sum(add(mul(tanh(v), sigmoid(v)), exp(neg(square(v)))));
  const vg = staged ? jitOf(valueAndGrad(f)) : valueAndGrad(f);
  return repeated(async () => {
    const [v, g] = vg(x);
    const [fv, gd] = await Promise.all([v.itemAsync(), g.dataAsync()]);
    return [fv, sumF64(gd), gd[0]!, gd[n - 1]!];
  });
}

type Params = { w1: Tensor; b1: Tensor; w2: Tensor; b2: Tensor };

/** Per-example gradients of the bench MLP on the GPU: vmap(grad(loss)) or a loop of 128 grad calls. */
function perExample(loop: boolean): AsyncCase {
  const { batch, input, hidden, classes } = MLP;
  const d = mlpData();
  const X = gpu(tensor(d.x, { shape: [batch, input] }));
  const Y = gpu(tensor(d.labels, { shape: [batch] }));
  const params: Params = {
    w1: gpu(tensor(d.w1, { shape: [input, hidden] })), b1: gpu(tensor(d.b1, { shape: [hidden] })),
    w2: gpu(tensor(d.w2, { shape: [hidden, classes] })), b2: gpu(tensor(d.b2, { shape: [classes] })),
  };
  const loss = (p: Params, x: Tensor, y: Tensor): Tensor => nn.crossEntropy(add(matmul(relu(add(matmul(x, p.w1), p.b1)), p.w2), p.b2), y);
  const g = grad(loss);
  const batched = vmap(g, { inAxes: [null, 0, 0] });
  const examples = Array.from({ length: batch }, (_, i) => [gather(X, i), gather(Y, i)] as const);
  /** Squared norms ‖g_i‖² per example, [B], still on the GPU. */
  const norms = (): Tensor => {
    if (!loop) {
      const gb = batched(params, X, Y);
      return [gb.w1, gb.b1, gb.w2, gb.b2].map((l) => sum(square(l), Array.from({ length: l.rank - 1 }, (_, k) => k + 1))).reduce((a, c) => add(a, c));
    }
    return stack(examples.map(([x, y]) => {
      const gi = g(params, x, y);
      return [gi.w1, gi.b1, gi.w2, gi.b2].map((l) => sum(square(l))).reduce((a, c) => add(a, c));
    }));
  };
  return {
    async: true,
    async run() {
      if (loop) await Promise.all(examples.map(([x, y]) => g(params, x, y).w1.dataAsync()));
      else await batched(params, X, Y).w1.dataAsync();
    },
    async check() {
      const n = await norms().dataAsync();
      return [sumF64(n), n[0]!, n[n.length - 1]!];
    },
    note: loop ? "a loop of 128 grad calls" : "vmap(grad(loss), { inAxes: [null, 0, 0] })",
  };
}

function jacobian(n: number): AsyncCase {
  const { w, b, x } = jacobianInputs(n);
  const W = gpu(tensor(w, { shape: [n, n] })), B = gpu(tensor(b)), X = gpu(tensor(x));
  const jac = jacrev((v: Tensor): Tensor => tanh(add(matmul(W, v), B)));
  return repeated(async () => {
    const j = await jac(X).dataAsync();
    let total = 0, trace = 0;
    for (let i = 0; i < j.length; i++) total += j[i]!;
    for (let i = 0; i < n; i++) trace += j[i * n + i]!;
    return [total, j[0]!, j[n * n - 1]!, trace];
  }, { note: "jacrev = vmap of the pullback" });
}

/** One epoch of `chainrule train mnist --device webgpu --epochs 1` (trainClassifierOnDevice), test evaluation included. */
function trainEpoch(): AsyncCase {
  const split = data.mnistSplit({ seed: 0 });
  const small = {
    train: data.subset(split.train, Int32Array.from({ length: 256 }, (_, i) => i)),
    test: data.subset(split.test, Int32Array.from({ length: 128 }, (_, i) => i)),
  };
  const epoch = async (d: { train: data.Dataset; test: data.Dataset }) =>
    (await nn.trainClassifierOnDevice(nn.mnistModel("mlp", { seed: 0 }), d, { epochs: 1, batchSize: 128, optimizer: optim.adam({ lr: 1e-3 }), seed: 0 }))[0]!;
  return repeated(async () => {
    const s = await epoch(split);
    return [s.trainLoss, s.testAccuracy];
  }, { warmup: async () => { await epoch(small); } });
}

/**
 * chainrule on the webgpu device. The CPU backend (for what stays on the CPU: index checks, the data
 * loader) is chainrule's automatic choice; CHAINRULE_BACKEND is not set for this row.
 */
export function chainruleWebgpu(): Library {
  let device: WebGPUDevice | null = null;
  return {
    name: CHAINRULE_WEBGPU,
    async init() {
      try {
        device = await initWebGPU();
      } catch (e) {
        throw new SkipError(e instanceof Error ? e.message : String(e));
      }
    },
    describe: () => `chainrule (this repo, dist/) on Node ${process.version}, webgpu device (Dawn, the webgpu package)`,
    adapter: () => device?.adapter ?? null,
    threads: () => 1,
    setup(w: Workload): AsyncCase {
      switch (w.kind) {
        case "seed": return seed();
        case "chain": return chain(w.size, w.staged);
        case "matmul": return matmulCase(w.size);
        case "matmulFb": return matmulFb(w.size);
        case "mlp": return mlp(w.staged !== undefined);
        case "cnn": return cnn();
        case "elementwise": return elementwise(w.size, w.staged !== undefined);
        case "trainEpoch": return trainEpoch();
        case "perExample": return perExample(false);
        case "perExampleLoop": return perExample(true);
        case "jacobian": return jacobian(w.size);
      }
    },
  };
}
