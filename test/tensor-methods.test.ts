import { describe, expect, it } from "vitest";
import * as cr from "../src/index.js";
import { grad, tensor, type Tensor } from "../src/index.js";

// Every op added for PyTorch parity is also a tensor method (x.floor(), x.cumsum(0), …), as in PyTorch and tfjs.
// Each method must give exactly what the function of the same name gives, values and gradients.

const x = tensor([[0.25, -1.5, 2.5], [0.5, 0.75, -0.5]], { dtype: "float64" });
const pos = tensor([[1.5, 2, 3], [4, 1.25, 8]], { dtype: "float64" });
const unit = tensor([[0.25, -0.5, 0.75], [0.1, -0.9, 0]], { dtype: "float64" });
const values = (t: Tensor) => ({ shape: t.shape, dtype: t.dtype, data: Array.from(t.data as ArrayLike<number>) });

const unary: [name: string, input: Tensor, method: (t: Tensor) => Tensor, fn: (t: Tensor) => Tensor][] = [
  ["round", x, (t) => t.round(), cr.round], ["floor", x, (t) => t.floor(), cr.floor], ["ceil", x, (t) => t.ceil(), cr.ceil],
  ["trunc", x, (t) => t.trunc(), cr.trunc], ["log2", pos, (t) => t.log2(), cr.log2], ["log10", pos, (t) => t.log10(), cr.log10],
  ["exp2", x, (t) => t.exp2(), cr.exp2], ["asin", unit, (t) => t.asin(), cr.asin], ["acos", unit, (t) => t.acos(), cr.acos],
  ["atan", x, (t) => t.atan(), cr.atan], ["sinh", x, (t) => t.sinh(), cr.sinh], ["cosh", x, (t) => t.cosh(), cr.cosh],
  ["asinh", x, (t) => t.asinh(), cr.asinh], ["acosh", pos, (t) => t.acosh(), cr.acosh], ["atanh", unit, (t) => t.atanh(), cr.atanh],
  ["remainder", x, (t) => t.remainder(0.75), (t) => cr.remainder(t, 0.75)], ["logaddexp", x, (t) => t.logaddexp(pos), (t) => cr.logaddexp(t, pos)],
  ["cumsum", x, (t) => t.cumsum(1), (t) => cr.cumsum(t, 1)], ["cumsum reverse", x, (t) => t.cumsum(0, { reverse: true }), (t) => cr.cumsum(t, 0, { reverse: true })],
  ["cumprod", x, (t) => t.cumprod(1), (t) => cr.cumprod(t, 1)], ["logcumsumexp", x, (t) => t.logcumsumexp(0), (t) => cr.logcumsumexp(t, 0)],
  ["sort", x, (t) => t.sort(), cr.sort], ["sort descending", x, (t) => t.sort(0, { descending: true }), (t) => cr.sort(t, 0, { descending: true })],
  ["diagonal", x, (t) => t.diagonal(1), (t) => cr.diagonal(t, 1)], ["triu", x, (t) => t.triu(), cr.triu], ["tril", x, (t) => t.tril(-1), (t) => cr.tril(t, -1)],
];

describe("tensor methods for the parity ops", () => {
  for (const [name, input, method, fn] of unary) {
    it(`${name}: same values and gradient as the function`, () => {
      expect(values(method(input))).toEqual(values(fn(input)));
      // A weighted sum, so that each output element's gradient is distinct (weights shaped like the output).
      const w = cr.add(cr.arange(0, method(input).size, 1, { dtype: "float64" }), 1).reshape(method(input).shape);
      const g1 = grad((t: Tensor) => cr.sum(cr.mul(method(t), w)))(input);
      const g2 = grad((t: Tensor) => cr.sum(cr.mul(fn(t), w)))(input);
      expect(values(g1)).toEqual(values(g2));
    });
  }

  it("argsort, topk, any, all and the logical and float tests", () => {
    expect(Array.from(x.argsort(1).data)).toEqual([1, 0, 2, 2, 0, 1]);
    const top = x.topk(2);
    expect(Array.from(top.values.data)).toEqual([2.5, 0.25, 0.75, 0.5]);
    expect(Array.from(top.indices.data)).toEqual([2, 0, 1, 0]);
    const b = x.greater(0);
    expect(Array.from(b.any(1).data)).toEqual([1, 1]);
    expect(Array.from(b.all(0).data)).toEqual([1, 0, 0]);
    expect(b.all().item()).toBe(0);
    expect(Array.from(b.logicalAnd(x.less(1)).data)).toEqual([1, 0, 0, 1, 1, 0]);
    expect(Array.from(b.logicalOr(x.less(-1)).data)).toEqual([1, 1, 1, 1, 1, 0]);
    expect(Array.from(b.logicalXor(x.less(1)).data)).toEqual([0, 1, 1, 0, 0, 1]);
    expect(Array.from(b.logicalNot().data)).toEqual([0, 1, 0, 0, 0, 1]);
    const odd = tensor([NaN, Infinity, -Infinity, 2], { dtype: "float64" });
    expect(Array.from(odd.isnan().data)).toEqual([1, 0, 0, 0]);
    expect(Array.from(odd.isinf().data)).toEqual([0, 1, 1, 0]);
    expect(Array.from(odd.isfinite().data)).toEqual([0, 0, 0, 1]);
    expect(Array.from(odd.nanToNum({ nan: 0, posinf: 9, neginf: -9 }).data)).toEqual([0, 9, -9, 2]);
  });
});
