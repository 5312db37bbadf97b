// jit: staging, caching and retracing, fusion boundaries, buffer reuse, value-read errors, guards, and
// composition with grad/vjp/jvp/vmap/jit. Values are compared with eager evaluation of the same function.
import { describe, expect, it } from "vitest";
import { setKernelMinimums } from "../src/kernels/registry.js";
import { compiledRuns } from "../src/jit/compile.js";
import {
  add, exp, availableBackends, getBackend, setBackend, log1p, maximum, minimum, sub, div, neg, abs, rsqrt, reciprocal, cast, less, equal, grad, jit, jvp, matmul, mul, nn, relu, reshape, scalar, sigmoid, sin, square, sum, tanh, tensor, valueAndGrad, vjp, vmap, where,
  greater, noGrad, checkpoint, customVjp, sqrt, type Tensor,
} from "../src/index.js";

const close = (got: Tensor, want: Tensor, tol = 1e-10): void => {
  expect(got.shape).toEqual(want.shape);
  const g = got.data, w = want.data;
  for (let i = 0; i < w.length; i++) expect(Math.abs(g[i]! - w[i]!), `element ${i}: ${g[i]} vs ${w[i]}`).toBeLessThanOrEqual(tol * (1 + Math.abs(w[i]!)));
};

const x3 = (): Tensor => tensor([0.5, -1.25, 2], { dtype: "float64" });

