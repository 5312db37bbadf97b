// jax-js's batched workloads: per-example gradients by its vmap, and a Jacobian by its jacrev (itself
// vmap-based), eager or under jit, with its ownership rules (arguments are consumed; reuse via `.ref`).
import * as jaxModule from "@jax-js/jax";
import type { AsyncCase } from "../adapter.js";
import type { Pull } from "./jax.js";
import { MLP, jacobianInputs, mlpData } from "../data.js";

const { numpy: np, nn, tree } = jaxModule;
type Arr = jaxModule.Array;
type Mode = "eager" | "jit";
type Params = { w1: Arr; b1: Arr; w2: Arr; b2: Arr };

function stage<F extends (...args: any[]) => jaxModule.JsTree<Arr>>(mode: Mode, f: F): F {
  return mode === "jit" ? (jaxModule.jit(f) as unknown as F) : f;
}

const f32 = (data: Float32Array, shape: number[]): Arr => np.array(data).reshape(shape);

/** Per-example gradients of the bench MLP with jax.vmap(jax.grad(loss), [null, 0, 0]). */
export function perExampleJax(mode: Mode, pull: Pull): AsyncCase {
  const { batch, input, hidden, classes } = MLP;
  const d = mlpData();
  const X = f32(d.x, [batch, input]);
  const Y = f32(d.onehot, [batch, classes]);
  const params: Params = { w1: f32(d.w1, [input, hidden]), b1: np.array(d.b1), w2: f32(d.w2, [hidden, classes]), b2: np.array(d.b2) };
  const loss = (p: Params, x: Arr, y: Arr): Arr => {
    const h = nn.relu(np.matmul(x.reshape([1, input]), p.w1).add(p.b1));
    return nn.logSoftmax(np.matmul(h, p.w2).add(p.b2), -1).reshape([classes]).mul(y).sum().neg();
  };
  const perEx = stage(mode, (p: Params, x: Arr, y: Arr): Params => jaxModule.vmap(jaxModule.grad(loss), [null, 0, 0])(p, x, y) as Params);
  const call = (): Params => perEx(tree.ref(params), X.ref, Y.ref);
  return {
    async: true,
    async run() {
      const g = call();
      tree.dispose([g.b1, g.w2, g.b2]);
      await pull(g.w1);
    },
    async check() {
      const g = call();
      const norms = new Float64Array(batch);
      for (const leaf of [g.w1, g.b1, g.w2, g.b2]) {
        const v = await pull(leaf);
        const per = v.length / batch;
        for (let i = 0; i < v.length; i++) norms[Math.floor(i / per)] += Number(v[i]!) ** 2;
      }
      return [norms.reduce((s, v) => s + v, 0), norms[0]!, norms[batch - 1]!];
    },
    note: `jax.vmap(jax.grad(loss), [null, 0, 0])${mode === "jit" ? " under jit" : ", eager"}`,
  };
}

/** jax.jacrev of y = tanh(W·x + b). */
export function jacobianJax(mode: Mode, pull: Pull, n: number): AsyncCase {
  const { w, b, x } = jacobianInputs(n);
  const W = f32(w, [n, n]), B = np.array(b), X = np.array(x);
  const jac = stage(mode, (wm: Arr, bv: Arr, xv: Arr): Arr => jaxModule.jacrev((v: Arr) => np.tanh(np.matmul(wm, v).add(bv)))(xv) as Arr);
  return {
    async: true,
    async run() {
      await pull(jac(W.ref, B.ref, X.ref));
    },
    async check() {
      const j = await pull(jac(W.ref, B.ref, X.ref));
      let total = 0, trace = 0;
      for (let i = 0; i < j.length; i++) total += Number(j[i]!);
      for (let i = 0; i < n; i++) trace += Number(j[i * n + i]!);
      return [total, Number(j[0]!), Number(j[n * n - 1]!), trace];
    },
    note: `jax.jacrev${mode === "jit" ? " under jit" : ", eager"}`,
  };
}
