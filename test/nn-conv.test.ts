import { describe, expect, it } from "vitest";
import { grad, jvp, mul, nn, randn, sum, tensor, vjp, ShapeError } from "../src/index.js";
import type { Tensor } from "../src/index.js";
import { expectAllClose } from "./helpers/close.js";

const r64 = (shape: number[], seed: number) => randn(shape, { seed, dtype: "float64" });

/** Direct 7-loop convolution (cross-correlation), the independent reference. */
function naiveConv(x: Tensor, w: Tensor, b: Tensor | null, stride: [number, number], pad: [number, number]): number[] {
  const [n, c, h, wd] = x.shape as number[];
  const [o, , kh, kw] = w.shape as number[];
  const oh = Math.floor((h! + 2 * pad[0] - kh!) / stride[0]) + 1;
  const ow = Math.floor((wd! + 2 * pad[1] - kw!) / stride[1]) + 1;
  const out: number[] = [];
  for (let ni = 0; ni < n!; ni++)
    for (let oi = 0; oi < o!; oi++)
      for (let r = 0; r < oh; r++)
        for (let q = 0; q < ow; q++) {
          let s = b ? b.data[oi]! : 0;
          for (let ci = 0; ci < c!; ci++)
            for (let i = 0; i < kh!; i++)
              for (let j = 0; j < kw!; j++) {
                const ih = r * stride[0] - pad[0] + i, iw = q * stride[1] - pad[1] + j;
                if (ih < 0 || iw < 0 || ih >= h! || iw >= wd!) continue;
                s += x.data[((ni * c! + ci) * h! + ih) * wd! + iw]! * w.data[((oi * c! + ci) * kh! + i) * kw! + j]!;
              }
          out.push(s);
        }
  return out;
}

function numericGrad(f: (x: Tensor) => Tensor, x: Tensor, h = 1e-6): number[] {
  const base = Float64Array.from(x.data);
  return Array.from(base, (_, i) => {
    const p = Float64Array.from(base), m = Float64Array.from(base);
    p[i]! += h;
    m[i]! -= h;
    return (f(tensor(p, { shape: x.shape })).item() - f(tensor(m, { shape: x.shape })).item()) / (2 * h);
  });
}

describe("conv2d", () => {
  it("matches the direct loop with stride, padding and a non-square kernel", () => {
    const x = r64([2, 3, 7, 6], 1), w = r64([4, 3, 3, 2], 2), b = r64([4], 3);
    const out = nn.conv2d(x, w, b, { stride: [2, 1], padding: [1, 0] });
    expect(out.shape).toEqual([2, 4, 4, 5]);
    expectAllClose(out, naiveConv(x, w, b, [2, 1], [1, 0]), 1e-12, 1e-12);
    expectAllClose(nn.conv2d(x, w), naiveConv(x, w, null, [1, 1], [0, 0]), 1e-12, 1e-12);
  });

  it("gradients for input, weight and bias match central differences", () => {
    const x = r64([2, 2, 5, 5], 4), w = r64([3, 2, 3, 3], 5), b = r64([3], 6);
    const ct = r64([2, 3, 3, 3], 7);
    const opts = { stride: 2, padding: 1 };
    const loss = (xx: Tensor, ww: Tensor, bb: Tensor) => sum(mul(nn.conv2d(xx, ww, bb, opts), ct));
    const [gx, gw, gb] = grad(loss, { argnums: [0, 1, 2] })(x, w, b);
    expectAllClose(gx, numericGrad((v) => loss(v, w, b), x), 1e-6, 1e-8);
    expectAllClose(gw, numericGrad((v) => loss(x, v, b), w), 1e-6, 1e-8);
    expectAllClose(gb, numericGrad((v) => loss(x, w, v), b), 1e-6, 1e-8);
  });

  it("reverse and forward mode agree: ⟨ct, jvp(t)⟩ = ⟨vjp(ct), t⟩", () => {
    const x = r64([1, 2, 6, 5], 8), w = r64([2, 2, 2, 3], 9);
    const tx = r64([1, 2, 6, 5], 10), tw = r64([2, 2, 2, 3], 11);
    const f = (a: Tensor, c: Tensor) => nn.conv2d(a, c, null, { stride: [1, 2], padding: 1 });
    const [out, pullback] = vjp(f, x, w);
    const ct = r64(out.shape as number[], 12);
    const [cx, cw] = pullback(ct);
    const [, tOut] = jvp(f, [x, w], [tx, tw]);
    const lhs = sum(mul(ct, tOut)).item();
    const rhs = sum(mul(cx, tx)).item() + sum(mul(cw, tw)).item();
    expect(Math.abs(lhs - rhs)).toBeLessThan(1e-10 * Math.max(1, Math.abs(lhs)));
  });

  it("second order: d/dw of ⟨∂L/∂x, v⟩ matches central differences", () => {
    const x = r64([1, 1, 4, 4], 13), w = r64([2, 1, 2, 2], 14), v = r64([1, 1, 4, 4], 15);
    const L = (xx: Tensor, ww: Tensor) => sum(mul(nn.conv2d(xx, ww), nn.conv2d(xx, ww)));
    const inner = (ww: Tensor) => sum(mul(grad(L)(x, ww), v));
    expectAllClose(grad(inner)(w), numericGrad(inner, w), 1e-5, 1e-7);
  });

  it("second order through the weight path and forward-over-reverse agree with central differences", () => {
    const x = r64([2, 2, 5, 4], 16), w = r64([3, 2, 3, 2], 17), v = r64([3, 2, 3, 2], 18);
    const opts = { stride: [2, 1] as [number, number], padding: 1 };
    const L = (ww: Tensor) => sum(mul(nn.conv2d(x, ww, null, opts), nn.conv2d(x, ww, null, opts)));
    const inner = (ww: Tensor) => sum(mul(grad(L)(ww), v));
    const hv = grad(inner)(w);
    expectAllClose(hv, numericGrad(inner, w), 1e-5, 1e-7);
    const [, hvFwd] = jvp((ww: Tensor) => grad(L)(ww), [w], [v]);
    expectAllClose(hvFwd, hv, 1e-10, 1e-10);
  });

  it("rejects mismatched channels and bad shapes", () => {
    expect(() => nn.conv2d(r64([1, 2, 5, 5], 1), r64([3, 1, 3, 3], 2))).toThrow(/input has 2 channels .* weight expects 1/);
    expect(() => nn.conv2d(r64([2, 5, 5], 1), r64([3, 1, 3, 3], 2))).toThrow(ShapeError);
    expect(() => nn.conv2d(r64([1, 1, 2, 2], 1), r64([3, 1, 3, 3], 2))).toThrow(/does not fit/);
    expect(() => nn.conv2d(r64([1, 1, 5, 5], 1), r64([3, 1, 3, 3], 2), r64([2], 3))).toThrow(/bias must have shape \[3\]/);
  });
});

