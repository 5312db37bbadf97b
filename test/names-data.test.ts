import { describe, expect, it } from "vitest";
import { data, nn, tensor } from "../src/index.js";

describe("names data", () => {
  it("loads the stdlib first names: lower case, unique, letters only, sorted", async () => {
    const names = await data.loadNames();
    // 4,951 + 3,898 names, 8,422 distinct after lower-casing, less 19 hyphenated ones.
    expect(names.length).toBe(8403);
    expect(new Set(names).size).toBe(names.length);
    expect(names.every((n) => /^[a-z]{1,15}$/.test(n))).toBe(true);
    expect([...names].sort()).toEqual(names);
    expect(names).toContain("abigail");
    expect(names).toContain("zebulon");
    expect(names).not.toContain("anne-marie");
    expect(await data.loadNames()).toBe(names); // cached
  });

  it("splits 90/10 without overlap, reproducibly from the seed", async () => {
    const a = await data.namesSplit(), b = await data.namesSplit({ seed: 0 }), c = await data.namesSplit({ seed: 1 });
    expect([a.train.length, a.test.length]).toEqual([7563, 840]);
    expect(new Set([...a.train, ...a.test]).size).toBe(8403);
    expect(b.test).toEqual(a.test);
    expect(c.test).not.toEqual(a.test);
    expect(() => data.splitNames(["ann", "bob"], { testFraction: 0.1 })).toThrow(/leave an empty set/);
    expect(() => data.splitNames(["ann"], { testFraction: 1 })).toThrow(/testFraction must be in \(0, 1\), got 1/);
  });

  it("encodes names with 0 as the end marker and decodes them back", () => {
    expect(Array.from(data.encodeName("abz"))).toEqual([1, 2, 26, 0]);
    expect(data.decodeName([1, 2, 26, 0, 5])).toBe("abz");
    expect(() => data.encodeName("ann-marie")).toThrow(/encodeName: "ann-marie" has the character "-" at 3/);
    expect(() => data.decodeName([1, 27])).toThrow(/token 27 at 1 is outside 0..26/);
  });

  it("makes sliding-window examples padded with the end marker", () => {
    const ex = data.charExamples(["ab", "c"], 2);
    expect(ex.count).toBe(5);
    expect(Array.from(ex.contexts)).toEqual([0, 0, 0, 1, 1, 2, 0, 0, 0, 3]);
    expect(Array.from(ex.targets)).toEqual([1, 2, 0, 3, 0]);
    expect(() => data.charExamples(["a"], 0)).toThrow(/blockSize must be a positive integer, got 0/);
  });
});

describe("count-based bigram", () => {
  it("holds smoothed log-probabilities counted by hand", () => {
    // Vocabulary {0, 1, 2}; sequences "1 0" and "1 2 0", read after the start token 0.
    const m = nn.fitBigram([[1, 0], [1, 2, 0]], 3, 0, { smoothing: 1 });
    const w = m.stateDict().weight!;
    expect(w.shape).toEqual([3, 3]);
    // Row 0 (after start): counts [0, 2, 0] + 1 → [1, 3, 1] / 5.  Row 1: [1, 0, 1] + 1 → [2, 1, 2] / 5.
    // Row 2: [1, 0, 0] + 1 → [2, 1, 1] / 4.
    const expected = [1 / 5, 3 / 5, 1 / 5, 2 / 5, 1 / 5, 2 / 5, 2 / 4, 1 / 4, 1 / 4].map(Math.log);
    Array.from(w.data).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 14));
    // forward reads the last token of each context.
    const out = m.forward(tensor([[2, 1], [0, 2]], { dtype: "int32" }));
    expect(out.shape).toEqual([2, 3]);
    expect(Array.from(out.data)).toEqual([...Array.from(w.data).slice(3, 6), ...Array.from(w.data).slice(6, 9)]);
  });

  it("without smoothing gives the maximum-likelihood table and keeps unseen rows uniform", () => {
    const m = nn.fitBigram([[1, 1, 0]], 3, 0, { smoothing: 0 });
    const w = Array.from(m.stateDict().weight!.data);
    expect(w.slice(0, 3)).toEqual([-Infinity, 0, -Infinity]);
    expect(w.slice(3, 6).map(Math.exp)).toEqual([0.5, 0.5, 0]);
    w.slice(6, 9).forEach((v) => expect(v).toBeCloseTo(-Math.log(3), 14));
    expect(() => nn.fitBigram([[3]], 3, 0)).toThrow(/token 3 is outside 0..2/);
    expect(() => nn.fitBigram([], 3, 0, { smoothing: -1 })).toThrow(/smoothing must be a finite number ≥ 0, got -1/);
  });
});
