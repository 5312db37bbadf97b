// jax-js 0.1 on its wasm device, eager or under `jit` (its fastest mode: the traced program is compiled
// once per input shapes, with fused kernels), or on its webgpu device under jit, following its ownership
// rules: every function, a jitted one included, consumes its array arguments, so arrays used again are
// passed as `.ref`. Results are read back through `pull`: dataSync on wasm; on webgpu the asynchronous
// `await x.data()` (its dataSync needs an OffscreenCanvas, which Node has not), so every case is async.
import * as jaxModule from "@jax-js/jax";
import type { AsyncCase, Library } from "../adapter.js";
import { jacobianJax, perExampleJax } from "./jax-batched.js";
import { SkipError } from "../measure.js";
import { adapterName, installNavigatorGpu } from "../gpu.js";
import { CHAIN_X0, CNN, MLP, cnnData, elementwiseInput, matmulInputs, mlpData } from "../data.js";
import type { Workload } from "../workloads.js";

const { numpy: np, nn, tree, lax } = jaxModule;
type Arr = jaxModule.Array;
type Mode = "eager" | "jit";
/** Reads an array back to JavaScript, consuming it (releasing its memory). */
export type Pull = (x: Arr) => Promise<ArrayLike<number | bigint>>;
/** How each device reads: synchronously on wasm (wrapped), asynchronously on webgpu. */
export const PULL: Readonly<Record<"wasm" | "webgpu", Pull>> = {
  wasm: async (x) => x.dataSync(),
  webgpu: (x) => x.data(),
};

/** The function as the mode runs it: unchanged (eager), or compiled by `jax.jit` (same signature and ownership rules). */
function stage<F extends (...args: any[]) => jaxModule.JsTree<Arr>>(mode: Mode, f: F): F {
  return mode === "jit" ? (jaxModule.jit(f) as unknown as F) : f;
}

function sumF64(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s;
}

/** Reads scalars (consuming them). */
const items = (pull: Pull, ...xs: Arr[]): Promise<number[]> => Promise.all(xs.map(async (x) => Number((await pull(x))[0]!)));

/** Reads an array (consuming it): its float64 sum, first and last element. */
async function read(pull: Pull, x: Arr): Promise<[number, number, number]> {
  const v = await pull(x);
  return [sumF64(Array.from(v, Number)), Number(v[0]!), Number(v[v.length - 1]!)];
}

/** A case whose every call computes the same values: `once` is the call, its result the check. */
function repeated(once: () => Promise<number[]>, extra: Partial<AsyncCase> = {}): AsyncCase {
  let out: number[] = [];
  return { async: true, run: async () => { out = await once(); }, check: async () => (out.length ? out : once()), ...extra };
}

function f32(data: Float32Array, shape: number[]): Arr {
  return np.array(data).reshape(shape);
}

function seed(mode: Mode, pull: Pull): AsyncCase {
  const vg = stage(mode, jaxModule.valueAndGrad((a: Arr, b: Arr, c: Arr) => np.square(a.mul(b).add(c)), { argnums: [0, 1, 2] }));
  const a = np.array(3), b = np.array(2), c = np.array(1);
  return repeated(async () => {
    const [v, [da, db, dc]] = vg(a.ref, b.ref, c.ref);
    return items(pull, v, da, db, dc);
  });
}

function chain(mode: Mode, pull: Pull, n: number): AsyncCase {
  const make = (len: number) => stage(mode, jaxModule.valueAndGrad((x: Arr) => {
    for (let i = 0; i < len; i++) x = np.tanh(x).mul(1.0001).add(0.001);
    return x;
  }));
  // jax-js takes seconds for even 100 steps here, so the warm-up chain is short. Under jit the warm-up
  // is the timed function itself: its first call compiles it, and that must not land in a timed call.
  const vg = make(n), small = mode === "jit" ? vg : make(Math.min(n, 10));
  const x0 = np.array(CHAIN_X0);
  return repeated(async () => items(pull, ...vg(x0.ref)), { warmup: async () => { await items(pull, ...small(x0.ref)); } });
}

function matmul(mode: Mode, pull: Pull, n: number): AsyncCase {
  const { a, b } = matmulInputs(n);
  const A = f32(a, [n, n]), B = f32(b, [n, n]);
  const mm = stage(mode, (x: Arr, y: Arr) => np.matmul(x, y));
  return {
    async: true,
    async run() {
      await pull(mm(A.ref, B.ref));
    },
    async check() {
      const c = Array.from(await pull(mm(A.ref, B.ref)), Number);
      return [sumF64(c), c[0]!, c[n * n - 1]!, c[(n >> 1) * n + Math.floor(n / 3)]!];
    },
  };
}

