// Exact tests where finite differences are blind: the derivative conventions at kinks, ties and zeros.
// Each is checked in reverse mode (grad) and forward mode (jvp), which must agree.
import { describe, expect, it } from "vitest";
import * as c from "../src/index.js";
import type { NestedArray, Tensor } from "../src/index.js";
import { expectAllClose } from "./helpers/close.js";

const f64 = (v: NestedArray) => c.tensor(v, { dtype: "float64" });

/** Elementwise derivative of f at each point of xs, by reverse mode and by forward mode. */
function both(f: (x: Tensor) => Tensor, xs: number[]): [number[], number[]] {
  const x = f64(xs);
  const rev = Array.from(c.grad((t: Tensor) => c.sum(f(t)))(x).data);
  const fwd = Array.from(c.jvp(f, [x], [c.onesLike(x)])[1].data);
  return [rev, fwd];
}

describe("kink conventions (PyTorch's)", () => {
  it("relu'(0) = 0", () => {
    expect(both(c.relu, [-1, 0, 2])).toEqual([[0, 0, 1], [0, 0, 1]]);
    expect(c.grad(c.grad(c.relu))(f64(0)).item()).toBe(0);
  });

  it("abs'(0) = 0 and sign' = 0", () => {
    expect(both(c.abs, [-2, 0, 3])).toEqual([[-1, 0, 1], [-1, 0, 1]]);
    expect(both(c.sign, [-2, 0, 3])).toEqual([[0, 0, 0], [0, 0, 0]]);
  });

  it("sqrt'(0) = +Infinity", () => {
    expect(both(c.sqrt, [0, 4])).toEqual([[Infinity, 0.25], [Infinity, 0.25]]);
  });

  it("leakyRelu'(0) = alpha, elu'(0) = alpha (the left side)", () => {
    expect(both((x) => c.leakyRelu(x, 0.1), [-1, 0, 1])).toEqual([[0.1, 0.1, 1], [0.1, 0.1, 1]]);
    expect(both((x) => c.elu(x, 0.5), [0, 1])).toEqual([[0.5, 1], [0.5, 1]]);
  });

  it("clip passes gradient 1 at its bounds (closed interval), 0 outside", () => {
    expect(both((x) => c.clip(x, -1, 1), [-2, -1, 0, 1, 2])).toEqual([[0, 1, 1, 1, 0], [0, 1, 1, 1, 0]]);
  });

  it("norm at the zero vector has gradient 0, not NaN (ord 2, 1, Infinity), also per axis", () => {
    for (const ord of [2, 1, Infinity] as const) {
      expect(c.grad((t: Tensor) => c.norm(t, ord))(f64([0, 0, 0])).toArray()).toEqual([0, 0, 0]);
      expect(c.jvp((t: Tensor) => c.norm(t, ord), [f64([0, 0])], [f64([1, 1])])[1].item()).toBe(0);
    }
    const g = c.grad((t: Tensor) => c.sum(c.norm(t, 2, 1)))(f64([[0, 0], [3, 4]]));
    expectAllClose(g, [0, 0, 0.6, 0.8], 1e-15);
  });

  it("max/min reductions: tied extrema share the gradient evenly", () => {
    expect(both((x) => c.max(x), [1, 3, 3, 3])[0]).toEqual([0, 1 / 3, 1 / 3, 1 / 3]);
    expect(c.jvp((x: Tensor) => c.max(x), [f64([1, 3, 3])], [f64([5, 1, 2])])[1].item()).toBe(1.5);
    expect(c.grad((t: Tensor) => c.sum(c.min(t, 1)))(f64([[2, 2], [1, 5]])).toArray()).toEqual([[0.5, 0.5], [1, 0]]);
  });

  it("maximum/minimum elementwise: a tie sends half to each side", () => {
    const [ga, gb] = c.grad((a: Tensor, b: Tensor) => c.sum(c.maximum(a, b)), { argnums: [0, 1] })(f64([1, 2, 3]), f64([3, 2, 1]));
    expect([ga.toArray(), gb.toArray()]).toEqual([[0, 0.5, 1], [1, 0.5, 0]]);
    const [ma, mb] = c.grad((a: Tensor, b: Tensor) => c.sum(c.minimum(a, b)), { argnums: [0, 1] })(f64([2]), f64([2]));
    expect([ma.item(), mb.item()]).toEqual([0.5, 0.5]);
  });

  it("prod with zeros: exactly the product of the others, no 0/0, both modes", () => {
    const [rev, fwd] = both((x) => c.prod(x), [3, 0, 5]);
    expect(rev).toEqual([0, 15, 0]);
    expect(fwd).toEqual([15]); // jvp along all-ones: the sum of the gradient
    expect(c.grad((t: Tensor) => c.prod(t))(f64([0, 0, 5])).toArray()).toEqual([0, 0, 0]);
    expect(c.grad((t: Tensor) => c.prod(t))(f64([0])).toArray()).toEqual([1]);
    expect(c.jvp((t: Tensor) => c.prod(t), [f64([3, 0, 5])], [f64([1, 2, 1])])[1].item()).toBe(30);
  });

  it("pow: d/db a^b at a = 0 is 0 (not 0·−∞)", () => {
    expect(c.grad((b: Tensor) => c.sum(c.pow(f64([0, 2]), b)))(f64([2, 3])).toArray()).toEqual([0, 8 * Math.log(2)]);
  });

  it("std of a constant has gradient 0", () => {
    expect(c.grad((t: Tensor) => c.std(t))(f64([2, 2, 2])).toArray()).toEqual([0, 0, 0]);
  });

  it("softmax, logSoftmax and logsumexp stay finite at logits ±1000, with finite gradients", () => {
    const x = f64([1000, -1000, 0]);
    expect(c.nn.softmax(x).toArray()).toEqual([1, 0, 0]);
    expect(c.nn.logSoftmax(x).toArray()).toEqual([0, -2000, -1000]);
    expect(c.nn.logsumexp(x).item()).toBe(1000);
    expect(c.nn.logsumexp(f64([1000, 1000])).item()).toBeCloseTo(1000 + Math.log(2), 12);
    expect(c.nn.logsumexp(f64([-1000, -1000])).item()).toBeCloseTo(-1000 + Math.log(2), 12);
    expect(c.grad((t: Tensor) => c.nn.logsumexp(t))(x).toArray()).toEqual([1, 0, 0]);
    const g = c.grad((t: Tensor) => c.sum(c.mul(c.nn.softmax(t), f64([1, 2, 3]))))(x);
    expect(Array.from(g.data).every(Number.isFinite)).toBe(true);
    const gl = c.grad((t: Tensor) => c.sum(c.mul(c.nn.logSoftmax(t), f64([1, 2, 3]))))(x);
    expect(gl.toArray()).toEqual([1 - 6, 2, 3]);
  });
});
