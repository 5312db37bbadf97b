import { describe, expect, it } from "vitest";
import {
  checkpoint, grad, jvp, matmul, nn, Rng, sum, tanh, tensor, GradientError, ValueError, type Tensor,
} from "../src/index.js";
import type { Node } from "../src/autodiff/trace.js";

// checkpoint (rematerialisation): gradients equal to the bit to the plain computation, f recomputed in the
// backward pass, and the graph keeping only the checkpointed blocks' inputs and outputs.

const bits = (t: Tensor) => Array.from(t.data as ArrayLike<number>);
const sameBits = (a: Tensor, b: Tensor) => {
  expect(a.shape).toEqual(b.shape);
  const x = bits(a), y = bits(b);
  for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) expect.fail(`element ${i}: ${x[i]} vs ${y[i]}`);
};

function deepTanh(depth: number, width: number, dtype: "float32" | "float64") {
  const rng = new Rng(7);
  return Array.from({ length: depth }, () => new nn.Linear(width, width, { rng, dtype }));
}
const layer = (p: { W: Tensor; b: Tensor }, h: Tensor) => tanh(matmul(h, p.W).add(p.b));

/** Bytes of every distinct value the graph behind `t` keeps for its backward pass (leaves excluded). */
function graphBytes(t: Tensor): number {
  const seen = new Set<Node>(), buffers = new Set<ArrayBufferLike>();
  const stack: Node[] = t._node ? [t._node] : [];
  let bytes = 0;
  const keep = (v: unknown) => {
    if (v && typeof v === "object" && "_data" in v) {
      const d = (v as Tensor)._data;
      if (d && !buffers.has(d.buffer)) { buffers.add(d.buffer); bytes += d.byteLength; }
    }
  };
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    if (n.prim !== null) keep(n.out);
    for (let i = 0; i < Math.max(n.arity, 0); i++) {
      const p = n.input(i);
      if (p === null) continue;
      if ("arity" in p) stack.push(p as Node); else keep(p);
    }
  }
  return bytes;
}

describe("checkpoint", () => {
  const params = (dtype: "float32" | "float64") => {
    const rng = new Rng(3);
    return Array.from({ length: 6 }, () => ({
      W: tensor(Array.from({ length: 8 }, () => Array.from({ length: 8 }, () => rng.normal() * 0.6)), { dtype }),
      b: tensor(Array.from({ length: 8 }, () => rng.normal() * 0.1), { dtype }),
    }));
  };
  const x0 = (dtype: "float32" | "float64") => tensor(Array.from({ length: 4 }, (_, i) => Array.from({ length: 8 }, (_, j) => Math.sin(i + 2 * j))), { dtype });

  for (const dtype of ["float32", "float64"] as const) {
    it(`${dtype}: gradients equal to the bit, for the parameters and the input`, () => {
      const ps = params(dtype), x = x0(dtype);
      const block = checkpoint(layer);
      const plain = (p: typeof ps, h: Tensor) => sum(p.reduce((y, q) => layer(q, y), h).square());
      const remat = (p: typeof ps, h: Tensor) => sum(p.reduce((y, q) => block(q, y), h).square());
      const [gp1, gx1] = grad(plain, { argnums: [0, 1] })(ps, x);
      const [gp2, gx2] = grad(remat, { argnums: [0, 1] })(ps, x);
      sameBits(gx1, gx2);
      gp1.forEach((g, i) => { sameBits(g.W, gp2[i]!.W); sameBits(g.b, gp2[i]!.b); });
    });
  }

  it("f runs again in the backward pass, once per call; plain calls and forward mode run it once", () => {
    let runs = 0;
    const f = checkpoint((h: Tensor) => { runs++; return tanh(h).mul(h); });
    const x = tensor([0.5, -1, 2], { dtype: "float64" });
    f(x);
    expect(runs).toBe(1);
    runs = 0;
    grad((h: Tensor) => sum(f(h)))(x);
    expect(runs).toBe(2);
    runs = 0;
    const [, t] = jvp((h: Tensor) => sum(f(h)), [x], [tensor([1, 0, 0], { dtype: "float64" })]);
    expect(runs).toBe(1);
    const d = (v: number) => Math.tanh(v) + v * (1 - Math.tanh(v) ** 2);
    expect(t.item()).toBeCloseTo(d(0.5), 14);
  });

  it("second order: grad of grad and forward-over-reverse through a checkpoint equal the plain ones", () => {
    const g = (v: Tensor) => sum(tanh(v).mul(v).square());
    const c = checkpoint(g);
    const x = tensor([0.3, -0.7, 1.1], { dtype: "float64" });
    const h1 = grad((v: Tensor) => sum(grad(g)(v).mul(v)))(x);
    const h2 = grad((v: Tensor) => sum(grad(c)(v).mul(v)))(x);
    sameBits(h1, h2);
    const e = tensor([1, 2, 3], { dtype: "float64" });
    sameBits(jvp(grad(g), [x], [e])[1], jvp(grad(c), [x], [e])[1]);
  });

  it("a tensor being differentiated read from f's closure is refused with a message naming the fix", () => {
    const W = tensor([[1, 2], [3, 4]], { dtype: "float64" });
    const x = tensor([[1, 1]], { dtype: "float64" });
    const bad = (w: Tensor) => sum(checkpoint(function block(h: Tensor) { return matmul(h, w); })(x));
    expect(() => grad(bad)(W)).toThrow(GradientError);
    expect(() => grad(bad)(W)).toThrow(/checkpoint\(block\): f read a tensor that is being differentiated from its closure.*nn\.checkpointModule/);
    // A closed-over constant is fine.
    const ok = (v: Tensor) => sum(checkpoint((h: Tensor) => matmul(h, W))(v));
    expect(bits(grad(ok)(x))).toEqual([3, 7]);
  });

  it("numbers and int tensors pass through as they are; ints get no gradient", () => {
    const f = checkpoint((h: Tensor, k: number, idx: Tensor) => h.mul(k).take(idx));
    const x = tensor([1, 2, 3], { dtype: "float64" });
    const idx = tensor([2, 2, 0], { dtype: "int32" });
    expect(bits(grad((v: Tensor) => sum(f(v, 3, idx)))(x))).toEqual([3, 0, 6]);
  });
});

