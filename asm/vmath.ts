// Vector math on float32 lanes, computed in float64 (two f64x2 halves per f32x4) and rounded once to float32.
// Each float32 input is exact in float64, the float64 formulas below are accurate to about 1e-9 relative (far
// below float32's 6e-8 rounding step), and f32x4.demote_f64x2_zero rounds the result once, overflow to ±Infinity
// and gradual underflow included. So every function is within 1 ulp of the correctly rounded result (usually
// exactly it), saturating ranges and subnormal results too, without float32 special-casing.
//
// Sources: Cody–Waite argument reduction (W. J. Cody & W. Waite, "Software Manual for the Elementary Functions",
// 1980) with the split ln 2 of fdlibm (Sun Microsystems, e_exp.c); the atanh series for log(1+f) on
// [√½−1, √2−1] (fdlibm e_log.c's reduction); W. J. Cody's rational Chebyshev approximations of erf/erfc
// (Math. Comp. 23, 1969; coefficients of SPECFUN CALERF, netlib.org/specfun/erf, as in src/kernels/special.ts).
// Polynomials are Taylor series truncated where the remainder is below 1e-9 relative (bounds next to each).

const LOG2E: f64 = 1.4426950408889634;
// fdlibm's ln2_hi (32 significant bits, so n·LN2_HI is exact for |n| < 2^21) and ln2_lo = ln 2 − ln2_hi.
const LN2_HI: f64 = 6.93147180369123816490e-01;
const LN2_LO: f64 = 1.90821492927058770002e-10;
const LN2: f64 = 0.6931471805599453;
/** 1.5·2^52: adding it rounds to an integer and leaves that integer in the low bits of the float64. */
const SHIFT: f64 = 6755399441055744.0;
const SHIFT_BITS: i64 = 0x4338000000000000;
const EXP_BIAS: i64 = 1023 << 52;

