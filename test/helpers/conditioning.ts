// A first-order rounding-error bound for a directional derivative ⟨∇f, v⟩ computed by forward mode and by
// reverse mode, used by the fuzz test (test/fuzz.test.ts) to tell rounding from a wrong rule on edge inputs.
//
// Forward and reverse mode sum the same chain-rule products in different orders. Each sum rounds with an
// error up to about eps·(the sum of the |terms|) (Higham, "Accuracy and Stability of Numerical Algorithms",
// §4.2, the condition of summation), and an error made in a register's tangent (cotangent) reaches the
// result multiplied by that register's cotangent (tangent). So, to first order in eps,
//
//   |fwd − exact| ≲ γ · Σᵣ ⟨Tᵣ, |ctᵣ|⟩     |rev − exact| ≲ γ · Σᵣ ⟨Sᵣ, |tᵣ|⟩
//
// where tᵣ and ctᵣ are register r's tangent and cotangent, Tᵣ the sum of the |contributions| that make up
// tᵣ (one per operand of the step defining r) and Sᵣ the sum of the |contributions| that make up ctᵣ (one
// per operand slot of every step reading r, and w for the last register), and γ grows with the number of
// operations. Where the terms cancel (x·(x − x) − x at x = 1e300: contributions of ±1e300 to the
// cotangent of x, whose true sum is −1), the bound is huge next to the result: the program is
// ill-conditioned for this evaluation order, and the two modes may differ by rounding alone. A wrong rule
// shows as a difference of the size of the result itself, which this bound does not cover unless
// cancellation of at least that size happens in the same program (test/conditioning.test.ts plants one).
//
// Granularity: a step of the generated programs (e.g. `log(square(x) + 0.5)`) is one unit; cancellation
// inside one library op (within x − mean(x) in std) is not seen, which keeps the bound smaller, i.e. the
// classification stricter.
import { jvp, valueAndGrad, vjp, type Tensor } from "../../src/index.js";
import { direction } from "./fuzz-inputs.js";
import type { Program, StepFn } from "./programs.js";

/** Unit roundoff of float64. */
export const EPS = 2 ** -53;

/** The bound's parts: Σᵣ⟨Tᵣ, |ctᵣ|⟩ (forward sweep) and Σᵣ⟨Sᵣ, |tᵣ|⟩ (reverse sweep), non-finite products left out. */
export interface SweepMagnitudes {
  forward: number;
  reverse: number;
}

const abs = (t: Tensor): Float64Array => Float64Array.from(t.data, Math.abs);
const addInto = (acc: Float64Array | undefined, x: Float64Array): Float64Array => {
  if (acc === undefined) return Float64Array.from(x);
  for (let k = 0; k < acc.length; k++) acc[k]! += x[k]!;
  return acc;
};
function dotFinite(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) {
    const p = a[k]! * b[k]!;
    if (Number.isFinite(p)) s += p;
  }
  return s;
}

/**
 * Σᵣ⟨Tᵣ, |ctᵣ|⟩ and Σᵣ⟨Sᵣ, |tᵣ|⟩ for out = sum(last register · w), inputs `xs` along `v`. Each step's
 * contribution per operand is its jvp with only that operand's tangent (forward) and its vjp split by
 * operand (reverse); tangents and cotangents of the registers come from the same sweeps.
 */
export function sweepMagnitudes(xs: readonly Tensor[], steps: readonly StepFn[], w: Tensor, v: readonly Tensor[]): SweepMagnitudes {
  const values: Tensor[] = [...xs];
  for (const s of steps) values.push(s.apply(...s.operands.map((i) => values[i]!)));
  const n = values.length;

  // Forward sweep: tᵣ and Tᵣ.
  const t: Tensor[] = [...v];
  const T: (Float64Array | undefined)[] = new Array(n);
  steps.forEach((s, k) => {
    const args = s.operands.map((i) => values[i]!);
    let total: Tensor | undefined;
    s.operands.forEach((i, slot) => {
      const f = (x: Tensor) => s.apply(...args.map((a, j) => (j === slot ? x : a)));
      const [, c] = jvp(f, [args[slot]!], [t[i]!]);
      T[xs.length + k] = addInto(T[xs.length + k], abs(c));
      total = total === undefined ? c : total.add(c);
    });
    t.push(total!);
  });

  // Reverse sweep: ctᵣ and Sᵣ.
  const ct: (Tensor | undefined)[] = new Array(n);
  const S: (Float64Array | undefined)[] = new Array(n);
  ct[n - 1] = w;
  S[n - 1] = abs(w);
  for (let k = steps.length - 1; k >= 0; k--) {
    const r = xs.length + k, c = ct[r];
    if (c === undefined) continue;
    const s = steps[k]!;
    const args = s.operands.map((i) => values[i]!);
    s.operands.forEach((i, slot) => {
      const f = (x: Tensor) => s.apply(...args.map((a, j) => (j === slot ? x : a)));
      const [, back] = vjp(f, args[slot]!);
      const g = back(c)[0]!;
      S[i] = addInto(S[i], abs(g));
      ct[i] = ct[i] === undefined ? g : ct[i]!.add(g);
    });
  }

  let forward = 0, reverse = 0;
  for (let r = 0; r < n; r++) {
    if (T[r] && ct[r]) forward += dotFinite(T[r]!, abs(ct[r]!));
    if (S[r]) reverse += dotFinite(S[r]!, abs(t[r]!));
  }
  return { forward, reverse };
}

