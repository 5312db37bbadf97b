// Golden values from PyTorch (test/fixtures/pytorch-golden.json, written by tools/pytorch-golden.py):
// for each composite function, the output, the gradient of L = Σ f(x)·W and the Hessian-vector
// product of L, all float64, compared at 1e-6 relative.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import * as c from "../src/index.js";
import type { Tensor } from "../src/index.js";
import { expectAllClose } from "./helpers/close.js";

interface Golden {
  torch: string;
  torch_package: string | null;
  cases: {
    name: string;
    inputs: { shape: number[]; data: number[] }[];
    output: { shape: number[]; data: number[] };
    weight: number[];
    grads: number[][];
    directions: number[][];
    hvp: number[][];
  }[];
}

const golden = JSON.parse(readFileSync(new URL("./fixtures/pytorch-golden.json", import.meta.url), "utf8")) as Golden;
const f64 = (data: number[], shape: number[]) => c.tensor(Float64Array.from(data), { shape });
const logSigmoid = (z: Tensor) => c.neg(c.softplus(c.neg(z)));

/** The same functions as in tools/pytorch-golden.py, written with chainrule. */
const impl: Record<string, (...x: Tensor[]) => Tensor> = {
  tanh_sigmoid_mix: (x) => c.add(c.mul(c.tanh(x), c.sigmoid(c.mul(x, 2))), x),
  exp_log_sqrt: (x) => c.add(c.add(c.mul(c.exp(c.neg(x)), c.log(x)), c.sqrt(x)), c.rsqrt(x)),
  expm1_log1p: (x) => c.mul(c.expm1(x), c.log1p(c.mul(x, x))),
  trig: (x) => c.add(c.mul(c.sin(x), c.cos(c.mul(x, 2))), c.tan(x)),
  reciprocal_square_abs: (x) => c.sub(c.add(c.reciprocal(x), c.square(x)), c.abs(c.sub(x, 1.1))),
  gelu_exact: (x) => c.gelu(x),
  gelu_tanh: (x) => c.gelu(x, { approximate: "tanh" }),
  erf_times_x: (x) => c.mul(c.erf(x), x),
  softplus: (x) => c.softplus(x),
  leaky_relu: (x) => c.mul(c.leakyRelu(x, 0.1), x),
  elu: (x) => c.mul(c.elu(x, 1.3), x),
  relu_mlp: (x, w, b) => c.square(c.relu(c.add(c.matmul(x, w!), b!))),
  clamp: (x) => c.mul(c.clip(x, -0.5, 0.7), x),
  where_branches: (x) => c.where(c.greater(x, 0), c.mul(x, x), c.sin(x)),
  pow_tensor: (a, b) => c.pow(a, b!),
  atan2: (y, x) => c.atan2(y, c.add(x!, 3)),
  maximum_minimum: (a, b) => c.mul(c.maximum(a, b!), c.minimum(a, c.mul(b!, 2))),
  div_broadcast: (a, b) => c.div(a, b!),
  sum_mean_axes: (x) => c.mul(c.sum(x, [0, 2]), c.sum(c.mean(x, 1))),
  amax_amin: (x) => c.sub(c.max(x, 1), c.sum(c.min(x, 0))),
  prod_rows: (x) => c.prod(x, 1),
  prod_with_zero: (x) => c.prod(c.sub(x, c.mul(c.stopGradient(x), c.tensor([0, 1, 0, 0], { dtype: "float64" })))),
  prod_with_two_zeros: (x) => c.prod(c.sub(x, c.mul(c.stopGradient(x), c.tensor([0, 1, 0, 1], { dtype: "float64" }))), 1),
  var_population: (x) => c.variance(x, 1),
  var_unbiased: (x) => c.variance(x, 0, false, { correction: 1 }),
  std_unbiased: (x) => c.std(x, 1, false, { correction: 1 }),
  norms: (x) => c.add(c.norm(x, 2, 1), c.mul(c.norm(x, 1, 1), c.norm(x, Infinity, 1))),
  logsumexp: (x) => c.nn.logsumexp(c.mul(x, 3), 1),
  softmax_weighted: (x) => c.mul(c.nn.softmax(x, 0), c.reshape(c.arange(12, undefined, 1, "float64"), [3, 4])),
  log_softmax_nll: (x) => c.neg(c.mean(c.take(c.nn.logSoftmax(x, 1), [0 * 5 + 1, 1 * 5 + 0, 2 * 5 + 4, 3 * 5 + 2]))),
  layer_norm_manual: (x) => c.div(c.sub(x, c.mean(x, 1, true)), c.sqrt(c.add(c.variance(x, 1, true), 1e-5))),
  matmul_batched_broadcast: (a, b) => c.matmul(a, b!),
  matvec_vecmat: (m, v, u) => c.mul(c.matmul(m, v!), c.sum(c.matmul(u!, m))),
  attention: (q, k, v) => c.matmul(c.nn.softmax(c.div(c.matmul(q, c.transpose(k!)), Math.sqrt(3)), -1), v!),
  cosine_similarity: (a, b) => c.div(c.dot(a, b!), c.mul(c.norm(a), c.norm(b!))),
  outer_dot: (a, b) => c.mul(c.outer(a, b!), c.dot(a, a)),
  flip_strided_slice: (x) => c.square(c.slice(c.flip(x, 0), [null, 1], null, [1, 2])),
  // PyTorch's F.pad lists the last dimension first: (left, right, top, bottom).
  pad_constant: (x) => c.sin(c.pad(x, [[0, 1], [1, 2]], 0.5)),
  cat_stack_split: (a, b) => c.mul(c.stack([c.concat([a, b!], 1), c.concat([b!, a], 1)], 0), c.sum(c.concat(c.split(a, [1, 2], 1).reverse(), 1))),
  index_select_repeated: (x) => c.square(c.gather(x, [3, 0, 3, 3], 1)),
  index_add: (x, u) => c.sin(c.scatterAdd(x, [1, 3, 1], u!, 0)),
  repeat_tile: (x) => c.cos(c.tile(x, [2, 3])),
  permute_reshape: (x) => c.matmul(c.reshape(c.permute(x, [2, 0, 1]), [4, 6]), c.linspace(-1, 1, 6, "float64")),
  squeeze_unsqueeze: (x) => c.mul(c.expandDims(c.squeeze(x, 1), 0), c.sum(c.squeeze(x))),
  mse: (a, b) => c.mean(c.square(c.sub(a, b!))),
  bce_with_logits_manual: (z, y) => c.neg(c.mean(c.add(c.mul(y!, logSigmoid(z)), c.mul(c.sub(1, y!), logSigmoid(c.neg(z)))))),
};

