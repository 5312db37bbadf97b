// TensorFlow.js 4.22 on its pure-JS `cpu` backend or its `wasm` backend (XNNPACK), used idiomatically:
// tf.grads / tf.valueAndGrads inside tf.tidy, tf.losses.softmaxCrossEntropy, an SGD optimizer.
import { createRequire } from "node:module";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { getThreadsCount, setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import type { Case, Library } from "../adapter.js";
import { SkipError } from "../measure.js";
import { CHAIN_X0, CNN, MLP, cnnData, elementwiseInput, matmulInputs, mlpData } from "../data.js";
import type { Workload } from "../workloads.js";

function sumF64(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s;
}

function seed(): Case {
  const g = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.square(tf.add(tf.mul(a, b), c)));
  const a = tf.scalar(3), b = tf.scalar(2), c = tf.scalar(1);
  let out = [0, 0, 0, 0];
  return {
    run() {
      out = tf.tidy(() => {
        const { value, grads } = g([a, b, c]);
        return [value.dataSync()[0]!, grads[0]!.dataSync()[0]!, grads[1]!.dataSync()[0]!, grads[2]!.dataSync()[0]!];
      });
    },
    check: () => out,
  };
}

function chain(n: number): Case {
  const make = (len: number) => tf.valueAndGrad((x: tf.Tensor) => {
    for (let i = 0; i < len; i++) x = tf.add(tf.mul(tf.tanh(x), 1.0001), 0.001);
    return x;
  });
  const vg = make(n), small = make(Math.min(n, 1000));
  const x0 = tf.scalar(CHAIN_X0);
  let out = [NaN, NaN];
  return {
    run() {
      out = tf.tidy(() => {
        const { value, grad } = vg(x0);
        return [value.dataSync()[0]!, grad.dataSync()[0]!];
      });
    },
    warmup() {
      tf.tidy(() => small(x0).grad.dataSync());
    },
    check: () => out,
  };
}

function matmul(n: number): Case {
  const { a, b } = matmulInputs(n);
  const A = tf.tensor2d(a, [n, n]), B = tf.tensor2d(b, [n, n]);
  // Big products warm up at half size: same code, and one warm-up call of tfjs-cpu at 1024 costs seconds.
  const half = n >= 1024 ? matmul(n / 2) : null;
  return {
    ...(half ? { warmup: () => half.run() } : {}),
    run() {
      // Return nothing from tidy: it walks whatever it returns looking for tensors, a big typed array included.
      tf.tidy(() => { tf.matMul(A, B).dataSync(); });
    },
    check() {
      const C = tf.matMul(A, B);
      const c = C.dataSync();
      C.dispose();
      return [sumF64(c), c[0]!, c[n * n - 1]!, c[(n >> 1) * n + Math.floor(n / 3)]!];
    },
  };
}

function matmulFb(n: number): Case {
  const { a, b } = matmulInputs(n);
  const A = tf.tensor2d(a, [n, n]), B = tf.tensor2d(b, [n, n]);
  const vg = tf.valueAndGrads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.matMul(x, y)));
  let out = [NaN];
  return {
    run() {
      out = tf.tidy(() => {
        const { value, grads } = vg([A, B]);
        const ga = grads[0]!.dataSync(), gb = grads[1]!.dataSync();
        return [value.dataSync()[0]!, sumF64(ga), sumF64(gb), ga[0]!, gb[n * n - 1]!];
      });
    },
    check: () => out,
  };
}

function mlp(): Case {
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
  const params = fresh();
  const opt = tf.train.sgd(lr);
  const loss = lossOf(params);
  return {
    run() {
      const cost = opt.minimize(loss, true, [...params])!;
      cost.dataSync();
      cost.dispose();
    },
    check() {
      const p = fresh();
      const o = tf.train.sgd(lr);
      const l0 = o.minimize(lossOf(p), true, [...p])!;
      const l1 = tf.tidy(lossOf(p));
      const r = [l0.dataSync()[0]!, l1.dataSync()[0]!];
      tf.dispose([l0, l1, ...p]);
      return r;
    },
    note: "tf.losses.softmaxCrossEntropy, tf.train.sgd",
  };
}

/**
 * The bench CNN in tfjs's native NHWC layout: the conv filters are transposed to [kh, kw, in, out], and the
 * linear weight's rows are permuted from chainrule's NCHW flattening (c, h, w) to NHWC's (h, w, c). Used
 * by the cpu and wasm rows here and by the webgpu row (tfjs-webgpu.ts).
 */
