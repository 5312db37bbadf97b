import { describe, expect, it } from "vitest";
import { data, Rng, tensor } from "../src/index.js";

describe("MNIST data", () => {
  it("loads the 10,000 digits of the mnist package as float32 [N,784] and int32 labels", () => {
    const all = data.loadMnist();
    expect(all.images.shape).toEqual([10000, 784]);
    expect(all.images.dtype).toBe("float32");
    expect(all.labels.dtype).toBe("int32");
    const counts = new Array(10).fill(0);
    for (const l of all.labels.data) counts[l]++;
    expect(counts).toEqual([1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
    let min = Infinity, max = -Infinity;
    for (const v of all.images.data) (min = Math.min(min, v)), (max = Math.max(max, v));
    expect([min, max]).toEqual([0, 1]);
  });

  it("splits 8,000/2,000 without overlap, reproducibly from the seed", () => {
    const a = data.mnistSplit({ seed: 0 }), b = data.mnistSplit({ seed: 0 }), c = data.mnistSplit({ seed: 1 });
    expect(a.train.images.shape).toEqual([8000, 784]);
    expect(a.test.labels.shape).toEqual([2000]);
    const seen = new Set([...a.trainIndices, ...a.testIndices]);
    expect(seen.size).toBe(10000);
    expect(Array.from(b.testIndices)).toEqual(Array.from(a.testIndices));
    expect(Array.from(c.testIndices)).not.toEqual(Array.from(a.testIndices));
    const all = data.loadMnist();
    const j = a.testIndices[17]!;
    expect(a.test.labels.data[17]).toBe(all.labels.data[j]);
    expect(Array.from(a.test.images.data.subarray(17 * 784, 18 * 784))).toEqual(Array.from(all.images.data.subarray(j * 784, (j + 1) * 784)));
    expect(() => data.mnistSplit({ train: 9000, test: 2000 })).toThrow(/exceeds the 10000 digits/);
  });

  it("batches cover the set once per epoch, shuffled by the generator", () => {
    const ds = { images: tensor(Float32Array.from({ length: 10 }, (_, i) => i), { shape: [10, 1] }), labels: tensor(Int32Array.from({ length: 10 }, (_, i) => i)) };
    const plain = [...data.batches(ds, 4)];
    expect(plain.map(([x]) => x.shape[0])).toEqual([4, 4, 2]);
    expect(plain.flatMap(([, y]) => Array.from(y.data))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const rng = new Rng(5);
    const e1 = [...data.batches(ds, 4, { rng })].flatMap(([x, y]) => { expect(Array.from(x.data)).toEqual(Array.from(y.data)); return Array.from(y.data); });
    const e2 = [...data.batches(ds, 4, { rng })].flatMap(([, y]) => Array.from(y.data));
    expect([...e1].sort((p, q) => p - q)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(e1).not.toEqual(e2);
    expect([...data.batches(ds, 4, { dropLast: true })].length).toBe(2);
    expect(() => [...data.batches(ds, 0)]).toThrow(/batchSize must be a positive integer/);
  });
});
