import { describe, expect, it } from "vitest";
import { inspect } from "node:util";
import * as c from "../src/index.js";

describe("printing (String(t), t.toString(), console.log)", () => {
  it("scalars, dtypes and special values", () => {
    expect(String(c.scalar(3))).toBe("tensor(3., dtype=float32, shape=[])");
    expect(String(c.scalar(0.1))).toBe("tensor(0.1, dtype=float32, shape=[])"); // float32's 0.1 shown at 7 digits
    expect(String(c.tensor([0.1 + 0.2], { dtype: "float64" }))).toBe("tensor([0.3], dtype=float64, shape=[1])");
    expect(String(c.tensor([1, -2], { dtype: "int32" }))).toBe("tensor([ 1, -2], dtype=int32, shape=[2])");
    expect(String(c.tensor([true, false]))).toBe("tensor([ true, false], dtype=bool, shape=[2])");
    expect(String(c.tensor([NaN, Infinity, -Infinity, -0]))).toBe("tensor([      NaN,  Infinity, -Infinity,       -0.], dtype=float32, shape=[4])");
    expect(String(c.tensor([1e-5, 2.5e20, 12.5], { dtype: "float64" }))).toBe("tensor([   1e-5, 2.5e+20,    12.5], dtype=float64, shape=[3])");
  });

  it("matrices align columns; rank 3 separates blocks by a blank line; empty tensors", () => {
    expect(String(c.tensor([[1, -20], [300, 4.5]]))).toBe(["tensor([[  1., -20.],", "        [300.,  4.5]], dtype=float32, shape=[2,2])"].join("\n"));
    expect(String(c.arange(8).reshape([2, 2, 2]))).toBe(
      ["tensor([[[0., 1.],", "         [2., 3.]],", "", "        [[4., 5.],", "         [6., 7.]]], dtype=float32, shape=[2,2,2])"].join("\n"),
    );
    expect(String(c.zeros([0]))).toBe("tensor([], dtype=float32, shape=[0])");
    expect(String(c.zeros([2, 0]))).toBe("tensor([[],\n        []], dtype=float32, shape=[2,0])");
  });

  it("long rows wrap at 75 characters under the first element", () => {
    const s = String(c.arange(30));
    const lines = s.split("\n");
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.every((l, i) => i === lines.length - 1 || l.length <= 75)).toBe(true);
    expect(lines[1]!.startsWith("        ")).toBe(true);
    expect(s.replace(/\s+/g, " ")).toContain("28., 29.], dtype=float32, shape=[30])");
  });

  it("beyond 1000 elements each dimension is summarised to its first and last three entries", () => {
    expect(String(c.arange(2000))).toBe("tensor([   0.,    1.,    2.,     …, 1997., 1998., 1999.], dtype=float32, shape=[2000])");
    const m = String(c.arange(2000).reshape([40, 50]));
    const lines = m.split("\n");
    expect(lines.length).toBe(7);
    expect(lines[0]).toBe("tensor([[   0.,    1.,    2.,     …,   47.,   48.,   49.],");
    expect(lines[3]).toBe("        …,");
    expect(lines[6]).toBe("        [1950., 1951., 1952.,     …, 1997., 1998., 1999.]], dtype=float32, shape=[40,50])");
    expect(String(c.arange(1000)).includes("…")).toBe(false); // exactly 1000 is printed in full
  });

  it("name and requiresGrad are shown; tracers print their values; console.log uses the same text", () => {
    expect(String(c.tensor([1], { name: "w" }))).toBe('tensor([1.], dtype=float32, shape=[1], name="w")');
    const leaf = c.tensor([1, 2], { requiresGrad: true });
    expect(String(c.mul(leaf, 2))).toBe("tensor([2., 4.], dtype=float32, shape=[2], requiresGrad=true)");
    let inside = "";
    c.grad((x: c.Tensor) => {
      inside = String(x);
      return c.sum(x);
    })(c.tensor([5, 6]));
    expect(inside).toBe("tensor([5., 6.], dtype=float32, shape=[2])");
    expect(inspect(c.tensor([1, 2]))).toBe("tensor([1., 2.], dtype=float32, shape=[2])");
    expect(`${c.scalar(2)}`).toBe("tensor(2., dtype=float32, shape=[])");
  });
});