export function cnnModel(): {
  fresh: () => readonly tf.Variable[];
  lossOf: (p: readonly tf.Variable[], n?: number) => () => tf.Scalar;
} {
  const { batch, side, c1, c2, k, classes, flat, mean, std } = CNN;
  const d = cnnData();
  const hw = flat / c2; // 4·4 positions after the second pool
  const w3 = new Float32Array(flat * classes);
  for (let c = 0; c < c2; c++) {
    for (let p = 0; p < hw; p++) w3.set(d.w3.subarray((c * hw + p) * classes, (c * hw + p + 1) * classes), (p * c2 + c) * classes);
  }
  const fresh = () => [
    tf.variable(tf.tidy(() => tf.transpose(tf.tensor4d(d.w1, [c1, 1, k, k]), [2, 3, 1, 0]))), tf.variable(tf.tensor1d(d.b1)),
    tf.variable(tf.tidy(() => tf.transpose(tf.tensor4d(d.w2, [c2, c1, k, k]), [2, 3, 1, 0]))), tf.variable(tf.tensor1d(d.b2)),
    tf.variable(tf.tensor2d(w3, [flat, classes])), tf.variable(tf.tensor1d(d.b3)),
  ] as const;
  /** The loss on the first n images. */
  const lossOf = (p: readonly tf.Variable[], n: number = batch) => {
    const X = tf.tensor4d(d.x.subarray(0, n * side * side), [n, side, side, 1]); // one channel: NCHW and NHWC are the same bytes
    const Y = tf.tensor2d(d.onehot.subarray(0, n * classes), [n, classes]);
    return (): tf.Scalar => {
      const x = tf.div(tf.sub(X, mean), std);
      const h1 = tf.maxPool(tf.relu(tf.add(tf.conv2d(x as tf.Tensor4D, p[0] as tf.Tensor4D, 1, "valid"), p[1]!)) as tf.Tensor4D, 2, 2, "valid");
      const h2 = tf.maxPool(tf.relu(tf.add(tf.conv2d(h1, p[2] as tf.Tensor4D, 1, "valid"), p[3]!)) as tf.Tensor4D, 2, 2, "valid");
      const logits = tf.add(tf.matMul(tf.reshape(h2, [n, flat]), p[4]!), p[5]!);
      return tf.losses.softmaxCrossEntropy(Y, logits) as tf.Scalar;
    };
  };
  return { fresh, lossOf };
}

/**
 * One Adam step of the CLI's CNN (without dropout), NHWC as cnnModel builds it. Adam is elementwise, so
 * the step and its losses are the same as in NCHW. On the cpu backend one step takes about a minute (its Conv2DBackpropFilter is a plain loop: ~47 s for
 * the second conv here), so it warms up on 16 images, times at most 3 steps, and sits out --quick.
 */
function cnn(quick: boolean): Case {
  const backend = tf.getBackend();
  for (const kernel of ["Conv2DBackpropFilter", "MaxPoolGrad"]) {
    if (!tf.getKernel(kernel, backend)) throw new SkipError(`tfjs ${tf.version.tfjs} has no ${kernel} kernel on its ${backend} backend, so it cannot train a CNN there`);
  }
  const slow = backend === "cpu";
  if (slow && quick) throw new SkipError("about a minute per step (tfjs-cpu's Conv2DBackpropFilter is a plain loop); not run under --quick, see a full run");
  const { batch, lr, beta1, beta2, eps } = CNN;
  const { fresh, lossOf } = cnnModel();
  const stepper = (n: number) => {
    const params = fresh();
    const opt = tf.train.adam(lr, beta1, beta2, eps);
    const loss = lossOf(params, n);
    return () => {
      const cost = opt.minimize(loss, true, [...params])!;
      cost.dataSync();
      cost.dispose();
    };
  };
  return {
    run: stepper(batch),
    ...(slow ? { warmup: stepper(16), maxRepeats: 3 } : {}),
    check() {
      const p = fresh();
      const o = tf.train.adam(lr, beta1, beta2, eps);
      const l0 = o.minimize(lossOf(p), true, [...p])!;
      const l1 = tf.tidy(lossOf(p));
      const r = [l0.dataSync()[0]!, l1.dataSync()[0]!];
      tf.dispose([l0, l1, ...p]);
      o.dispose();
      return r;
    },
    note: "tf.conv2d / tf.maxPool in NHWC, tf.losses.softmaxCrossEntropy, tf.train.adam (epsilon 1e-8 as PyTorch; tfjs's default is 1e-7)",
  };
}

function elementwise(n: number): Case {
  const x = tf.tensor1d(elementwiseInput(n));
  const vg = tf.valueAndGrad((v: tf.Tensor) =>
    tf.sum(tf.add(tf.mul(tf.tanh(v), tf.sigmoid(v)), tf.exp(tf.neg(tf.square(v))))));
  let out = [NaN];
  return {
    run() {
      out = tf.tidy(() => {
        const { value, grad } = vg(x);
        const g = grad.dataSync();
        return [value.dataSync()[0]!, sumF64(g), g[0]!, g[n - 1]!];
      });
    },
    check: () => out,
  };
}

/** tfjs on one backend: "cpu" or "wasm". */
export function tfjs(backend: "cpu" | "wasm"): Library {
  let threads = 1;
  return {
    name: `tfjs-${backend}`,
    describe: () => `@tensorflow/tfjs ${tf.version.tfjs}, ${backend} backend` +
      (backend === "wasm" ? (threads > 1 ? `, ${threads} threads` : " (single-threaded: tfjs has no threaded wasm in Node)") : ""),
    threads: () => threads,
    async init() {
      if (backend === "wasm") {
        const req = createRequire(import.meta.url);
        setWasmPaths(path.join(path.dirname(req.resolve("@tensorflow/tfjs-backend-wasm/package.json")), "dist") + path.sep);
      }
      if (!(await tf.setBackend(backend))) throw new Error(`tfjs: could not initialise the ${backend} backend`);
      await tf.ready();
      if (backend === "wasm" && (await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT"))) threads = getThreadsCount();
    },
    setup(w: Workload, quick: boolean): Case {
      switch (w.kind) {
        case "seed": return seed();
        case "chain": return chain(w.size);
        case "matmul": return matmul(w.size);
        case "matmulFb": return matmulFb(w.size);
        case "mlp": return mlp();
        case "cnn": return cnn(quick);
        case "elementwise": return elementwise(w.size);
        case "trainEpoch": throw new SkipError("chainrule only");
        case "perExample":
        case "perExampleLoop":
        case "jacobian": throw new SkipError("tfjs has no vmap or Jacobian transform");
      }
    },
  };
}
