// chainrule, through its public surface only, as built (dist/): what users run, with the matmul helper
// thread's script beside it. `npm run bench` builds first. One library per backend: the environment
// variable CHAINRULE_BACKEND (set by bench/run.ts in the child) forces blas, wasm or js.
import * as chainruleModule from "../../dist/index.js";
import {
  add, exp, matmul, mul, neg, relu, scalar, sigmoid, square, sub, sum, tanh, tensor, valueAndGrad, vjp, nn, data, optim,
  getThreads, type Tensor,
} from "../../dist/index.js";
import { jacobian, perExample } from "./chainrule-batched.js";
import { chainruleLib, type Case, type ChainruleBackend, type Library } from "../adapter.js";
import { SkipError } from "../measure.js";
import { CHAIN_X0, CNN, MLP, cnnData, elementwiseInput, matmulInputs, mlpData } from "../data.js";
import type { Workload } from "../workloads.js";

function sumF64(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s;
}

function seed(): Case {
  const L = (a: Tensor, b: Tensor, c: Tensor) => square(add(mul(a, b), c));
  const vg = valueAndGrad(L, { argnums: [0, 1, 2] });
  const a = scalar(3), b = scalar(2), c = scalar(1);
  let out = [0, 0, 0, 0];
  return {
    run() {
      const [v, [da, db, dc]] = vg(a, b, c);
      out = [v.item(), da.item(), db.item(), dc.item()];
    },
    check: () => out,
  };
}

function chainFn(n: number) {
  return (x: Tensor): Tensor => {
    for (let i = 0; i < n; i++) x = add(mul(tanh(x), 1.0001), 0.001);
    return x;
  };
}

let keepAlive: unknown = null;

function chain(n: number): Case {
  const vg = valueAndGrad(chainFn(n));
  const small = valueAndGrad(chainFn(Math.min(n, 10_000)));
  const x0 = scalar(CHAIN_X0);
  let out = [NaN, NaN];
  return {
    run() {
      const [v, g] = vg(x0);
      out = [v.item(), g.item()];
    },
    warmup() {
      small(x0);
    },
    check: () => out,
    graphMemory() {
      // Heap held by the recorded graph: the forward pass under vjp keeps every node alive in the pullback.
      const gc = (globalThis as { gc?: () => void }).gc!;
      gc();
      const before = process.memoryUsage().heapUsed;
      const [, pullback] = vjp(chainFn(n), x0);
      keepAlive = pullback; // the pullback holds the graph; keep it reachable through the measurement
      gc();
      const bytes = process.memoryUsage().heapUsed - before;
      keepAlive = null;
      return { bytes, nodes: 3 * n };
    },
  };
}

function matmulCase(n: number): Case {
  const { a, b } = matmulInputs(n);
  const A = tensor(a, { shape: [n, n] }), B = tensor(b, { shape: [n, n] });
  let C: Tensor | null = null;
  // Big products warm up at half size: same code, and one warm-up call of tfjs-cpu at 1024 costs seconds.
  const half = n >= 1024 ? matmulCase(n / 2) : null;
  return {
    ...(half ? { warmup: () => half.run() } : {}),
    run() {
      C = matmul(A, B);
    },
    check() {
      const c = matmul(A, B).data;
      return [sumF64(c), c[0]!, c[n * n - 1]!, c[(n >> 1) * n + Math.floor(n / 3)]!];
    },
    dispose() {
      C = null;
    },
  };
}

function matmulFb(n: number): Case {
  const { a, b } = matmulInputs(n);
  const A = tensor(a, { shape: [n, n] }), B = tensor(b, { shape: [n, n] });
  const vg = valueAndGrad((x: Tensor, y: Tensor) => sum(matmul(x, y)), { argnums: [0, 1] });
  let out = [NaN];
  return {
    run() {
      const [v, [ga, gb]] = vg(A, B);
      out = [v.item(), sumF64(ga.data), sumF64(gb.data), ga.data[0]!, gb.data[n * n - 1]!];
    },
    check: () => out,
  };
}

