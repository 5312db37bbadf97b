// jax-js 0.1 on its wasm device, eager (no jit), following its ownership rules: every function
// consumes its array arguments, so arrays used again are passed as `.ref`.
import * as jax from "@jax-js/jax";
import type { Case, Library } from "../adapter.js";
import { SkipError } from "../measure.js";
import { CHAIN_X0, MLP, elementwiseInput, matmulInputs, mlpData } from "../data.js";
import type { Workload } from "../workloads.js";

const { numpy: np, nn, tree } = jax;
type Arr = jax.Array;

function sumF64(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s;
}

/** Reads a scalar; `dataSync` consumes the array (releases it). */
function item(x: Arr): number {
  return Number(x.dataSync()[0]!);
}

/** Reads an array (consuming it): its float64 sum, first and last element, taken before any other op runs. */
function read(x: Arr): [number, number, number] {
  const v = x.dataSync();
  return [sumF64(v), Number(v[0]!), Number(v[v.length - 1]!)];
}

function f32(data: Float32Array, shape: number[]): Arr {
  return np.array(data).reshape(shape);
}

function seed(): Case {
  const vg = jax.valueAndGrad((a: Arr, b: Arr, c: Arr) => np.square(a.mul(b).add(c)), { argnums: [0, 1, 2] });
  const a = np.array(3), b = np.array(2), c = np.array(1);
  let out = [0, 0, 0, 0];
  return {
    run() {
      const [v, [da, db, dc]] = vg(a.ref, b.ref, c.ref);
      out = [item(v), item(da), item(db), item(dc)];
    },
    check: () => out,
  };
}

function chain(n: number): Case {
  const make = (len: number) => jax.valueAndGrad((x: Arr) => {
    for (let i = 0; i < len; i++) x = np.tanh(x).mul(1.0001).add(0.001);
    return x;
  });
  // jax-js takes seconds for even 100 steps here, so the warm-up chain is short.
  const vg = make(n), small = make(Math.min(n, 10));
  const x0 = np.array(CHAIN_X0);
  let out = [NaN, NaN];
  return {
    run() {
      const [v, g] = vg(x0.ref);
      out = [item(v), item(g)];
    },
    warmup() {
      const [v, g] = small(x0.ref);
      item(v);
      item(g);
    },
    check: () => out,
  };
}

function matmul(n: number): Case {
  const { a, b } = matmulInputs(n);
  const A = f32(a, [n, n]), B = f32(b, [n, n]);
  return {
    run() {
      np.matmul(A.ref, B.ref).dataSync();
    },
    check() {
      const c = np.matmul(A.ref, B.ref).dataSync();
      return [sumF64(c), c[0]!, c[n * n - 1]!, c[(n >> 1) * n + Math.floor(n / 3)]!].map(Number);
    },
  };
}

function matmulFb(n: number): Case {
  const { a, b } = matmulInputs(n);
  const A = f32(a, [n, n]), B = f32(b, [n, n]);
  const vg = jax.valueAndGrad((x: Arr, y: Arr) => np.matmul(x, y).sum(), { argnums: [0, 1] });
  let out = [NaN];
  return {
    run() {
      const [v, [ga, gb]] = vg(A.ref, B.ref);
      const da = read(ga), db = read(gb);
      out = [item(v), da[0], db[0], da[1], db[2]];
    },
    check: () => out,
  };
}

type Params = { w1: Arr; b1: Arr; w2: Arr; b2: Arr };

function mlp(): Case {
  const { batch, input, hidden, classes, lr } = MLP;
  const d = mlpData();
  const X = f32(d.x, [batch, input]);
  const Y = f32(d.onehot, [batch, classes]);
  const fresh = (): Params => ({
    w1: f32(d.w1, [input, hidden]), b1: np.array(d.b1), w2: f32(d.w2, [hidden, classes]), b2: np.array(d.b2),
  });
  const loss = (p: Params, x: Arr, y: Arr): Arr => {
    const h = nn.relu(np.matmul(x, p.w1).add(p.b1));
    const logp = nn.logSoftmax(np.matmul(h, p.w2).add(p.b2), -1);
    return logp.mul(y).sum(-1).mean().neg();
  };
  const vg = jax.valueAndGrad(loss);
  const step = (p: Params): [Arr, Params] => {
    const [v, g] = vg(tree.ref(p), X.ref, Y.ref);
    const next = tree.map((w: Arr, gi: Arr) => w.sub(gi.mul(lr)), p, g) as Params;
    return [v, next];
  };
  let params = fresh();
  return {
    run() {
      const [v, next] = step(params);
      item(v);
      // The update is realised lazily by the next step's loss, so its cost lands in that step's timing.
      params = next;
    },
    check() {
      const [v, p1] = step(fresh());
      return [item(v), item(loss(p1, X.ref, Y.ref))];
    },
    note: "nn.logSoftmax written as a loss, eager (no jit)",
  };
}

function elementwise(n: number): Case {
  const x = np.array(elementwiseInput(n));
  const vg = jax.valueAndGrad((v: Arr) =>
    np.tanh(v.ref).mul(nn.sigmoid(v.ref)).add(np.exp(np.square(v).neg())).sum());
  let out = [NaN];
  return {
    run() {
      const [v, g] = vg(x.ref);
      const gd = read(g);
      out = [item(v), ...gd];
    },
    check: () => out,
  };
}

export const jaxWasm: Library = {
  name: "jax-wasm",
  describe: () => "@jax-js/jax 0.1.25, wasm device, eager",
  async init() {
    const devices = await jax.init("wasm");
    if (!devices.includes("wasm")) throw new Error(`jax-js: wasm device unavailable (got ${devices.join(", ")})`);
    jax.defaultDevice("wasm");
  },
  setup(w: Workload): Case {
    switch (w.kind) {
      case "seed": return seed();
      case "chain": return chain(w.size);
      case "matmul": return matmul(w.size);
      case "matmulFb": return matmulFb(w.size);
      case "mlp": return mlp();
      case "elementwise": return elementwise(w.size);
      case "trainEpoch": throw new SkipError("chainrule only");
    }
  },
};
