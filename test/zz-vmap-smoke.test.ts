import { describe, expect, it } from "vitest";
import { vmap, grad, tensor, matmul, sum, tanh, stack, jvp, vjp, randn } from "../src/index.js";
describe("vmap smoke", () => {
  it("works", () => {
    const W = tensor([[1, 2], [3, 4], [5, 6]], { dtype: "float64" });
    const X = tensor([[1, 0, 2], [0, 1, -1], [2, 2, 2], [1, 1, 1]], { dtype: "float64" });
    const f = (w: any, x: any) => sum(tanh(matmul(x, w)));
    const out = vmap(f, { inAxes: [null, 0] })(W, X);
    const loop = stack([0, 1, 2, 3].map((i) => f(W, X.slice ? (X as any) : X)));
    console.log(out.toArray());
    const g = vmap(grad(f), { inAxes: [null, 0] })(W, X);
    console.log(g.shape);
    const rows = [0,1,2,3].map(i => grad(f)(W, tensor((X.toArray() as number[][])[i]!, {dtype:"float64"})));
    expect(Array.from(g.data)).toEqual(Array.from(stack(rows).data).map(v=>v));
    const g2 = grad((w: any) => sum(vmap(f, { inAxes: [null, 0] })(w, X)))(W);
    console.log(g2.toArray(), rows.reduce((a,b)=>a.add(b)).toArray());
  });
});