function mlp(): Case {
  const { batch, input, hidden, classes, lr } = MLP;
  const d = mlpData();
  const X = tensor(d.x, { shape: [batch, input] });
  const labels = tensor(d.labels, { shape: [batch] });
  const loss = (w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor): Tensor => {
    const h = relu(add(matmul(X, w1), b1));
    return nn.crossEntropy(add(matmul(h, w2), b2), labels);
  };
  const vg = valueAndGrad(loss, { argnums: [0, 1, 2, 3] });
  const fresh = (): Tensor[] => [
    tensor(d.w1, { shape: [input, hidden] }), tensor(d.b1, { shape: [hidden] }),
    tensor(d.w2, { shape: [hidden, classes] }), tensor(d.b2, { shape: [classes] }),
  ];
  const step = (p: Tensor[]): [number, Tensor[]] => {
    const [v, g] = vg(p[0]!, p[1]!, p[2]!, p[3]!);
    return [v.item(), p.map((w, i) => sub(w, mul(g[i]!, lr)))];
  };
  let params = fresh();
  return {
    run() {
      params = step(params)[1];
    },
    check() {
      const [l0, p1] = step(fresh());
      return [l0, loss(p1[0]!, p1[1]!, p1[2]!, p1[3]!).item()];
    },
    note: "nn.crossEntropy (fused softmax cross-entropy)",
  };
}

function elementwise(n: number): Case {
  const x = tensor(elementwiseInput(n));
  const f = (v: Tensor): Tensor => sum(add(mul(tanh(v), sigmoid(v)), exp(neg(square(v)))));
  const vg = valueAndGrad(f);
  let out = [NaN];
  return {
    run() {
      const [v, g] = vg(x);
      const gd = g.data;
      out = [v.item(), sumF64(gd), gd[0]!, gd[n - 1]!];
    },
    check: () => out,
  };
}

/**
 * One Adam step of the CLI's CNN (`nn.mnistModel("cnn")`, the model `chainrule train mnist --model cnn`
 * trains) in eval mode, which leaves its dropout out, with the bench's initial weights loaded; the step
 * as `nn.trainClassifier` takes it: valueAndGrad over the parameter object, then the functional Adam.
 */
function cnn(): Case {
  const { batch, side, c1, c2, k, classes, flat, lr, beta1, beta2, eps } = CNN;
  const d = cnnData();
  const model = nn.mnistModel("cnn").eval();
  const X = tensor(d.x, { shape: [batch, side * side] }); // the model takes flat images and reshapes them
  const labels = tensor(d.labels, { shape: [batch] });
  const fresh = (): nn.StateDict => ({
    "2.weight": tensor(d.w1, { shape: [c1, 1, k, k] }), "2.bias": tensor(d.b1, { shape: [c1] }),
    "5.weight": tensor(d.w2, { shape: [c2, c1, k, k] }), "5.bias": tensor(d.b2, { shape: [c2] }),
    "10.weight": tensor(d.w3, { shape: [flat, classes] }), "10.bias": tensor(d.b3, { shape: [classes] }),
  });
  const loss = (p: nn.StateDict): Tensor => nn.crossEntropy(model.apply(p, X), labels);
  const vg = valueAndGrad(loss);
  const adam = optim.adam({ lr, betas: [beta1, beta2], eps });
  let params = fresh();
  let state = adam.init(params);
  return {
    run() {
      const [v, g] = vg(params);
      v.item();
      ({ params, state } = adam.update(params, g, state));
    },
    check() {
      const p0 = fresh();
      const [v, g] = vg(p0);
      const { params: p1 } = adam.update(p0, g, adam.init(p0));
      return [v.item(), loss(p1).item()];
    },
    note: "nn.mnistModel(\"cnn\") in eval mode, nn.crossEntropy, optim.adam",
  };
}