/** Promotes lanes 0,1 of a f32x4 to f64x2. */
@inline export function lo64(x: v128): v128 { return f64x2.promote_low_f32x4(x); }
/** Promotes lanes 2,3 of a f32x4 to f64x2. */
@inline export function hi64(x: v128): v128 { return f64x2.promote_low_f32x4(i32x4.shuffle(x, x, 2, 3, 2, 3)); }
/** Rounds two f64x2 to float32 and joins them: lanes (lo0, lo1, hi0, hi1). */
@inline export function join32(lo: v128, hi: v128): v128 {
  return i32x4.shuffle(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
}

/** x clamped to [lo, hi]; NaN stays NaN (pmin/pmax return their first operand when unordered). */
@inline function clamp(x: v128, lo: f64, hi: f64): v128 {
  return f64x2.pmin(f64x2.pmax(x, f64x2.splat(lo)), f64x2.splat(hi));
}

/**
 * Cody–Waite reduction x = n·ln 2 + r, |r| ≤ ½ ln 2 (plus rounding), for |x| ≤ ~700. Returns r; `scaleOf(t)`
 * gives 2^n from the returned `t` (n lives in its low bits).
 */
@inline function reduceT(x: v128): v128 {
  return f64x2.add(f64x2.mul(x, f64x2.splat(LOG2E)), f64x2.splat(SHIFT));
}
@inline function reduceR(x: v128, t: v128): v128 {
  const n = f64x2.sub(t, f64x2.splat(SHIFT));
  return f64x2.sub(f64x2.sub(x, f64x2.mul(n, f64x2.splat(LN2_HI))), f64x2.mul(n, f64x2.splat(LN2_LO)));
}
/** 2^n from t = n + 1.5·2^52 (|n| ≤ 1022): n shifted into the exponent field plus the bias. */
@inline function scaleOf(t: v128): v128 {
  return i64x2.add(i64x2.shl(t, 52), i64x2.splat(EXP_BIAS));
}

/**
 * expm1(r) for |r| ≤ 0.3466 by its Taylor series to r⁸/8!: remainder < r⁹/9! ≤ 2e-10, relative to r below 6e-10.
 */
@inline function expm1Poly(r: v128): v128 {
  let p = f64x2.add(f64x2.splat(1.0 / 5040), f64x2.mul(r, f64x2.splat(1.0 / 40320)));
  p = f64x2.add(f64x2.splat(1.0 / 720), f64x2.mul(r, p));
  p = f64x2.add(f64x2.splat(1.0 / 120), f64x2.mul(r, p));
  p = f64x2.add(f64x2.splat(1.0 / 24), f64x2.mul(r, p));
  p = f64x2.add(f64x2.splat(1.0 / 6), f64x2.mul(r, p));
  p = f64x2.add(f64x2.splat(0.5), f64x2.mul(r, p));
  p = f64x2.add(f64x2.splat(1.0), f64x2.mul(r, p));
  return f64x2.mul(r, p);
}

/** e^x in float64 for x in [−700, 700] (callers clamp), relative error below 1e-9. */
@inline export function exp64(x: v128): v128 {
  const t = reduceT(x);
  const s = scaleOf(t);
  return f64x2.add(s, f64x2.mul(s, expm1Poly(reduceR(x, t))));
}

/** e^x − 1 in float64 for x in [−700, 700], relative error below 1e-9 (no cancellation near 0: 2^n·p + (2^n − 1)). */
@inline export function expm164(x: v128): v128 {
  const t = reduceT(x);
  const s = scaleOf(t);
  return f64x2.add(f64x2.mul(s, expm1Poly(reduceR(x, t))), f64x2.sub(s, f64x2.splat(1.0)));
}

/**
 * log(x) in float64 for positive normal x (every positive float32 is normal in float64): x = 2^k·m with
 * m ∈ [√½, √2), f = m − 1 (exact), log(1+f) = 2·atanh(s) with s = f/(2+f), |s| ≤ 0.1716, summed to s¹¹
 * (remainder relative to 2s below s¹²/13 < 5e-11). Zero, negative, infinite and NaN inputs give garbage: callers
 * select their special values.
 */
@inline export function log64(x: v128): v128 {
  const t = i64x2.sub(x, i64x2.splat(0x3FE6A09E667F3BCD)); // x / √½, in bits: its exponent is k
  const k = i64x2.shr_s(t, 52);
  const m = i64x2.sub(x, i64x2.shl(k, 52));
  const kf = f64x2.sub(i64x2.add(k, i64x2.splat(SHIFT_BITS)), f64x2.splat(SHIFT));
  const f = f64x2.sub(m, f64x2.splat(1.0));
  const s = f64x2.div(f, f64x2.add(f64x2.splat(2.0), f));
  const z = f64x2.mul(s, s);
  let q = f64x2.add(f64x2.splat(2.0 / 9), f64x2.mul(z, f64x2.splat(2.0 / 11)));
  q = f64x2.add(f64x2.splat(2.0 / 7), f64x2.mul(z, q));
  q = f64x2.add(f64x2.splat(2.0 / 5), f64x2.mul(z, q));
  q = f64x2.add(f64x2.splat(2.0 / 3), f64x2.mul(z, q));
  const l = f64x2.add(f64x2.add(s, s), f64x2.mul(s, f64x2.mul(z, q)));
  return f64x2.add(f64x2.mul(kf, f64x2.splat(LN2)), l);
}

// --- float32 functions (f32x4 in, f32x4 out) ---

const INF: f32 = Infinity;
const NAN: f32 = NaN;

@inline function select(a: v128, b: v128, mask: v128): v128 { return v128.bitselect(a, b, mask); }

/** e^x: results below 2^-150 round to 0 and above float32's range to +Infinity (x clamped to [−110, 100]). */
@inline export function exp4(x: v128): v128 {
  return join32(exp64(clamp(lo64(x), -110, 100)), exp64(clamp(hi64(x), -110, 100)));
}

/** e^x − 1, accurate near 0; −1 below −110, +Infinity above float32's range. ±0 stay ±0. */
@inline export function expm14(x: v128): v128 {
  const r = join32(expm164(clamp(lo64(x), -110, 100)), expm164(clamp(hi64(x), -110, 100)));
  return select(x, r, f32x4.eq(x, f32x4.splat(0)));
}

/** log(x): −Infinity at ±0, NaN below 0 and for NaN, +Infinity at +Infinity. */
@inline export function log4(x: v128): v128 {
  let r = join32(log64(lo64(x)), log64(hi64(x)));
  r = select(f32x4.splat(-INF), r, f32x4.eq(x, f32x4.splat(0)));
  r = select(f32x4.splat(INF), r, f32x4.eq(x, f32x4.splat(INF)));
  return select(r, f32x4.splat(NAN), f32x4.ge(x, f32x4.splat(0)));
}

/** log(1 + x) = log(u) + (x − (u − 1))/u with u = 1 + x rounded (the quotient restores what rounding u lost). */
@inline function log1p64(x: v128): v128 {
  const u = f64x2.add(f64x2.splat(1.0), x);
  return f64x2.add(log64(u), f64x2.div(f64x2.sub(x, f64x2.sub(u, f64x2.splat(1.0))), u));
}

/** log(1 + x): −Infinity at −1, NaN below −1 and for NaN, +Infinity at +Infinity, ±0 stay ±0. */
@inline export function log1p4(x: v128): v128 {
  let r = join32(log1p64(lo64(x)), log1p64(hi64(x)));
  r = select(x, r, f32x4.eq(x, f32x4.splat(0)));
  r = select(f32x4.splat(-INF), r, f32x4.eq(x, f32x4.splat(-1)));
  r = select(f32x4.splat(INF), r, f32x4.eq(x, f32x4.splat(INF)));
  return select(r, f32x4.splat(NAN), f32x4.ge(x, f32x4.splat(-1)));
}

/** σ(x) = 1/(1 + e^−x) with x clamped to [−120, 120] (beyond, float32 σ is 0 or 1). */
@inline function sigmoid64(x: v128): v128 {
  const e = exp64(f64x2.neg(clamp(x, -120, 120)));
  return f64x2.div(f64x2.splat(1.0), f64x2.add(f64x2.splat(1.0), e));
}

/** σ(x), 1/(1 + e^−x); σ(−100) ≈ 3.7e-44 is a float32 subnormal, rounded once. NaN gives NaN. */
@inline export function sigmoid4(x: v128): v128 {
  return join32(sigmoid64(lo64(x)), sigmoid64(hi64(x)));
}

/** tanh(x) = t/(t + 2) with t = e^2x − 1 (no cancellation near 0), x clamped to [−20, 20] (tanh(±9.1) rounds to ±1). */
@inline function tanh64(x: v128): v128 {
  const c = clamp(x, -20, 20);
  const t = expm164(f64x2.add(c, c));
  return f64x2.div(t, f64x2.add(t, f64x2.splat(2.0)));
}

/** tanh(x); ±0 stay ±0, ±Infinity give ±1, NaN gives NaN. */
@inline export function tanh4(x: v128): v128 {
  const r = join32(tanh64(lo64(x)), tanh64(hi64(x)));
  return select(x, r, f32x4.eq(x, f32x4.splat(0)));
}

// Cody's coefficients (SPECFUN CALERF): erf on |x| ≤ 0.46875 and erfc·e^{x²} on 0.46875 < |x| ≤ 4. Beyond 4,
// float32 erf is ±1 (erfc(4) ≈ 1.5e-8 is below half an ulp of 1), so |x| is clamped to 4.
const A0: f64 = 3.1611237438705656, A1: f64 = 113.864154151050156, A2: f64 = 377.485237685302021, A3: f64 = 3209.37758913846947, A4: f64 = 0.185777706184603153;
const B0: f64 = 23.6012909523441209, B1: f64 = 244.024637934444173, B2: f64 = 1282.61652607737228, B3: f64 = 2844.23683343917062;
const C0: f64 = 0.564188496988670089, C1: f64 = 8.88314979438837594, C2: f64 = 66.1191906371416295, C3: f64 = 298.635138197400131;
const C4: f64 = 881.95222124176909, C5: f64 = 1712.04761263407058, C6: f64 = 2051.07837782607147, C7: f64 = 1230.33935479799725, C8: f64 = 2.15311535474403846e-8;
const D0: f64 = 15.7449261107098347, D1: f64 = 117.693950891312499, D2: f64 = 537.181101862009858, D3: f64 = 1621.38957456669019;
const D4: f64 = 3290.79923573345963, D5: f64 = 4362.61909014324716, D6: f64 = 3439.36767414372164, D7: f64 = 1230.33935480374942;

@inline function mad(acc: v128, c: f64, y: v128): v128 { return f64x2.mul(f64x2.add(acc, f64x2.splat(c)), y); }

/** erf(x) in float64 from Cody's two inner ranges, computed for both and selected per lane. */
@inline function erf64(x: v128): v128 {
  const y = clamp(f64x2.abs(x), 0, 4);
  const z = f64x2.mul(y, y); // exact: y has at most 24 significant bits
  // |x| ≤ 0.46875: erf = x·P(z)/Q(z)
  let num = f64x2.mul(f64x2.splat(A4), z), den = z;
  num = mad(num, A0, z); den = mad(den, B0, z);
  num = mad(num, A1, z); den = mad(den, B1, z);
  num = mad(num, A2, z); den = mad(den, B2, z);
  const small = f64x2.div(f64x2.mul(y, f64x2.add(num, f64x2.splat(A3))), f64x2.add(den, f64x2.splat(B3)));
  // 0.46875 < |x| ≤ 4: erf = 1 − e^{−y²}·R(y)
  let n2 = f64x2.mul(f64x2.splat(C8), y), d2 = y;
  n2 = mad(n2, C0, y); d2 = mad(d2, D0, y);
  n2 = mad(n2, C1, y); d2 = mad(d2, D1, y);
  n2 = mad(n2, C2, y); d2 = mad(d2, D2, y);
  n2 = mad(n2, C3, y); d2 = mad(d2, D3, y);
  n2 = mad(n2, C4, y); d2 = mad(d2, D4, y);
  n2 = mad(n2, C5, y); d2 = mad(d2, D5, y);
  n2 = mad(n2, C6, y); d2 = mad(d2, D6, y);
  const erfc = f64x2.mul(exp64(f64x2.neg(z)), f64x2.div(f64x2.add(n2, f64x2.splat(C7)), f64x2.add(d2, f64x2.splat(D7))));
  const big = f64x2.sub(f64x2.splat(1.0), erfc);
  const r = v128.bitselect(small, big, f64x2.le(y, f64x2.splat(0.46875)));
  // Sign of x onto |erf| (NaN lanes: y is NaN, so `big` is NaN and stays NaN).
  return v128.or(r, v128.and(x, f64x2.splat(-0.0)));
}

/** erf(x); ±0 stay ±0, ±Infinity give ±1, NaN gives NaN. */
@inline export function erf4(x: v128): v128 {
  return join32(erf64(lo64(x)), erf64(hi64(x)));
}
