// TensorFlow.js 4.22 on its WebGPU backend (@tensorflow/tfjs-backend-webgpu), in Node through the `webgpu`
// package's navigator.gpu (bench/gpu.ts). Used as tfjs documents for WebGPU: results read back with the
// asynchronous `await t.data()` (its dataSync needs an OffscreenCanvas, which Node has not), intermediate
// tensors disposed by tf.tidy / dispose. Every timed call ends with its results read back.
import * as tf from "@tensorflow/tfjs";
import type { AsyncCase, Library } from "../adapter.js";
import { SkipError } from "../measure.js";
import { adapterName, installNavigatorGpu } from "../gpu.js";
import { CHAIN_X0, CNN, MLP, elementwiseInput, matmulInputs, mlpData } from "../data.js";
import type { Workload } from "../workloads.js";
import { cnnModel } from "./tfjs.js";

function sumF64(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s;
}

/** Reads tensors back (together) and disposes them. */
async function readAll(ts: tf.Tensor[]): Promise<Float32Array[]> {
  const out = (await Promise.all(ts.map((t) => t.data()))) as Float32Array[];
  tf.dispose(ts);
  return out;
}

/** A case whose every call computes the same values: `once` is the call, its result the check. */
function repeated(once: () => Promise<number[]>, extra: Partial<AsyncCase> = {}): AsyncCase {
  let out: number[] = [];
  return { async: true, run: async () => { out = await once(); }, check: async () => (out.length ? out : once()), ...extra };
}

function seed(): AsyncCase {
  const g = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.square(tf.add(tf.mul(a, b), c)));
  const a = tf.scalar(3), b = tf.scalar(2), c = tf.scalar(1);
  return repeated(async () => {
    const { value, grads } = g([a, b, c]);
    return (await readAll([value, ...grads])).map((v) => v[0]!);
  });
}

function chain(n: number): AsyncCase {
  const make = (len: number) => tf.valueAndGrad((x: tf.Tensor) => {
    for (let i = 0; i < len; i++) x = tf.add(tf.mul(tf.tanh(x), 1.0001), 0.001);
    return x;
  });
  const vg = make(n), small = make(Math.min(n, 100));
  const x0 = tf.scalar(CHAIN_X0);
  const once = async (f: typeof vg) => {
    const { value, grad } = tf.tidy(() => f(x0));
    return (await readAll([value, grad])).map((v) => v[0]!);
  };
  return repeated(() => once(vg), { warmup: async () => { await once(small); } });
}

function matmul(n: number): AsyncCase {
  const { a, b } = matmulInputs(n);
  const A = tf.tensor2d(a, [n, n]), B = tf.tensor2d(b, [n, n]);
  return repeated(async () => {
    const [c] = await readAll([tf.matMul(A, B)]);
    return [sumF64(c!), c![0]!, c![n * n - 1]!, c![(n >> 1) * n + Math.floor(n / 3)]!];
  });
}

function matmulFb(n: number): AsyncCase {
  const { a, b } = matmulInputs(n);
  const A = tf.tensor2d(a, [n, n]), B = tf.tensor2d(b, [n, n]);
  const vg = tf.valueAndGrads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.matMul(x, y)));
  return repeated(async () => {
    const { value, grads } = tf.tidy(() => vg([A, B]));
    const [v, ga, gb] = await readAll([value, grads[0]!, grads[1]!]);
    return [v![0]!, sumF64(ga!), sumF64(gb!), ga![0]!, gb![n * n - 1]!];
  });
}

/** A training step by opt.minimize, its loss read back; the check is the loss before and after one step. */
function minimizeCase(fresh: () => readonly tf.Variable[], lossOf: (p: readonly tf.Variable[]) => () => tf.Scalar, opt: () => tf.Optimizer, note: string): AsyncCase {
  const params = fresh();
  const o = opt();
  const loss = lossOf(params);
  return {
    async: true,
    async run() {
      await readAll([o.minimize(loss, true, [...params])!]);
    },
    async check() {
      const p = fresh();
      const o1 = opt();
      const l0 = o1.minimize(lossOf(p), true, [...p])!;
      const l1 = tf.tidy(lossOf(p));
      const [a, b] = await readAll([l0, l1]);
      tf.dispose([...p]);
      o1.dispose();
      return [a![0]!, b![0]!];
    },
    note,
  };
}