describe("pooling", () => {
  const x = tensor([[[[1, 5, 2, 0], [3, 4, 8, 1], [0, 2, 6, 7], [9, 1, 3, 2]]]], { dtype: "float64" });

  it("maxPool2d with tiling windows takes each window's maximum and routes the gradient there", () => {
    const out = nn.maxPool2d(x, 2);
    expect(out.shape).toEqual([1, 1, 2, 2]);
    expect(Array.from(out.data)).toEqual([5, 8, 9, 7]);
    const g = grad((v: Tensor) => sum(mul(nn.maxPool2d(v, 2), tensor([[[[1, 2], [3, 4]]]], { dtype: "float64" }))))(x);
    expect(Array.from(g.data)).toEqual([0, 1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 4, 3, 0, 0, 0]);
  });

  it("maxPool2d with overlapping windows and padding (padding never wins)", () => {
    const out = nn.maxPool2d(x, 3, { stride: 2, padding: 1 });
    expect(out.shape).toEqual([1, 1, 2, 2]);
    expect(Array.from(out.data)).toEqual([5, 8, 9, 8]);
    const neg = nn.maxPool2d(mul(x, -1), 2, { stride: 1, padding: 1 });
    expect(neg.data[0]).toBe(-1); // a padded window holds only x[0,0] = −1, never the padding
  });

  it("avgPool2d averages, counting zero padding as PyTorch does", () => {
    expect(Array.from(nn.avgPool2d(x, 2).data)).toEqual([13 / 4, 11 / 4, 12 / 4, 18 / 4]);
    const p = nn.avgPool2d(x, 2, { stride: 2, padding: 1 });
    expect(p.shape).toEqual([1, 1, 3, 3]);
    expect(p.data[0]).toBe(1 / 4);
    const g = grad((v: Tensor) => sum(nn.avgPool2d(v, 2)))(x);
    expect(Array.from(g.data)).toEqual(new Array(16).fill(0.25));
  });

  it("max pooling: the first of tied maxima gets the gradient (PyTorch), and second order works", () => {
    const tie = tensor([[[[1, 1], [0, 1]]]]);
    expect(Array.from(grad((v: Tensor) => sum(nn.maxPool2d(v, 2)))(tie).data)).toEqual([1, 0, 0, 0]);
    const v = r64([1, 2, 4, 4], 22), d = r64([1, 2, 4, 4], 23);
    const f = (a: Tensor) => sum(mul(nn.maxPool2d(mul(a, a), 2), nn.maxPool2d(a, 2)));
    const inner = (a: Tensor) => sum(mul(grad(f)(a), d));
    expectAllClose(grad(inner)(v), numericGrad(inner, v), 1e-5, 1e-7);
  });

  it("max pooling gradients match central differences on random data (no ties)", () => {
    const v = r64([2, 2, 5, 5], 20);
    const ct = r64([2, 2, 3, 3], 21);
    const f = (a: Tensor) => sum(mul(nn.maxPool2d(a, 3, { stride: 2, padding: 1 }), ct));
    expectAllClose(grad(f)(v), numericGrad(f, v), 1e-6, 1e-8);
  });
});
