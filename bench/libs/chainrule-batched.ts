// chainrule's batched workloads: per-example gradients by vmap and by a loop, and a Jacobian by jacrev.
import { add, gather, grad, jacrev, matmul, nn, relu, sum, tanh, tensor, vmap, type Tensor } from "../../dist/index.js";
import type { Case } from "../adapter.js";
import { MLP, jacobianInputs, mlpData } from "../data.js";

type Params = { w1: Tensor; b1: Tensor; w2: Tensor; b2: Tensor };

/** Per-example squared gradient norms, [B], from a tree of per-example gradients [B, ...]. */
function squaredNorms(g: Params): Float64Array {
  const leaves = [g.w1, g.b1, g.w2, g.b2];
  const per = leaves.map((l) => sum(l.square(), Array.from({ length: l.rank - 1 }, (_, k) => k + 1)));
  return Float64Array.from(per.reduce((a, c) => add(a, c)).astype("float64").data);
}

const summary = (n: ArrayLike<number>): number[] => [Array.from(n).reduce((s, v) => s + v, 0), n[0]!, n[n.length - 1]!];

/** Per-example gradients of the bench MLP: `vmap(grad(loss))` (loop = false) or 128 grad calls (loop = true). */
export function perExample(loop: boolean): Case {
  const { batch, input, hidden, classes } = MLP;
  const d = mlpData();
  const X = tensor(d.x, { shape: [batch, input] });
  const Y = tensor(d.labels, { shape: [batch] });
  const params: Params = {
    w1: tensor(d.w1, { shape: [input, hidden] }), b1: tensor(d.b1, { shape: [hidden] }),
    w2: tensor(d.w2, { shape: [hidden, classes] }), b2: tensor(d.b2, { shape: [classes] }),
  };
  const loss = (p: Params, x: Tensor, y: Tensor): Tensor => nn.crossEntropy(add(matmul(relu(add(matmul(x, p.w1), p.b1)), p.w2), p.b2), y);
  const g = grad(loss);
  const batched = vmap(g, { inAxes: [null, 0, 0] });
  const examples = Array.from({ length: batch }, (_, i) => [gather(X, i), gather(Y, i)] as const);
  const norms = (): Float64Array => {
    if (!loop) return squaredNorms(batched(params, X, Y));
    return Float64Array.from(examples.map(([x, y]) => {
      const gi = g(params, x, y);
      return [gi.w1, gi.b1, gi.w2, gi.b2].reduce((s, l) => s + sum(l.square()).item(), 0);
    }));
  };
  return {
    run() {
      if (loop) for (const [x, y] of examples) g(params, x, y).w1.data;
      else batched(params, X, Y).w1.data;
    },
    check: () => summary(norms()),
    note: loop ? "a loop of 128 grad calls" : "vmap(grad(loss), { inAxes: [null, 0, 0] })",
  };
}

/** jacrev of y = tanh(W·x + b) at x: one batched pullback over the rows of the identity. */
export function jacobian(n: number): Case {
  const { w, b, x } = jacobianInputs(n);
  const W = tensor(w, { shape: [n, n] }), B = tensor(b), X = tensor(x);
  const f = (v: Tensor): Tensor => tanh(add(matmul(W, v), B));
  const jac = jacrev(f);
  let J: Tensor | null = null;
  return {
    run() {
      J = jac(X);
      J.data;
    },
    check() {
      const j = jac(X).astype("float64").data;
      let total = 0, trace = 0;
      for (let i = 0; i < j.length; i++) total += j[i]!;
      for (let i = 0; i < n; i++) trace += j[i * n + i]!;
      void J;
      return [total, j[0]!, j[n * n - 1]!, trace];
    },
    note: "jacrev = vmap of the pullback",
  };
}