/** γ for a program of `ops` library operations: 8·ops·eps, a generous constant on Higham's γₙ = n·eps/(1 − n·eps). */
export const gamma = (ops: number): number => 8 * ops * EPS;

/**
 * Whether forward mode's `fwd` and reverse mode's `rev` differ by no more than rounding can explain, by the
 * bound above: |fwd − rev| ≤ γ·(Σᵣ⟨Tᵣ, |ctᵣ|⟩ + Σᵣ⟨Sᵣ, |tᵣ|⟩).
 */
export function withinRounding(fwd: number, rev: number, m: SweepMagnitudes, ops: number): boolean {
  return Math.abs(fwd - rev) <= gamma(ops) * (m.forward + m.reverse);
}

/** ⟨g, v⟩ over the elements where v ≠ 0 (a zero direction is a strong zero), and Σ|gᵢvᵢ| there. */
export function strongDot(g: readonly Tensor[], v: readonly Tensor[]): { value: number; scale: number } {
  let value = 0, scale = 0;
  g.forEach((gi, i) => {
    const x = gi.data, y = v[i]!.data;
    for (let k = 0; k < x.length; k++) {
      if (y[k] === 0) continue;
      value += x[k]! * y[k]!;
      scale += Math.abs(x[k]! * y[k]!);
    }
  });
  return { value, scale };
}

/** How a program's two modes compare on edge inputs (see compareModes). */
export interface ModeComparison {
  /**
   * "agree": within 1e-9 of the terms (or both NaN); "oneNaN": exactly one is NaN (an ∞ that one mode
   * multiplies once and the other per term, ∞·(a + b) against ∞·a + ∞·b);
   * "rounding": both finite, different, within the rounding bound; "disagree": beyond it (a wrong rule);
   * "valueDiffers": valueAndGrad's value is not the plain evaluation.
   */
  kind: "agree" | "oneNaN" | "rounding" | "disagree" | "valueDiffers";
  plain: number;
  value: number;
  forward: number;
  reverse: number;
  /** γ·(Σᵣ⟨Tᵣ, |ctᵣ|⟩ + Σᵣ⟨Sᵣ, |tᵣ|⟩), computed only when the modes differ (else NaN). */
  bound: number;
}

/** Reverse mode's ⟨∇f, v⟩ against forward mode's jvp along the program's first direction, classified. */
export function compareModes(p: Program, xs: Tensor[]): ModeComparison {
  const f = (a: Tensor[]) => p.run(a);
  const plain = p.run(xs).item();
  const [out, g] = valueAndGrad(f)(xs);
  const value = out.item();
  const v = direction(p, 1);
  const base = { plain, value, forward: NaN, reverse: NaN, bound: NaN };
  if (!Object.is(value, plain) && !(Number.isNaN(plain) && Number.isNaN(value))) return { kind: "valueDiffers", ...base };
  const [, tangent] = jvp(f, [xs], [v]);
  const rev = strongDot(g, v);
  const fwd = tangent.item();
  const r = { ...base, forward: fwd, reverse: rev.value };
  if (Number.isNaN(fwd) !== Number.isNaN(rev.value)) return { kind: "oneNaN", ...r };
  if (Number.isNaN(fwd) || fwd === rev.value || Math.abs(fwd - rev.value) <= 1e-9 * (rev.scale + Math.abs(fwd)) + 1e-10) return { kind: "agree", ...r };
  const m = sweepMagnitudes(xs, p.stepFns, p.w, v);
  const bound = gamma(p.opCount) * (m.forward + m.reverse);
  return { kind: withinRounding(fwd, rev.value, m, p.opCount) ? "rounding" : "disagree", ...r, bound };
}
