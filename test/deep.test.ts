// Long computations: nothing in the engine may recurse per node (topological order, backward pass,
// forward tangents, second order, releasing the graph), so chains of a million ops must work.
// The chains are scalar float64 so the check against a plain-number reference is tight.
import { describe, expect, it } from "vitest";
import { grad, jvp, mul, scalar, sin, tensor, valueAndGrad } from "../src/index.js";
import type { Tensor } from "../src/index.js";

const f64 = (v: number) => scalar(v, { dtype: "float64" });
const MILLION = 1_000_000;

/** y ← sin(y), n times: one primitive per step. */
function sinChain(n: number) {
  return (x: Tensor): Tensor => {
    let y = x;
    for (let i = 0; i < n; i++) y = sin(y);
    return y;
  };
}

/** Value, first and second derivative of the n-fold sine, by the chain rule on plain numbers. */
function sinChainReference(n: number, x: number): [number, number, number] {
  let y = x, d1 = 1, d2 = 0;
  for (let i = 0; i < n; i++) {
    const c = Math.cos(y), s = Math.sin(y);
    d2 = -s * d1 * d1 + c * d2;
    d1 = c * d1;
    y = s;
  }
  return [y, d1, d2];
}

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe("a 1,000,000-op chain", () => {
  const [y, d1] = sinChainReference(MILLION, 1.2);

  it("reverse mode (grad)", () => {
    const [v, g] = valueAndGrad(sinChain(MILLION))(f64(1.2));
    expect(rel(v.item(), y)).toBeLessThan(1e-12);
    expect(rel(g.item(), d1)).toBeLessThan(1e-9);
  }, 60_000);

  it("forward mode (jvp)", () => {
    const [v, t] = jvp(sinChain(MILLION), [f64(1.2)], [f64(1)]);
    expect(rel(v.item(), y)).toBeLessThan(1e-12);
    expect(rel(t.item(), d1)).toBeLessThan(1e-9);
  }, 60_000);

  it("imperative loss.backward()", () => {
    const x = tensor(1.2, { dtype: "float64", requiresGrad: true });
    sinChain(MILLION)(x).backward();
    expect(rel(x.grad!.item(), d1)).toBeLessThan(1e-9);
  }, 60_000);

  it("a 100,000-way fan-in: sum of x·1 built as a chain of adds", () => {
    const FAN = 100_000;
    // Every node reads the same leaf: its cotangent accumulates 100,000 times without recursion.
    const f = (x: Tensor) => {
      let acc = mul(x, 1);
      for (let i = 1; i < FAN; i++) acc = acc.add(mul(x, 1));
      return acc;
    };
    expect(grad(f)(f64(0.5)).item()).toBe(FAN);
  }, 60_000);
});

describe("second order through a 100,000-op chain", () => {
  const n = 100_000;
  const [, d1, d2] = sinChainReference(n, 1.2);

  it("grad of grad", () => {
    const g2 = grad(grad(sinChain(n)))(f64(1.2)).item();
    expect(rel(g2, d2)).toBeLessThan(1e-8);
  }, 60_000);

  it("forward over reverse (jvp of grad) gives the same second derivative", () => {
    const [g, h] = jvp(grad(sinChain(n)), [f64(1.2)], [f64(1)]);
    expect(rel(g.item(), d1)).toBeLessThan(1e-9);
    expect(rel(h.item(), d2)).toBeLessThan(1e-8);
  }, 60_000);
});