function matmulFb(mode: Mode, pull: Pull, n: number): AsyncCase {
  const { a, b } = matmulInputs(n);
  const A = f32(a, [n, n]), B = f32(b, [n, n]);
  const vg = stage(mode, jaxModule.valueAndGrad((x: Arr, y: Arr) => np.matmul(x, y).sum(), { argnums: [0, 1] }));
  return repeated(async () => {
    const [v, [ga, gb]] = vg(A.ref, B.ref);
    const [[l], da, db] = await Promise.all([items(pull, v), read(pull, ga), read(pull, gb)]);
    return [l!, da[0], db[0], da[1], db[2]];
  });
}

type Params = { w1: Arr; b1: Arr; w2: Arr; b2: Arr };

function mlp(mode: Mode, pull: Pull): AsyncCase {
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
  const vg = jaxModule.valueAndGrad(loss);
  // The whole step (gradient and update) is one function, so that jit compiles it as one program.
  const stepFn = stage(mode, (p: Params, x: Arr, y: Arr): [Arr, Params] => {
    const [v, g] = vg(tree.ref(p), x, y);
    const next = tree.map((w: Arr, gi: Arr) => w.sub(gi.mul(lr)), p, g) as Params;
    return [v, next];
  });
  const step = (p: Params): [Arr, Params] => stepFn(p, X.ref, Y.ref);
  let params = fresh();
  return {
    async: true,
    async run() {
      const [v, next] = step(params);
      await items(pull, v);
      // The update is realised lazily by the next step's loss, so its cost lands in that step's timing.
      params = next;
    },
    async check() {
      const [v, p1] = step(fresh());
      return items(pull, v, loss(p1, X.ref, Y.ref));
    },
    note: `nn.logSoftmax written as a loss, ${mode === "jit" ? "the whole step under jit" : "eager (no jit)"}`,
  };
}

/**
 * One Adam step of the CLI's CNN (without dropout), NCHW as chainrule: lax.conv ("VALID"), max-pool as
 * lax.reduceWindow, logSoftmax loss. jax-js has no optimizer in its core package (@jax-js/optax is
 * separate), so Adam is written out in PyTorch's form; its bias corrections enter as scalar arguments so
 * that every step runs the same compiled program.
 */
function cnn(mode: Mode, pull: Pull): AsyncCase {
  const { batch, side, c1, c2, k, classes, flat, mean, std, lr, beta1, beta2, eps } = CNN;
  const d = cnnData();
  const X = f32(d.x, [batch, 1, side, side]);
  const Y = f32(d.onehot, [batch, classes]);
  const shapes = [[c1, 1, k, k], [c1], [c2, c1, k, k], [c2], [flat, classes], [classes]];
  const fresh = (): Arr[] => [d.w1, d.b1, d.w2, d.b2, d.w3, d.b3].map((a, i) => f32(a, shapes[i]!));
  const pool = (a: Arr): Arr => lax.reduceWindow(a, (w: Arr) => w.max(), [2, 2], [2, 2]);
  const loss = (p: Arr[], x: Arr, y: Arr): Arr => {
    const [w1, b1, w2, b2, w3, b3] = p as [Arr, Arr, Arr, Arr, Arr, Arr];
    const h1 = pool(nn.relu(lax.conv(x.sub(mean).div(std), w1, [1, 1], "VALID").add(b1.reshape([c1, 1, 1]))));
    const h2 = pool(nn.relu(lax.conv(h1, w2, [1, 1], "VALID").add(b2.reshape([c2, 1, 1]))));
    const logits = np.matmul(h2.reshape([batch, flat]), w3).add(b3);
    return nn.logSoftmax(logits, -1).mul(y).sum(-1).mean().neg();
  };
  const vg = jaxModule.valueAndGrad(loss);
  /** One step: `a` = lr / (1 − β1^t) and `c` = √(1 − β2^t) for step t. */
  const stepFn = stage(mode, (p: Arr[], m: Arr[], v: Arr[], x: Arr, y: Arr, a: Arr, c: Arr): [Arr, Arr[], Arr[], Arr[]] => {
    const [value, g] = vg(p.map((w) => w.ref), x, y);
    const p1: Arr[] = [], m1: Arr[] = [], v1: Arr[] = [];
    for (let i = 0; i < p.length; i++) {
      const gi = g[i]!;
      const mi = m[i]!.mul(beta1).add(gi.ref.mul(1 - beta1));
      const vi = v[i]!.mul(beta2).add(gi.ref.mul(gi).mul(1 - beta2));
      p1.push(p[i]!.sub(mi.ref.mul(a.ref).div(np.sqrt(vi.ref).div(c.ref).add(eps))));
      m1.push(mi);
      v1.push(vi);
    }
    a.dispose();
    c.dispose();
    return [value, p1, m1, v1];
  });
  const zeros = (): Arr[] => shapes.map((s) => np.zeros(s));
  const step = (t: number, p: Arr[], m: Arr[], v: Arr[]) =>
    stepFn(p, m, v, X.ref, Y.ref, np.array(lr / (1 - beta1 ** t)), np.array(Math.sqrt(1 - beta2 ** t)));
  let t = 0, params = fresh(), m = zeros(), v = zeros();
  return {
    async: true,
    async run() {
      const [value, p1, m1, v1] = step(++t, params, m, v);
      [params, m, v] = [p1, m1, v1];
      await items(pull, value);
    },
    async check() {
      const [value, p1, m1, v1] = step(1, fresh(), zeros(), zeros());
      tree.dispose([m1, v1]);
      return items(pull, value, loss(p1, X.ref, Y.ref));
    },
    note: `lax.conv, lax.reduceWindow max-pool, nn.logSoftmax loss, Adam written out; ${mode === "jit" ? "the whole step under jit" : "eager (no jit)"}`,
  };
}

