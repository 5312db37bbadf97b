import { describe, expect, it } from "vitest";
import * as c from "../src/index.js";

describe("creation", () => {
  it("tensor: nested arrays (float32 default, bool inferred), typed arrays (dtype inferred, not copied), shape option", () => {
    const t = c.tensor([[1, 2, 3], [4, 5, 6]]);
    expect([t.dtype, t.shape, t.size, t.rank]).toEqual(["float32", [2, 3], 6, 2]);
    expect(t.toArray()).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(c.tensor([[true], [false]]).dtype).toBe("bool");
    expect(c.tensor([[true], [false]]).toArray()).toEqual([[true], [false]]);
    const buf = new Float64Array([1, 2, 3, 4]);
    const u = c.tensor(buf, { shape: [2, 2] });
    expect([u.dtype, u.shape]).toEqual(["float64", [2, 2]]);
    expect(u.data).toBe(buf);
    expect(c.tensor(new Int32Array([1, 2])).dtype).toBe("int32");
    expect(c.tensor([1.7, -1.7], { dtype: "int32" }).toArray()).toEqual([1, -1]);
    expect(c.tensor([1, 2, 3, 4], { shape: [2, 2] }).toArray()).toEqual([[1, 2], [3, 4]]);
    expect(c.tensor([]).shape).toEqual([0]);
    expect(c.tensor(5).shape).toEqual([]);
    expect(c.tensor([1], { name: "w" }).name).toBe("w");
  });

  it("tensor: errors for ragged arrays, non-numbers and a wrong shape", () => {
    expect(() => c.tensor([[1, 2], [3]])).toThrow(/^tensor: ragged nested array: element at \[1\] has length 1, expected an array of length 2/);
    expect(() => c.tensor(["a" as unknown as number])).toThrow(/^tensor: element at \[0\] is "a" \(string\); expected a number or boolean/);
    expect(() => c.tensor([1, 2, 3], { shape: [2, 2] })).toThrow("tensor: shape [2,2] needs 4 elements, got 3");
    expect(() => c.tensor([1], { dtype: "int32", requiresGrad: true })).toThrow(c.DTypeError);
  });

  it("scalar, zeros, ones, full, zerosLike, onesLike", () => {
    expect([c.scalar(2.5).shape, c.scalar(2.5).item()]).toEqual([[], 2.5]);
    expect(c.scalar(true).dtype).toBe("bool");
    expect(c.zeros([2, 1]).toArray()).toEqual([[0], [0]]);
    expect(c.ones([2], "int32").toArray()).toEqual([1, 1]);
    expect(c.full([2, 2], 7, "float64").toArray()).toEqual([[7, 7], [7, 7]]);
    const x = c.tensor([[1, 2]], { dtype: "float64" });
    expect([c.zerosLike(x).dtype, c.zerosLike(x).shape, c.onesLike(x).toArray()]).toEqual(["float64", [1, 2], [[1, 1]]]);
    expect(c.zeros([0, 3]).size).toBe(0);
    expect(() => c.zeros([2, -1])).toThrow("full: shape [2,-1] must contain non-negative integers");
  });

  it("arange and linspace follow NumPy", () => {
    expect(c.arange(4).toArray()).toEqual([0, 1, 2, 3]);
    expect(c.arange(1, 2, 0.25, "float64").toArray()).toEqual([1, 1.25, 1.5, 1.75]);
    expect(c.arange(5, 0, -2).toArray()).toEqual([5, 3, 1]);
    expect(c.arange(3, 3).shape).toEqual([0]);
    expect(c.arange(0, 3, 1, "int32").dtype).toBe("int32");
    expect(() => c.arange(0, 1, 0)).toThrow("arange: start 0, stop 1, step 0: need finite bounds and a non-zero step");
    expect(c.linspace(0, 1, 5, "float64").toArray()).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(c.linspace(2, 3, 1).toArray()).toEqual([2]);
    expect(c.linspace(2, 3, 0).shape).toEqual([0]);
    expect(c.linspace(0, 0.3, 4, "float64").data[3]).toBe(0.3); // the endpoint is exact
    expect(() => c.linspace(0, 1, 1.5)).toThrow("linspace: num must be a non-negative integer, got 1.5");
  });

  it("eye", () => {
    expect(c.eye(2).toArray()).toEqual([[1, 0], [0, 1]]);
    expect(c.eye(2, 3, "int32").toArray()).toEqual([[1, 0, 0], [0, 1, 0]]);
    expect(() => c.eye(-1)).toThrow(/^eye: sizes must be non-negative integers/);
  });

  it("randn and uniform: seeded streams are reproducible; moments are right", () => {
    expect(Array.from(c.randn([5], { seed: 42 }).data)).toEqual(Array.from(c.randn([5], { seed: 42 }).data));
    expect(Array.from(c.randn([5], { seed: 42 }).data)).not.toEqual(Array.from(c.randn([5], { seed: 43 }).data));
    const z = c.randn([20000], { seed: 1, dtype: "float64" });
    expect(z.dtype).toBe("float64");
    expect(Math.abs(c.mean(z).item())).toBeLessThan(0.03);
    expect(Math.abs(c.std(z).item() - 1)).toBeLessThan(0.03);
    const u = c.uniform([20000], -2, 3, { seed: 2 });
    expect(c.min(u).item()).toBeGreaterThanOrEqual(-2);
    expect(c.max(u).item()).toBeLessThan(3);
    expect(Math.abs(c.mean(u).item() - 0.5)).toBeLessThan(0.05);
    expect(Array.from(c.uniform([3], 0, 1, { seed: 9 }).data)).toEqual(Array.from(c.uniform([3], 0, 1, { seed: 9 }).data));
  });
});

describe("creation functions take { dtype } options, as randn does", () => {
  it("zeros, ones, full, eye, arange, linspace: the options form, and the deprecated bare dtype still works", () => {
    const made = [
      c.zeros([2], { dtype: "float64" }), c.ones([2], { dtype: "int32" }), c.full([2], 7, { dtype: "float64" }),
      c.eye(2, 2, { dtype: "float64" }), c.arange(0, 3, 1, { dtype: "int32" }), c.linspace(0, 1, 3, { dtype: "float64" }),
    ];
    expect(made.map((t) => t.dtype)).toEqual(["float64", "int32", "float64", "float64", "int32", "float64"]);
    expect(made.map((t) => Array.from(t.data))).toEqual([[0, 0], [1, 1], [7, 7], [1, 0, 0, 1], [0, 1, 2], [0, 0.5, 1]]);
    expect(c.zeros([2]).dtype).toBe("float32");
    expect(c.zeros([2], "float64").dtype).toBe("float64"); // deprecated form
    expect(() => c.zeros([2], { dtype: "float16" as never })).toThrow(/full: unknown dtype "float16"/);
  });
});

describe("uniform: options in low's place", () => {
  it("is a ValueError naming the signature, not a tensor of NaN", async () => {
    const { uniform, ValueError } = await import("../src/index.js");
    const call = () => (uniform as unknown as (s: number[], o: object) => unknown)([2, 3], { seed: 1 });
    expect(call).toThrow(ValueError);
    expect(call).toThrow(/^uniform: low and high must be finite numbers, got \{"seed":1\} and 1; the signature is uniform\(shape, low, high, \{ seed, dtype \}\)$/);
    expect(Array.from(uniform([3], -1, 1, { seed: 1 }).data).every((v) => v >= -1 && v < 1)).toBe(true);
  });
});