/**
 * One epoch of `chainrule train mnist --epochs 1` (its defaults): the MLP 784-256-10 on the seeded
 * 8,000/2,000 split, Adam lr 1e-3, batch 128, then the test-set evaluation. A fresh model per call.
 * Loading the digits (21 MB of JSON) happens once, outside the timing.
 */
function trainEpoch(): Case {
  const split = data.mnistSplit({ seed: 0 });
  const small = {
    train: data.subset(split.train, Int32Array.from({ length: 512 }, (_, i) => i)),
    test: data.subset(split.test, Int32Array.from({ length: 256 }, (_, i) => i)),
  };
  const epoch = (d: { train: data.Dataset; test: data.Dataset }) =>
    nn.trainClassifier(nn.mnistModel("mlp", { seed: 0 }), d, { epochs: 1, batchSize: 128, optimizer: optim.adam({ lr: 1e-3 }), seed: 0 })[0]!;
  let out = [NaN, NaN];
  return {
    run() {
      const s = epoch(split);
      out = [s.trainLoss, s.testAccuracy];
    },
    warmup() {
      epoch(small);
    },
    check: () => out,
  };
}

/** What `getBackend()` returns (typed here so that the bench also builds against a dist/ without it). */
interface BackendInfo {
  name: string;
  detail: string;
  threads: number;
  simd: boolean;
  libraryPath?: string;
  libraryVersion?: string;
}

/**
 * chainrule with one backend forced through CHAINRULE_BACKEND. A build without `getBackend()` (before the
 * backend boundary) cannot choose: it runs as `js`, its only code path, and the others are skipped.
 */
export function chainrule(backend: ChainruleBackend): Library {
  const getBackend = (chainruleModule as { getBackend?: () => BackendInfo }).getBackend;
  let info: BackendInfo | null = null;
  return {
    name: chainruleLib(backend),
    async init() {
      const env = process.env["CHAINRULE_BACKEND"];
      if (env !== backend) throw new Error(`chainrule[${backend}] needs CHAINRULE_BACKEND=${backend} in its environment, got ${env ?? "nothing"}`);
      if (typeof getBackend !== "function") {
        if (backend !== "js") throw new SkipError("this build of chainrule has no getBackend(): no backend to choose; chainrule[js] runs it as it is");
        return;
      }
      try {
        info = getBackend();
      } catch (e) {
        throw new SkipError(e instanceof Error ? e.message : String(e));
      }
      if (info.name !== backend) throw new SkipError(`CHAINRULE_BACKEND=${backend} not in effect: getBackend() reports ${info.name} (${info.detail})`);
    },
    describe() {
      const pkg = `chainrule (this repo, dist/) on Node ${process.version}`;
      if (!info) return `${pkg}, pure TypeScript (no getBackend()), ${getThreads()} thread${getThreads() === 1 ? "" : "s"} for large matrix products`;
      const lib = [info.libraryVersion, info.libraryPath].filter((v): v is string => !!v && !info!.detail.includes(v)).join(" from ");
      return `${pkg}, backend ${info.name}: ${info.detail}${lib ? ` (${lib})` : ""}; ${info.threads} thread${info.threads === 1 ? "" : "s"} for large products, SIMD ${info.simd ? "yes" : "no"}`;
    },
    threads: () => info?.threads ?? getThreads(),
    setup(w: Workload): Case {
      switch (w.kind) {
        case "seed": return seed();
        case "chain": return chain(w.size);
        case "matmul": return matmulCase(w.size);
        case "matmulFb": return matmulFb(w.size);
        case "mlp": return mlp();
        case "cnn": return cnn();
        case "elementwise": return elementwise(w.size);
        case "trainEpoch": return trainEpoch();
        case "perExample": return perExample(false);
        case "perExampleLoop": return perExample(true);
        case "jacobian": return jacobian(w.size);
      }
    },
  };
}