function elementwise(mode: Mode, pull: Pull, n: number): AsyncCase {
  const x = np.array(elementwiseInput(n));
  const vg = stage(mode, jaxModule.valueAndGrad((v: Arr) =>
    np.tanh(v.ref).mul(nn.sigmoid(v.ref)).add(np.exp(np.square(v).neg())).sum()));
  return repeated(async () => {
    const [v, g] = vg(x.ref);
    const [[f], gd] = await Promise.all([items(pull, v), read(pull, g)]);
    return [f!, ...gd];
  });
}

/**
 * Threads of jax-js's wasm device: it starts a pool of web Workers only where the `Worker` global and
 * SharedArrayBuffer exist (browsers; not Node 20), sized by navigator.hardwareConcurrency, else runs on one.
 */
function wasmThreads(): number {
  const g = globalThis as { Worker?: unknown; SharedArrayBuffer?: unknown; navigator?: { hardwareConcurrency?: number } };
  return g.Worker !== undefined && g.SharedArrayBuffer !== undefined ? Math.max(1, g.navigator?.hardwareConcurrency || 4) : 1;
}

/**
 * jax-js on its wasm device, eager ("jax-wasm") or with every timed function under jax.jit ("jax-jit"), or
 * on its webgpu device under jit ("jax-webgpu"; jit is its fast mode there too: fused kernels, fewer dispatches).
 */
export function jax(m: Mode, device: "wasm" | "webgpu" = "wasm"): Library {
  const pull = PULL[device];
  let adapter: string | null = null;
  const gpu = device === "webgpu";
  return {
    name: gpu ? "jax-webgpu" : m === "jit" ? "jax-jit" : "jax-wasm",
    describe: () => gpu
      ? "@jax-js/jax 0.1.25, webgpu device, jit (each timed function compiled once, fused kernels), navigator.gpu from the webgpu package (Dawn)"
      : `@jax-js/jax 0.1.25, wasm device, ${m === "jit" ? "jit (each timed function compiled once, fused kernels)" : "eager"}, ${wasmThreads() === 1 ? "single-threaded (no web Workers in Node)" : `${wasmThreads()} threads`}`,
    threads: () => (gpu ? 1 : wasmThreads()),
    adapter: () => adapter,
    async init() {
      if (gpu) {
        adapter = await adapterName(); // skips the row, saying why, when there is no adapter
        await installNavigatorGpu();
      }
      const devices = await jaxModule.init(device);
      if (!devices.includes(device)) throw new SkipError(`jax-js: its ${device} device did not start here (it found ${devices.join(", ")})`);
      jaxModule.defaultDevice(device);
    },
    setup(w: Workload): AsyncCase {
      switch (w.kind) {
        case "seed": return seed(m, pull);
        case "chain": return chain(m, pull, w.size);
        case "matmul": return matmul(m, pull, w.size);
        case "matmulFb": return matmulFb(m, pull, w.size);
        case "mlp": return mlp(m, pull);
        case "cnn": return cnn(m, pull);
        case "elementwise": return elementwise(m, pull, w.size);
        case "trainEpoch": throw new SkipError("chainrule only");
        case "perExample": return perExampleJax(m, pull);
        case "perExampleLoop": throw new SkipError("chainrule only");
        case "jacobian": return jacobianJax(m, pull, w.size);
      }
    },
  };
}
