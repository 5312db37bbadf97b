import { describe, expect, it } from "vitest";
import { grad, valueAndGrad, mul, square, sin, scalar, add, type Tensor } from "../src/index.js";

// This file is type-checked by `npm run typecheck` (tsc over test/): unannotated lambdas must infer Tensor.
describe("transform types", () => {
  it("grad and valueAndGrad infer a Tensor parameter for unannotated single-argument lambdas", () => {
    const d2 = grad(grad((x) => mul(square(x), square(x))));
    expect(d2(scalar(2, { dtype: "float64" })).item()).toBe(48);
    const [v, g] = valueAndGrad((x) => sin(x))(scalar(0, { dtype: "float64" }));
    expect([v.item(), g.item()]).toEqual([0, 1]);
    const multi = grad((a: Tensor, b: Tensor) => mul(a, b), { argnums: [0, 1] });
    const [ga, gb] = multi(scalar(3), scalar(2));
    expect([ga.item(), gb.item()]).toEqual([2, 3]);
    const tree = grad((p: { w: Tensor; b: Tensor }) => add(p.w, p.b))({ w: scalar(1), b: scalar(2) });
    expect(tree.w.item() + tree.b.item()).toBe(2);
  });
});
