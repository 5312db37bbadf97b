// Spawned by test/memory.test.ts as `node --expose-gc --import tsx test/scripts/train-memory.ts <mode>`.
// Trains a tiny MLP for 10 epochs on synthetic data and prints, as one JSON line, the memory in use
// (JS heap + typed-array buffers) after a full GC at the end of each epoch. If any recorded graph
// survived its backward pass, memory would grow with every step.
import { Rng, add, matmul, mean, mul, noGrad, randn, square, sub, tanh, tensor, valueAndGrad, nn, optim } from "../../src/index.js";
import type { Tensor } from "../../src/index.js";

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with node --expose-gc");
const mode = process.argv[2] ?? "functional";
const EPOCHS = 10;
const BATCHES = 20;
const N = 64; // batch size
const D = 8; // features
const H = 16; // hidden units
const C = 3; // classes

// Synthetic data, fixed for the whole run: the label is the index of the largest of three projections.
const rng = new Rng(7);
const xs: Tensor[] = [];
const ys: Tensor[] = [];
const yHot: Tensor[] = [];
for (let b = 0; b < BATCHES; b++) {
  const x = randn([N, D], { seed: 100 + b });
  const labels = new Int32Array(N);
  const hot = new Float32Array(N * C);
  for (let i = 0; i < N; i++) {
    const row = x.data.subarray(i * D, i * D + D);
    const s = [row[0]! + row[1]!, row[2]! - row[3]!, row[4]! * 0.5 + rng.next()];
    labels[i] = s.indexOf(Math.max(...s));
    hot[i * C + labels[i]!] = 1;
  }
  xs.push(x);
  ys.push(tensor(labels));
  yHot.push(tensor(hot, { shape: [N, C] }));
}

/** Functional style: parameters are plain tensors, gradients from valueAndGrad, a hand-written SGD step. */
function functional(): () => number {
  type Params = { w1: Tensor; b1: Tensor; w2: Tensor; b2: Tensor };
  let p: Params = {
    w1: mul(randn([D, H], { seed: 1 }), 0.3),
    b1: tensor(new Float32Array(H)),
    w2: mul(randn([H, C], { seed: 2 }), 0.3),
    b2: tensor(new Float32Array(C)),
  };
  const loss = (q: Params, x: Tensor, y: Tensor) => {
    const h = tanh(add(matmul(x, q.w1), q.b1));
    const out = add(matmul(h, q.w2), q.b2);
    return mean(square(sub(out, y))); // squared error against one-hot targets
  };
  const step = valueAndGrad(loss);
  return () => {
    let total = 0;
    for (let b = 0; b < BATCHES; b++) {
      const [l, g] = step(p, xs[b]!, yHot[b]!);
      total += l.item();
      p = { w1: sub(p.w1, mul(g.w1, 0.5)), b1: sub(p.b1, mul(g.b1, 0.5)), w2: sub(p.w2, mul(g.w2, 0.5)), b2: sub(p.b2, mul(g.b2, 0.5)) };
    }
    return total / BATCHES;
  };
}

/** Imperative style: requiresGrad leaves, loss.backward(), an update under noGrad (no optimizer class). */
function imperative(): () => number {
  const w1 = tensor(mul(randn([D, H], { seed: 1 }), 0.3), { requiresGrad: true });
  const w2 = tensor(mul(randn([H, C], { seed: 2 }), 0.3), { requiresGrad: true });
  let params = [w1, w2];
  return () => {
    let total = 0;
    for (let b = 0; b < BATCHES; b++) {
      const [a, c] = params as [Tensor, Tensor];
      const out = matmul(tanh(matmul(xs[b]!, a)), c);
      const l = mean(square(sub(out, yHot[b]!)));
      l.backward();
      total += l.item();
      // New leaves each step (the old ones and their graph must be collectable).
      params = noGrad(() => params.map((t) => tensor(sub(t, mul(t.grad!, 0.5)), { requiresGrad: true })));
    }
    return total / BATCHES;
  };
}

/** The library's own modules: nn.MLP, nn.crossEntropy, loss.backward() and optim.Adam. */
function modules(): () => number {
  const model = new nn.MLP([D, H, C], { activation: "tanh", rng: new Rng(3) });
  const opt = new optim.Adam(model.parameters(), { lr: 0.01 });
  return () => {
    let total = 0;
    for (let b = 0; b < BATCHES; b++) {
      opt.zeroGrad();
      const l = nn.crossEntropy(model.forward(xs[b]!), ys[b]!);
      l.backward();
      opt.step();
      total += l.item();
    }
    return total / BATCHES;
  };
}

/**
 * Control for the test itself: keeps every step's loss with its graph (retainGraph), so the heap must grow.
 * The hidden layer is wider than the others' so that what each kept graph saves (its 64×64 tanh
 * activations, 16 KB) stands out clearly against the baseline heap.
 */
function leaky(): () => number {
  const kept: Tensor[] = [];
  const wide = 64;
  const w1 = tensor(mul(randn([D, wide], { seed: 1 }), 0.3), { requiresGrad: true });
  return () => {
    for (let b = 0; b < BATCHES; b++) {
      const l = mean(square(sub(matmul(tanh(matmul(xs[b]!, w1)), mul(randn([wide, C], { seed: 2 }), 0.3)), yHot[b]!)));
      l.backward(undefined, { retainGraph: true });
      kept.push(l);
    }
    return kept[kept.length - 1]!.item();
  };
}

const modes: Record<string, () => () => number> = { functional, imperative, modules, leaky };
const epoch = modes[mode]?.();
if (epoch === undefined) throw new Error(`unknown mode ${mode}; expected one of ${Object.keys(modes).join(", ")}`);
const bytes: number[] = [];
const losses: number[] = [];
for (let e = 0; e < EPOCHS; e++) {
  losses.push(epoch());
  gc();
  gc();
  // Typed-array storage lives outside the JS heap (arrayBuffers), so count both.
  const m = process.memoryUsage();
  bytes.push(m.heapUsed + m.arrayBuffers);
}
process.stdout.write(JSON.stringify({ mode, bytes, losses }) + "\n");
