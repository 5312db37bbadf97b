// Inputs and directions of the fuzz test's programs (test/fuzz.test.ts, test/conditioning.test.ts): randn
// values from the program's seed; a third of the programs (seed ≡ 0 mod 3) on edge inputs.
import { mul, randn, Rng, tensor, type Tensor } from "../../src/index.js";
import type { Program } from "./programs.js";

export const EDGES = [0, -0, 1, -1, Infinity, -Infinity, NaN, 1e300, -1e300, 1e-300, 750, -750];
export const isEdge = (p: Program) => p.seed % 3 === 0;

/** randn inputs; in an edge program, about half their elements replaced by edge values or ties. */
export function inputsOf(p: Program): Tensor[] {
  const xs = p.inputShapes.map((s, i) => randn(s, { seed: p.seed * 7 + i, dtype: "float64" }));
  if (!isEdge(p)) return xs;
  const rng = new Rng(p.seed ^ 0xed9e);
  return xs.map((x) => {
    const d = Float64Array.from(x.data);
    for (let k = 0; k < d.length; k++) {
      const r = rng.next();
      if (r < 0.35) d[k] = EDGES[rng.int(EDGES.length)]!;
      else if (r < 0.5 && k > 0) d[k] = d[rng.int(k)]!;
    }
    return tensor(d, { dtype: "float64", shape: [...x.shape] });
  });
}

/** A random direction per input, scaled so the largest component over all inputs is 1. */
export function direction(p: Program, salt: number): Tensor[] {
  const ds = p.inputShapes.map((s, i) => randn(s, { seed: p.seed * 7 + 1000 * salt + i, dtype: "float64" }));
  let m = 0;
  for (const d of ds) for (const v of d.data) m = Math.max(m, Math.abs(v));
  return ds.map((d) => mul(d, 1 / (m || 1)));
}