const RTOL = 1e-6;
const ATOL = 1e-12;

describe(`PyTorch golden fixture (torch ${golden.torch}${golden.torch_package ? `, ${golden.torch_package}` : ""}; ${golden.cases.length} functions)`, () => {
  it("covers at least 40 functions, each implemented here", () => {
    expect(golden.cases.length).toBeGreaterThanOrEqual(40);
    expect(golden.cases.map((k) => k.name).sort()).toEqual(Object.keys(impl).sort());
  });

  for (const k of golden.cases) {
    it(`${k.name}: value, gradient and Hessian-vector product within ${RTOL} relative`, () => {
      const f = impl[k.name]!;
      const xs = k.inputs.map((i) => f64(i.data, i.shape));
      const w = f64(k.weight, k.output.shape);
      const y = f(...xs);
      expect(y.shape).toEqual(k.output.shape);
      expectAllClose(y, k.output.data, RTOL, ATOL);
      const L = (...a: Tensor[]) => c.sum(c.mul(f(...a), w));
      const grads = c.grad(L, { argnums: xs.map((_, i) => i) })(...xs) as Tensor[];
      grads.forEach((g, i) => expectAllClose(g, k.grads[i]!, RTOL, ATOL));
      const hv = c.hvp(L, xs, k.directions.map((d, i) => f64(d, k.inputs[i]!.shape)));
      hv.forEach((h, i) => expectAllClose(h, k.hvp[i]!, RTOL, ATOL));
    });
  }
});
