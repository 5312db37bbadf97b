// The recorded graph keeps only what the VJP rules read (Primitive.residuals), sweeps the tape of a
// functional trace backwards, and grad/valueAndGrad release the graph as the sweep goes.
import { describe, expect, it } from "vitest";
import { add, exp, grad, mul, scalar, tanh, tensor, valueAndGrad, vjp, GradientError, sum } from "../src/index.js";
import type { Tensor } from "../src/index.js";
import type { Primitive } from "../src/core/primitive.js";
import { bind } from "../src/autodiff/bind.js";
import { Node } from "../src/autodiff/trace.js";
import { broadcastingRule } from "../src/core/batching.js";

/** The node behind a reverse tracer (what the graph holds), read inside the traced function. */
function nodeOf(t: Tensor): Node {
  expect(t._node).toBeInstanceOf(Node);
  return t._node!;
}

describe("saved residuals", () => {
  it("add keeps no values, mul by a constant keeps the constant only, tanh keeps its output as a number", () => {
    const seen: Node[] = [];
    const [, pullback] = vjp((x: Tensor) => {
      const t = tanh(x);
      const m = mul(t, 3);
      const a = add(m, 1);
      seen.push(nodeOf(t), nodeOf(m), nodeOf(a));
      return a;
    }, scalar(0.5));
    const [t, m, a] = seen as [Node, Node, Node];
    expect(t.out).toBeCloseTo(Math.tanh(0.5), 6); // tanh' = 1 - out², saved as a plain number
    expect(typeof t.out).toBe("number");
    expect(m.out).toBeNull(); // no rule reads mul's output
    expect(m.input(0)).toBe(t); // the differentiable input is an edge
    expect((m.input(1) as Tensor).item()).toBe(3); // d/dt (t·3) reads the constant
    expect(a.out).toBeNull();
    expect(a.input(1)).toBeNull(); // add's rule reads nothing; the constant 1 is not kept
    // And the pullback still gives 3·(1 − tanh²(0.5)) from what was kept.
    expect((pullback(scalar(1))[0] as Tensor).item()).toBeCloseTo(3 * (1 - Math.tanh(0.5) ** 2), 6);
  });

  it("a parent's value is stored once on the parent, however many consumers read it", () => {
    const seen: Node[] = [];
    const g = grad((x: Tensor) => {
      const e = exp(x);
      const y = add(mul(e, e), mul(e, 2)); // three consumers read e
      seen.push(nodeOf(e));
      return y;
    })(scalar(0));
    // d/dx (e^2x + 2e^x) at 0 = 2 + 2 = 4
    expect((g as Tensor).item()).toBeCloseTo(4, 6);
    expect(seen).toHaveLength(1);
  });

  it("with tensor values (kept as tensors), the gradient still agrees with finite differences", () => {
    const x = tensor([[0.5, -1], [2, 0.25]]);
    const f = (w: Tensor) => sum(tanh(mul(x, w)));
    const w0 = tensor([[0.3, -0.2], [0.1, 0.4]]);
    const g = grad(f)(w0) as Tensor;
    const h = 1e-3;
    const fd = [0, 1, 2, 3].map((i) => {
      const plus = w0.data.slice(), minus = w0.data.slice();
      plus[i]! += h;
      minus[i]! -= h;
      return (f(tensor(plus, { shape: [2, 2] })).item() - f(tensor(minus, { shape: [2, 2] })).item()) / (2 * h);
    });
    Array.from(g.data).forEach((v, i) => expect(v).toBeCloseTo(fd[i]!, 3));
  });

  it("a primitive whose residuals miss a value it reads fails with a clear error, not a wrong gradient", () => {
    const forgetful: Primitive<null> = {
      name: "forgetfulSquare",
      batch: broadcastingRule(),
      impl: ([x]) => mul(x!, x!),
      jvp: ([x], [t]) => (t ? mul(mul(x!, 2), t) : null),
      vjp: (ct, [x]) => [mul(mul(x!, 2), ct)],
      residuals: [[]], // wrong: the rule reads x
    };
    // Its input is an intermediate (a leaf's value is always kept), which nothing else saves.
    const f = (x: Tensor) => bind(forgetful, [mul(x, 1)], null);
    expect(() => grad(f)(scalar(3))).toThrow(GradientError);
    expect(() => grad(f)(scalar(3))).toThrow(/read an input or output value that its primitive's `residuals` does not keep/);
  });
});

describe("the tape of a functional trace", () => {
  it("a pullback can run again after a rule threw during an earlier sweep", () => {
    let fail = true;
    const flaky: Primitive<null> = {
      name: "flaky",
      batch: broadcastingRule(),
      impl: ([x]) => x!,
      jvp: (_x, [t]) => t,
      vjp: (ct) => {
        if (fail) throw new Error("flaky rule");
        return [ct];
      },
    };
    const [, pullback] = vjp((x: Tensor) => mul(bind(flaky, [mul(x, 2)], null), 3), scalar(1));
    expect(() => pullback(scalar(1))).toThrow("flaky rule");
    fail = false;
    // No cotangent left over from the failed sweep: 2·3 = 6, not 12.
    expect((pullback(scalar(1))[0] as Tensor).item()).toBe(6);
    expect((pullback(scalar(1))[0] as Tensor).item()).toBe(6);
  });

  it("outputs of a pytree are seeded together in one sweep", () => {
    const [, pullback] = vjp((x: Tensor) => [mul(x, 2), mul(x, x)] as const, scalar(3));
    // 1·2 + 10·(2·3) = 62
    expect((pullback([scalar(1), scalar(10)])[0] as Tensor).item()).toBe(62);
  });

  it("valueAndGrad releases each node once its rule has run (the graph does not outlive the call)", () => {
    const seen: Node[] = [];
    const [v, g] = valueAndGrad((x: Tensor) => {
      const y = tanh(mul(x, x));
      seen.push(nodeOf(y));
      return y;
    })(scalar(0.5));
    expect(v.item()).toBeCloseTo(Math.tanh(0.25), 6);
    expect(g.item()).toBeCloseTo(2 * 0.5 * (1 - Math.tanh(0.25) ** 2), 6);
    expect(seen[0]!.freed).toBe(true);
    expect(seen[0]!.out).toBeNull();
  });
});