describe("checkpointModule and checkpointSequential", () => {
  it("imperative backward(): the same parameter gradients, to the bit, as the plain model", () => {
    const a = deepTanh(5, 6, "float64"), b = deepTanh(5, 6, "float64");
    const x = tensor(Array.from({ length: 3 }, (_, i) => Array.from({ length: 6 }, (_, j) => Math.cos(i * 6 + j))), { dtype: "float64" });
    sum(a.reduce((h, l) => tanh(l.forward(h)), x).square()).backward();
    sum(b.reduce((h, l) => tanh(nn.checkpointModule(l, h)), x).square()).backward();
    a.forEach((l, i) => {
      sameBits(l.parameters()["weight"]!.grad!, b[i]!.parameters()["weight"]!.grad!);
      sameBits(l.parameters()["bias"]!.grad!, b[i]!.parameters()["bias"]!.grad!);
    });
  });

  it("functional style through model.apply, with segments; the graph keeps only the segments' boundaries", () => {
    class Deep extends nn.Module {
      segments = 0; // 0: plain
      constructor(readonly layers: nn.Module[]) { super(); layers.forEach((l, i) => this.registerModule(String(i), l)); }
      forward(h: Tensor) { return this.segments === 0 ? this.layers.reduce((y, l) => l.forward(y), h) : nn.checkpointSequential(this.layers, this.segments, h); }
    }
    const model = new Deep(deepTanh(8, 16, "float64").flatMap((l) => [l, new nn.Tanh()]));
    const x = tensor(Array.from({ length: 32 }, (_, i) => Array.from({ length: 16 }, (_, j) => Math.sin(i + j / 3))), { dtype: "float64" });
    const loss = (p: nn.StateDict) => sum(model.apply(p, x).square());
    const p = model.parameters();
    const g1 = grad(loss)(p);
    model.segments = 4;
    const g2 = grad(loss)(p);
    for (const k of Object.keys(g1)) sameBits(g1[k]!, g2[k]!);
    // Graph memory: one 32×16 float64 activation is 4 KiB; the 16 plain layers keep at least 15 of them
    // (tanh keeps its input and output), the 4 segments their 4 inputs and the output.
    const act = 32 * 16 * 8;
    const remOut = sum(model.forward(x).square());
    model.segments = 0;
    const plainOut = sum(model.forward(x).square());
    expect(graphBytes(plainOut)).toBeGreaterThanOrEqual(15 * act);
    expect(graphBytes(remOut)).toBeLessThanOrEqual(6 * act);
  });

  it("bad segment counts are refused", () => {
    const layers = deepTanh(3, 2, "float32");
    const x = tensor([[1, 2]]);
    expect(() => nn.checkpointSequential(layers, 0, x)).toThrow(ValueError);
    expect(() => nn.checkpointSequential(layers, 4, x)).toThrow(/segments must be an integer from 1 to 3 \(the number of layers\), got 4/);
  });
});