describe("jit: staging and the cache", () => {
  it("traces once per signature and runs the compiled program afterwards, on new values", () => {
    let calls = 0;
    const f = (x: Tensor) => {
      calls++;
      return sum(mul(sin(x), x));
    };
    const g = jit(f);
    close(g(x3()), f(x3()));
    expect(calls).toBe(2); // one trace, one eager reference
    const y = tensor([3, 1, -2], { dtype: "float64" });
    close(g(y), sum(mul(sin(y), y)));
    expect(calls).toBe(2); // no retrace: same shape and dtype
  });

  it("retraces on a new shape, dtype or pytree structure, and keeps the old programs", () => {
    let traces = 0;
    const g = jit((p: { a: Tensor; b: Tensor[] }) => {
      traces++;
      return add(p.a, p.b[0]!);
    });
    g({ a: x3(), b: [x3()] });
    g({ a: x3(), b: [x3()] });
    expect(traces).toBe(1);
    const r = g({ a: tensor([[1, 2]], { dtype: "float64" }), b: [tensor([10, 20], { dtype: "float64" })] });
    expect(traces).toBe(2);
    expect(r.toArray()).toEqual([[11, 22]]);
    g({ a: x3().astype("float32"), b: [x3()] });
    expect(traces).toBe(3);
    g({ a: x3(), b: [x3(), x3()] });
    expect(traces).toBe(4);
    g({ a: x3(), b: [x3()] });
    expect(traces).toBe(4);
  });

  it("staticArgnums: the argument is a JS value f may branch on; each new value traces again", () => {
    let traces = 0;
    const g = jit((x: Tensor, mode: string) => {
      traces++;
      return mode === "double" ? mul(x, 2) : square(x);
    }, { staticArgnums: [1] });
    expect(g(x3(), "double").toArray()).toEqual([1, -2.5, 4]);
    expect(g(x3(), "square").toArray()).toEqual([0.25, 1.5625, 4]);
    expect(g(tensor([1, 2, 3], { dtype: "float64" }), "double").toArray()).toEqual([2, 4, 6]);
    expect(traces).toBe(2);
  });

  it("numbers among the arguments are static: a new number traces again", () => {
    let traces = 0;
    const g = jit((x: Tensor, k: number) => {
      traces++;
      return mul(x, k);
    });
    expect(g(x3(), 2).toArray()).toEqual([1, -2.5, 4]);
    expect(g(x3(), 3).toArray()).toEqual([1.5, -3.75, 6]);
    expect(g(x3(), 2).toArray()).toEqual([1, -2.5, 4]);
    expect(traces).toBe(2);
  });

  it("reading a traced value to branch throws, naming the accessor and the way out", () => {
    const g = jit((x: Tensor) => (sum(x).item() > 0 ? x : mul(x, -1)));
    expect(() => g(x3())).toThrow(/jit: item\(\) reads the value of a traced tensor \(shape \[\], float64\) inside jit\(f\).*where\(cond, a, b\).*staticArgnums/);
    expect(() => jit((x: Tensor) => x.data[0])(x3())).toThrow(/jit: \.data reads the value of a traced tensor \(shape \[3\]/);
    expect(() => jit((x: Tensor) => x.toArray())(x3())).toThrow(/jit: toArray\(\) reads/);
    // The suggested rewrite works.
    const h = jit((x: Tensor) => where(greater(sum(x), 0), x, mul(x, -1)));
    expect(h(x3()).toArray()).toEqual([0.5, -1.25, 2]);
    expect(h(tensor([-1, -2, 1], { dtype: "float64" })).toArray()).toEqual([1, 2, -1]);
  });

  it("jit(f) must get a function", () => {
    expect(() => jit(5 as never)).toThrow(/jit: f must be a function, got number/);
    expect(() => jit((x: Tensor) => x, { staticArgnums: [-1] })).toThrow(/staticArgnums must hold argument positions/);
  });
});

describe("jit: the README's example", () => {
  it("prints the program the README shows, with grad's unused forward value dropped", async () => {
    const { readFileSync } = await import("node:fs");
    const f = (x: Tensor) => sum(mul(sin(x), exp(x)));
    const df = jit(grad(f));
    const x = tensor([0.5, -1, 2]);
    close(df(x), grad(f)(x), 0);
    const text = df.lower(x).toText();
    expect(text).not.toContain("sum");
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    expect(readme).toContain("```\n" + text + "\n```");
  });
});

describe("jit: grad's seed cotangent", () => {
  it("is staged, so products by it leave the program; a closed-over tensor of ones is still read on every call", () => {
    const ones = tensor([1, 1, 1]);
    const f = (x: Tensor) => sum(mul(mul(x, x), ones));
    const g = jit(grad(f));
    const x = tensor([0.5, -1, 2]);
    close(g(x), grad(f)(x), 0);
    const text = g.lower(x).toText();
    // The seed's broadcast and the products by it are gone; the closed-over ones are a constant the program reads.
    expect(text).toMatch(/^\{ lambda c0:f32\[3\] ; x0:f32\[3\] \./);
    // mul(x, x)'s pullback: the cotangent (seed·ones = ones, no step) times x, twice, then their sum.
    expect(text.match(/ = mul /g)).toHaveLength(2);
    ones.assign(tensor([2, 2, 2])); // updated in place: the program sees it, as eager evaluation does
    close(g(x), grad(f)(x), 0);
    expect(Array.from(g(x).data)).toEqual([2, -4, 8]);
  });
});

describe("jit: fusion boundaries", () => {
  const groups = (text: string): string[] => text.split("\n").filter((l) => l.includes("fused[")).map((l) => l.trim());

  it("a chain of elementwise ops is one group, and only what leaves it is written out", () => {
    const f = (x: Tensor, y: Tensor) => mul(exp(sin(x)), add(y, 1));
    const g = jit(f);
    const x = x3(), y = tensor([1, 2, 3], { dtype: "float64" });
    close(g(x, y), f(x, y));
    close(g(y, x), f(y, x));
    expect(g.lower(x, y).toText()).toMatchInlineSnapshot(`
      "{ lambda x0:f64[3] x1:f64[3] .
        let fused[n=3] {
                u:f64[3] = sin x0
                v:f64[3] = exp u
                w:f64[3] = add x1 1
                u1:f64[3] = mul v w
              } → ( u1 )
        in ( u1 ) }"
    `);
  });

  it("a scalar and a bias row (trailing dimensions) fuse; a column broadcast is a boundary", () => {
    const s = scalar(2, { dtype: "float64" });
    const f = (x: Tensor, b: Tensor) => tanh(add(mul(x, s), b));
    const x = tensor([[1, 2, 3], [4, 5, 6]], { dtype: "float64" });
    const row = tensor([0.1, 0.2, 0.3], { dtype: "float64" });
    const col = tensor([[0.1], [0.2]], { dtype: "float64" });
    const g = jit(f);
    for (const b of [row, col]) {
      close(g(x, b), f(x, b));
      close(g(mul(x, -1), b), f(mul(x, -1), b));
    }
    expect(groups(g.lower(x, row).toText())).toHaveLength(1);
    // [2,1] against [2,3] is not the output's trailing dimensions: add runs its own kernel between two groups.
    const text = g.lower(x, col).toText();
    expect(text).toMatch(/\n {6}v:f64\[2,3\] = add u x1\n/);
    expect(groups(text)).toHaveLength(2);
  });

  it("a full sum joins its input's group, and what reads it starts another; a partial reduction ends the group", () => {
    const f = (x: Tensor) => exp(mul(sum(square(x)), x));
    const g = jit(f);
    const x32 = tensor([0.5, -1, 2]); // float32: float64 sums stay steps
    close(g(x32), f(x32), 0);
    const text = g.lower(x32).toText();
    expect(groups(text)).toHaveLength(2);
    expect(groups(g.lower(x3()).toText())).toHaveLength(2);
    // The sum is a member of the first group (written out after its loop), not a step between the groups.
    expect(text).toMatch(/fused\[n=3\] \{\n\s+u:f32\[3\] = square x0\n\s+v:f32\[\] = sum\[axes=\[0\] keepDims=false\] u\n\s+\} → \( v \)/);
    const rows = (x: Tensor) => exp(sum(square(x), 1));
    const x = tensor([1, 2, 3, 4, 5, 6], { shape: [2, 3] });
    const h = jit(rows);
    close(h(x), rows(x));
    const t2 = h.lower(x).toText();
    expect(groups(t2)).toHaveLength(2);
    expect(t2).toMatch(/\} → \( u \)\n\s+v:f32\[2\] = sum\[axes=\[1\] keepDims=false\] u/);
  });

  it("a value used twice stays in a register; an output that is also an intermediate is written out and used", () => {
    const f = (x: Tensor): [Tensor, Tensor] => {
      const u = sin(x);
      const v = mul(u, u); // u used twice
      return [u, add(v, u)]; // u is an output and feeds the next op
    };
    const g = jit(f);
    const [a, b] = g(x3());
    const [c, d] = f(x3());
    close(a, c);
    close(b, d);
    const [a2, b2] = g(tensor([1, 2, 3], { dtype: "float64" }));
    const [c2, d2] = f(tensor([1, 2, 3], { dtype: "float64" }));
    close(a2, c2);
    close(b2, d2);
    const text = g.lower(x3()).toText();
    expect(groups(text)).toHaveLength(1);
    expect(text).toContain("} → ( u w )");
  });

  it("forward and backward of an elementwise function fuse into one group; the gradient matches eager", () => {
    const f = (v: Tensor) => sum(add(mul(tanh(v), sigmoid(v)), exp(mul(square(v), -1))));
    const vg = valueAndGrad(f);
    const g = jit(vg);
    const x = tensor(Float64Array.from({ length: 50 }, (_, i) => Math.sin(i) * 3), { dtype: "float64" });
    for (const input of [x, mul(x, 0.5)]) {
      const [v1, g1] = g(input);
      const [v2, g2] = vg(input);
      close(v1, v2);
      close(g1, g2);
    }
    const text = g.lower(x).toText();
    expect(groups(text)).toHaveLength(1);
    expect(text).toContain("tanhGrad");
  });

  it("values only fused loops read reuse buffers by liveness, and repeated calls stay right", () => {
    // Two groups over [3] separated by reductions: the first group's values are read by the second group only.
    const f = (x: Tensor) => {
      const a = exp(sin(x));
      const s = sum(x); // a boundary that does not read a
      const b = mul(a, s);
      const c = sum(b);
      return add(mul(tanh(b), c), a);
    };
    const g = jit(f);
    for (const v of [x3(), tensor([0, 1, -1], { dtype: "float64" }), x3()]) close(g(v), f(v));
    expect(g.lower(x3()).toText()).toContain("# buffer");
  });
});

describe("jit: fused loops on every backend", () => {
  // float32 values through every op a backend's fused loop implements, with a scalar and a bias row: jit must
  // give the backend's own eager values. 1,300 elements: tiles of 512 and a partial one; 33,300: the wasm
  // loop's chunks of 16,384 elements, two whole and a partial one ending in a partial vector pair.
  const row = tensor(Float32Array.from({ length: 100 }, (_, i) => 0.5 + Math.cos(i)), { shape: [100] });
  const inputOf = (rows: number): Tensor =>
    tensor(Float32Array.from({ length: rows * 100 }, (_, i) => Math.sin(i) * 3), { shape: [rows, 100] });
  const body = (v: Tensor, b: Tensor): Tensor => {
    const a = add(mul(tanh(v), sigmoid(b)), exp(neg(square(v))));
    const c = div(sub(maximum(v, b), minimum(v, 0.25)), add(abs(b), 1));
    const d = mul(log1p(abs(v)), rsqrt(add(square(b), 1)));
    const e = where(less(v, b), relu(v), reciprocal(add(abs(v), 2)));
    const f = cast(cast(equal(relu(v), 0), "bool"), "float32");
    return sum(add(add(a, c), add(add(d, e), mul(f, sqrt(abs(b))))));
  };
  const vg = valueAndGrad(body, { argnums: [0, 1] });
  for (const backend of availableBackends()) {
    it(`${backend}: forward and backward under jit equal eager`, () => {
      const before = getBackend().name;
      setBackend(backend);
      setKernelMinimums(0);
      try {
        const j = jit(vg);
        for (const x of [inputOf(13), inputOf(333)]) for (const input of [x, mul(x, -0.5)]) {
          const [v1, [g1, h1]] = j(input, row);
          const [v2, [g2, h2]] = vg(input, row);
          // Each fused op computes what the backend's eager kernel does: equal to the bit.
          close(v1, v2, 0);
          close(g1, g2, 0);
          close(h1, h2, 0);
        }
        expect(j.lower(inputOf(13), row).toText()).toContain("fused[n=1300]");
      } finally {
        setKernelMinimums(null);
        setBackend(before);
      }
    });

    it(`${backend}: a full sum accumulated in the fused loop equals the eager sum to the bit`, () => {
      // The loop sums in the order of the backend's reduce kernel: tanh runs in wasm on wasm and blas, sin
      // does not (its loop is JavaScript, summing in wasm's order all the same). Sizes with 1 and 3 elements
      // past the last whole group of four, one loop chunk and three.
      const before = getBackend().name;
      setBackend(backend);
      setKernelMinimums(0);
      try {
        for (const g of [(v: Tensor) => sum(mul(tanh(v), v)), (v: Tensor) => sum(mul(sin(v), v))]) {
          const j = jit(g);
          for (const n of [1297, 33303]) {
            const v = tensor(Float32Array.from({ length: n }, (_, i) => Math.cos(i * 0.37) * (1 + (i % 7))));
            close(j(v), g(v), 0); // traces (the values are computed eagerly while recording)
            const runs = compiledRuns.count;
            for (const w of [mul(v, -1.5), add(v, 0.25)]) close(j(w), g(w), 0); // the compiled program
            expect(compiledRuns.count - runs).toBe(2);
            expect(j.lower(v).toText()).toMatch(/fused\[n=\d+\] \{[^}]*= sum\[axes=\[0\]/);
          }
        }
      } finally {
        setKernelMinimums(null);
        setBackend(before);
      }
    });
  }
});

describe("jit: library rules that read values", () => {
  it("crossEntropy with traced labels keeps a check; new labels run eagerly and stay right", () => {
    const logits = tensor([[1, 2, 3], [0.5, -1, 2]], { dtype: "float64" });
    const f = (z: Tensor, y: Tensor) => nn.crossEntropy(z, y);
    const g = jit(f);
    const y1 = tensor([2, 0], { dtype: "int32" }), y2 = tensor([1, 1], { dtype: "int32" });
    close(g(logits, y1), f(logits, y1));
    close(g(logits, y1), f(logits, y1));
    close(g(logits, y2), f(logits, y2)); // differs from the traced labels: eager fallback
  });
});

describe("jit: strong zeros (a NaN-free fast path, checked in the fused loop)", () => {
  // d/dx where(x > 0, sqrt(x), 0) is 0 for x < 0: the untaken branch's 0·∞ must not leak a NaN.
  const f = (x: Tensor) => sum(where(greater(x, 0), sqrt(x), 0));
  const pos = tensor([1, 4, 9], { dtype: "float64" }), mixed = tensor([-1, 4, 0], { dtype: "float64" });

  it("traced where no NaN arises, a call that meets one reruns eagerly and gets the repaired gradient", () => {
    const g = jit(grad(f));
    close(g(pos), grad(f)(pos));
    expect(g.lower(pos).toText()).toContain("has no NaN");
    const got = g(mixed), want = grad(f)(mixed);
    expect(Array.from(want.data).every(Number.isFinite)).toBe(true);
    close(got, want);
  });

  it("traced where a NaN arises, the program repairs for every value", () => {
    const g = jit(grad(f));
    close(g(mixed), grad(f)(mixed));
    expect(g.lower(mixed).toText()).not.toContain("has no NaN");
    close(g(pos), grad(f)(pos));
    close(g(mul(mixed, 2)), grad(f)(mul(mixed, 2)));
  });
});

describe("jit: composition", () => {
  const f = (x: Tensor) => sum(mul(sin(x), exp(x)));

  it("grad of jit, jit of grad, and jit of grad of grad (a Hessian-vector product) agree with eager", () => {
    close(grad(jit(f))(x3()), grad(f)(x3()));
    const jg = jit(grad(f));
    close(jg(x3()), grad(f)(x3()));
    close(jg(mul(x3(), 2)), grad(f)(mul(x3(), 2)));
    const t = tensor([1, 0.5, -1], { dtype: "float64" });
    const hvp = (x: Tensor) => jvp(grad(f), [x], [t])[1];
    close(jit(hvp)(x3()), hvp(x3()));
    close(jit(hvp)(mul(x3(), 3)), hvp(mul(x3(), 3)));
  });

  it("jvp and vjp of jit; jit of vmap and vmap of jit; jit of jit", () => {
    const t = tensor([1, 2, 3], { dtype: "float64" });
    const [o1, t1] = jvp(jit(f), [x3()], [t]);
    const [o2, t2] = jvp(f, [x3()], [t]);
    close(o1, o2);
    close(t1, t2);
    const [, pb1] = vjp(jit(f), x3());
    const [, pb2] = vjp(f, x3());
    close(pb1(scalar(1, { dtype: "float64" }))[0]!, pb2(scalar(1, { dtype: "float64" }))[0]!);
    const xs = tensor([[1, 2, 3], [0.1, 0.2, 0.3]], { dtype: "float64" });
    close(jit(vmap(f))(xs), vmap(f)(xs));
    close(jit(vmap(grad(f)))(xs), vmap(grad(f))(xs));
    close(vmap(jit(f))(xs), vmap(f)(xs));
    const inner = jit((x: Tensor) => exp(sin(x)));
    const outer = jit((x: Tensor) => sum(mul(inner(x), x)));
    close(outer(x3()), sum(mul(exp(sin(x3())), x3())));
    // The inner function's ops are staged in the outer program, fused with the outer ones, and marked with its name.
    expect(outer.lower(x3()).toText()).toMatch(/fused\[n=3\] \{\n\s+u:f64\[3\] = sin x0   # jit\(f\)\n\s+v:f64\[3\] = exp u   # jit\(f\)\n\s+w:f64\[3\] = mul v x0\n/);
  });

  it("an MLP training step under jit (matmuls, relu, crossEntropy, update) equals the eager step", () => {
    const X = tensor(Float64Array.from({ length: 8 * 5 }, (_, i) => Math.cos(i)), { shape: [8, 5], dtype: "float64" });
    const y = tensor([0, 1, 2, 1, 0, 2, 2, 1], { dtype: "int32" });
    const loss = (w1: Tensor, w2: Tensor) => nn.crossEntropy(matmul(relu(matmul(X, w1)), w2), y);
    const step = (w1: Tensor, w2: Tensor): [Tensor, Tensor, Tensor] => {
      const [l, [g1, g2]] = valueAndGrad(loss, { argnums: [0, 1] })(w1, w2);
      return [l, add(w1, mul(g1, -0.1)), add(w2, mul(g2, -0.1))];
    };
    const jstep = jit(step);
    let a = tensor(Float64Array.from({ length: 20 }, (_, i) => Math.sin(i) * 0.5), { shape: [5, 4], dtype: "float64" });
    let b = tensor(Float64Array.from({ length: 12 }, (_, i) => Math.cos(i) * 0.5), { shape: [4, 3], dtype: "float64" });
    let ea = a, eb = b;
    for (let k = 0; k < 3; k++) {
      const [l1, a1, b1] = jstep(a, b);
      const [l2, a2, b2] = step(ea, eb);
      close(l1, l2);
      close(a1, a2);
      close(b1, b2);
      [a, b, ea, eb] = [a1, b1, a2, b2];
    }
  });

  it("a function closing over a requiresGrad parameter runs unstaged, so backward() still reaches it", () => {
    const w = tensor([1, 2, 3], { dtype: "float64", requiresGrad: true });
    const g = jit((x: Tensor) => sum(mul(x, w)));
    const out = g(x3());
    out.backward();
    expect(w.grad!.toArray()).toEqual([0.5, -1.25, 2]);
    // Under noGrad the parameter is a constant of the program.
    const v = noGrad(() => g(x3()));
    expect(v.item()).toBeCloseTo(0.5 - 2.5 + 6);
  });

  it("customVjp and checkpoint inside jit: values and gradients as eager", () => {
    const clipGrad = customVjp((x: Tensor) => mul(x, 1), (x: Tensor) => [mul(x, 1), null] as [Tensor, null], (_r, ct) => [mul(ct, 0.5)]);
    const h = (x: Tensor) => sum(square(clipGrad(x)));
    close(jit(grad(h))(x3()), grad(h)(x3()));
    const c = checkpoint((x: Tensor) => tanh(exp(x)));
    const k = (x: Tensor) => sum(c(x));
    close(jit(grad(k))(x3()), grad(k)(x3()));
    close(jit(grad(k))(reshape(x3(), [3])), grad(k)(x3()));
  });
});
