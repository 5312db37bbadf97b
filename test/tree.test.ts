import { describe, expect, expectTypeOf, it } from "vitest";
import { grad, mul, sub, sum, Tensor, tensor, treeFlatten, treeLeaves, treeMap, treeUnflatten, ValueError, type TensorTree } from "../src/index.js";

const f64 = (v: number | number[]) => tensor(v, { dtype: "float64" });

describe("tree utilities", () => {
  const params = { w: f64([1, 2]), layers: [{ b: f64(3) }, { b: f64(4) }] };

  it("treeLeaves and treeFlatten list leaves in order; treeUnflatten rebuilds the structure", () => {
    expect(treeLeaves(params).map((l) => (l as Tensor).toArray())).toEqual([[1, 2], 3, 4]);
    const [ls, def] = treeFlatten(params);
    expect(def.numLeaves).toBe(3);
    expect(String(def)).toBe('{"w":*,"layers":[{"b":*},{"b":*}]}');
    const again = treeUnflatten(def, ls.map((l) => mul(l as Tensor, 10))) as typeof params;
    expect(again.layers[1]!.b.item()).toBe(40);
    expect(() => treeUnflatten(def, [f64(1)])).toThrow('treeUnflatten: got 1 leaves, the structure {"w":*,"layers":[{"b":*},{"b":*}]} has 3');
  });

  it("treeMap keeps the structure and its type: an SGD step over a gradient tree", () => {
    const loss = (p: typeof params) => sum(mul(p.w, p.w)) .add(mul(p.layers[0]!.b, p.layers[1]!.b));
    const g = grad(loss)(params);
    const next = treeMap(params, (p, gp) => sub(p, mul(gp, 0.5)), g);
    expectTypeOf(next).toEqualTypeOf<TensorTree<typeof params>>();
    expectTypeOf(next.layers[0]!.b).toEqualTypeOf<Tensor>();
    expect(next.w.toArray()).toEqual([0, 0]);
    expect(next.layers.map((l) => l.b.item())).toEqual([1, 2.5]);
    expect(() => treeMap(params, (p) => p, { w: f64(1) } as never)).toThrow(ValueError);
    expect(() => treeMap(params, (p) => p, { w: f64(1) } as never)).toThrow('treeMap: tree 1 has structure {"w":*}, expected {"w":*,"layers":[{"b":*},{"b":*}]}');
  });

  it("number leaves reach f as tensors", () => {
    const out = treeMap([1, f64(2)], (x) => mul(x, 2));
    expect(out.map((t) => t.item())).toEqual([2, 4]);
  });
});
