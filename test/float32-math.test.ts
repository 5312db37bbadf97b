import { describe, expect, it } from "vitest";
import { exp32, sigmoid32, tanh32 } from "../src/kernels/float32-math.js";

// The js kernels' float32 exp, tanh and sigmoid (src/kernels/float32-math.ts) against Math's float64 functions
// rounded to float32: the same float32 value, but for inputs whose exact result lies within a few float64 ulps
// of a float32 rounding boundary (then one float32 ulp apart).

const F = Math.fround;
const mathSigmoid = (v: number): number => (v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v)));

/** Distance in float32 ulps between two float32 values of the same sign (0 when equal, also for NaN and NaN). */
function ulps(a: number, b: number): number {
  if (Object.is(a, b) || (a !== a && b !== b)) return 0;
  const bits = new Int32Array(new Float32Array([a, b]).buffer);
  return Math.abs(bits[0]! - bits[1]!);
}

/** Float32 inputs: a dense sweep of [lo, hi] and pseudo-random ones spread over magnitudes 2^-20 … 2^7. */
function inputs(lo: number, hi: number): Float32Array {
  const out: number[] = [];
  const steps = 150_000;
  for (let i = 0; i <= steps; i++) out.push(lo + ((hi - lo) * i) / steps);
  let s = 12345;
  for (let i = 0; i < 150_000; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const u = s / 2 ** 32;
    const mag = 2 ** (u * 27 - 20);
    out.push(i % 2 === 0 ? mag : -mag);
  }
  return Float32Array.from(out);
}

function compare(f: (x: number) => number, ref: (x: number) => number, xs: Float32Array): { differing: number; worst: number } {
  let differing = 0, worst = 0;
  for (const x of xs) {
    const d = ulps(F(f(x)), F(ref(x)));
    if (d > 0) differing++;
    worst = Math.max(worst, d);
  }
  return { differing, worst };
}

describe("float32-math: float32 exp, tanh and sigmoid for the js kernels", () => {
  it("exp32 rounds to Math.exp's float32 value over its range, and saturates to 0 and Infinity", () => {
    const r = compare(exp32, Math.exp, inputs(-104, 89));
    expect(r.worst).toBeLessThanOrEqual(1);
    expect(r.differing).toBeLessThanOrEqual(3);
    expect(F(exp32(-200))).toBe(0);
    expect(F(exp32(-Infinity))).toBe(0);
    expect(F(exp32(89))).toBe(Infinity);
    expect(F(exp32(Infinity))).toBe(Infinity);
    expect(exp32(0)).toBe(1);
    expect(exp32(-0)).toBe(1);
    expect(exp32(NaN)).toBeNaN();
    expect(F(exp32(-100))).toBe(F(Math.exp(-100))); // a float32 subnormal, rounded once
  });

  it("tanh32 rounds to Math.tanh's float32 value, keeps ±0 and gives ±1 far out", () => {
    const r = compare(tanh32, Math.tanh, inputs(-12, 12));
    expect(r.worst).toBeLessThanOrEqual(1);
    expect(r.differing).toBeLessThanOrEqual(3);
    expect(Object.is(tanh32(-0), -0)).toBe(true);
    expect(Object.is(tanh32(0), 0)).toBe(true);
    expect(tanh32(1e-40)).toBe(1e-40);
    expect(tanh32(Infinity)).toBe(1);
    expect(tanh32(-Infinity)).toBe(-1);
    expect(tanh32(NaN)).toBeNaN();
    // Either side of the series/exponential switch at |x| = 0.125.
    for (const x of [F(0.125), F(0.12499999), -F(0.125), -F(0.12499999)]) expect(F(tanh32(x))).toBe(F(Math.tanh(x)));
  });

  it("sigmoid32 rounds to the float64 sigmoid's float32 value, with 0 and 1 at the ends", () => {
    const r = compare(sigmoid32, mathSigmoid, inputs(-110, 30));
    expect(r.worst).toBeLessThanOrEqual(1);
    expect(r.differing).toBeLessThanOrEqual(3);
    expect(F(sigmoid32(-Infinity))).toBe(0);
    expect(sigmoid32(Infinity)).toBe(1);
    expect(sigmoid32(0)).toBe(0.5);
    expect(sigmoid32(NaN)).toBeNaN();
  });
});
