// e^x, tanh and the logistic sigmoid for the js kernels' float32 results. Math.exp and Math.tanh are calls into
// the engine's C library (fdlibm in V8) that TurboFan cannot inline, and on float32 data they dominated the js
// backend's elementwise time. These are plain float64 arithmetic that V8 inlines into the loops, about 2× faster.
//
// Accuracy: each is within a few float64 ulps of the exact value (measured: max relative error 3.4e-16 against
// Math.exp, Math.tanh and the float64 sigmoid over 3·10⁶ float32 inputs in ±2⁸, outside the clamped ranges where
// float32 saturates anyway), so rounding the result once to float32 gives Math.fround(Math.exp(x)) except when
// the exact value lies within a few 1e-16 (relative) of a float32 rounding boundary: none of 10⁷ inputs, and
// test/float32-math.test.ts checks a sweep. Only for float32 results: float64 results keep Math's own rounding.
//
// Method: the table-driven exponential of P. T. P. Tang ("Table-driven implementation of the exponential function
// in IEEE floating-point arithmetic", ACM TOMS 15(2), 1989): x = (32m + j)·ln2/32 + r with |r| ≤ ln2/64, so
// e^x = 2^m · 2^(j/32) · e^r, e^r − 1 by its Taylor series to r⁶/6! (remainder below (ln2/64)⁷/7! < 4e-18).
// ln 2/32 is split in two (fdlibm's ln2_hi/ln2_lo, divided by 32: exact) so that r is computed without rounding
// loss for the clamped range.

const N = 32;
/** 2^(j/32), j = 0…31 (Math.pow is within one float64 ulp here). */
const FRACTION = Float64Array.from({ length: N }, (_, j) => Math.pow(2, j / N));
/** 2^m for m = −160…159 (exact powers of two, every one a normal float64). */
const POW2_BIAS = 160;
const POW2 = Float64Array.from({ length: 2 * POW2_BIAS }, (_, i) => Math.pow(2, i - POW2_BIAS));
const N_OVER_LN2 = N / Math.LN2;
/** 1.5·2^52: adding it rounds to an integer held in the low bits (round to nearest even). */
const SHIFT = 6755399441055744;
const LN2_HI_N = 6.93147180369123816490e-1 / N;
const LN2_LO_N = 1.90821492927058770002e-10 / N;
/** Past these, e^x rounded to float32 is 0 or +Infinity (float32's range ends near e^±103): clamping changes nothing. */
const EXP_LO = -110;
const EXP_HI = 100;

/**
 * e^x for a float32 result (the caller rounds): below −110 it returns e^−110 (rounds to 0), above 100 e^100
 * (rounds to +Infinity); NaN gives NaN. Within ~2 float64 ulps of e^x.
 */
export function exp32(x: number): number {
  const c = x < EXP_LO ? EXP_LO : x > EXP_HI ? EXP_HI : x; // NaN passes (both tests false)
  const k = c * N_OVER_LN2 + SHIFT - SHIFT; // round(c·32/ln2)
  const r = c - k * LN2_HI_N - k * LN2_LO_N;
  const ki = k | 0; // NaN → 0: r is NaN, and so is the result
  const p = r + r * r * (0.5 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120 + r * (1 / 720)))));
  const s = FRACTION[ki & (N - 1)]! * POW2[(ki >> 5) + POW2_BIAS]!;
  return s + s * p;
}

/**
 * tanh(x) for a float32 result. |x| < 1e-9: x; below 0.125: its Taylor series to x¹⁵ (remainder below 1e-18 relative);
 * up to 10: 1 − 2/(e^2|x| + 1) with the sign restored (cancellation costs at most 3 bits there); beyond,
 * ±1 (tanh(9.02) already rounds to 1 in float32). ±0 stay ±0; NaN gives NaN.
 */
export function tanh32(x: number): number {
  const a = Math.abs(x);
  if (a < 1e-9) return x; // tanh x = x to 1e-18 relative; keeps the sign of ±0 (the series would give +0 for −0)
  if (a < 0.125) {
    const z = x * x;
    return x + x * z * (-1 / 3 + z * (2 / 15 + z * (-17 / 315 + z * (62 / 2835 + z * (-1382 / 155925 + z * (21844 / 6081075 + z * (-929569 / 638512875)))))));
  }
  if (!(a < 10)) return a !== a ? x : x > 0 ? 1 : -1;
  const r = 1 - 2 / (exp32(2 * a) + 1);
  return x < 0 ? -r : r;
}

/** σ(x) = 1/(1 + e^−x) for a float32 result, split on the sign as the js kernel (e^x/(1 + e^x) below 0). NaN gives NaN. */
export function sigmoid32(x: number): number {
  const e = exp32(-Math.abs(x)); // one call site: small enough for V8 to inline into a fused loop
  return x >= 0 ? 1 / (1 + e) : e / (1 + e);
}