function mlp(): AsyncCase {
  const { batch, input, hidden, classes, lr } = MLP;
  const d = mlpData();
  const X = tf.tensor2d(d.x, [batch, input]);
  const Y = tf.tensor2d(d.onehot, [batch, classes]);
  const fresh = () => [
    tf.variable(tf.tensor2d(d.w1, [input, hidden])), tf.variable(tf.tensor1d(d.b1)),
    tf.variable(tf.tensor2d(d.w2, [hidden, classes])), tf.variable(tf.tensor1d(d.b2)),
  ] as const;
  const lossOf = (p: readonly tf.Variable[]) => (): tf.Scalar => {
    const h = tf.relu(tf.add(tf.matMul(X, p[0]!), p[1]!));
    return tf.losses.softmaxCrossEntropy(Y, tf.add(tf.matMul(h, p[2]!), p[3]!)) as tf.Scalar;
  };
  return minimizeCase(fresh, lossOf, () => tf.train.sgd(lr), "tf.losses.softmaxCrossEntropy, tf.train.sgd");
}

function cnn(): AsyncCase {
  const { lr, beta1, beta2, eps } = CNN;
  const { fresh, lossOf } = cnnModel();
  return minimizeCase(fresh, (p) => lossOf(p), () => tf.train.adam(lr, beta1, beta2, eps),
    "tf.conv2d / tf.maxPool in NHWC, tf.losses.softmaxCrossEntropy, tf.train.adam (epsilon 1e-8 as PyTorch)");
}

function elementwise(n: number): AsyncCase {
  const x = tf.tensor1d(elementwiseInput(n));
  const vg = tf.valueAndGrad((v: tf.Tensor) => tf.sum(tf.add(tf.mul(tf.tanh(v), tf.sigmoid(v)), tf.exp(tf.neg(tf.square(v))))));
  return repeated(async () => {
    const { value, grad } = tf.tidy(() => vg(x));
    const [v, g] = await readAll([value, grad]);
    return [v![0]!, sumF64(g!), g![0]!, g![n - 1]!];
  });
}

/** tfjs on its webgpu backend. */
export function tfjsWebgpu(): Library {
  let adapter: string | null = null;
  return {
    name: "tfjs-webgpu",
    describe: () => `@tensorflow/tfjs ${tf.version.tfjs}, webgpu backend (@tensorflow/tfjs-backend-webgpu), navigator.gpu from the webgpu package (Dawn)`,
    threads: () => 1,
    adapter: () => adapter,
    async init() {
      adapter = await adapterName(); // skips the row, saying why, when there is no adapter
      await installNavigatorGpu();
      await import("@tensorflow/tfjs-backend-webgpu"); // registers the backend; it reads navigator.gpu when chosen
      if (!(await tf.setBackend("webgpu"))) throw new SkipError("tfjs: the webgpu backend did not initialise (tf.setBackend(\"webgpu\") returned false)");
      await tf.ready();
    },
    setup(w: Workload): AsyncCase {
      switch (w.kind) {
        case "seed": return seed();
        case "chain": return chain(w.size);
        case "matmul": return matmul(w.size);
        case "matmulFb": return matmulFb(w.size);
        case "mlp": return mlp();
        case "cnn": return cnn();
        case "elementwise": return elementwise(w.size);
        case "trainEpoch": throw new SkipError("chainrule only");
        case "perExample":
        case "perExampleLoop":
        case "jacobian": throw new SkipError("tfjs has no vmap or Jacobian transform");
      }
    },
  };
}
