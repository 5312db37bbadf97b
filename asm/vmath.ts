// Vector math on float32 lanes, computed in float64 (two f64x2 halves per f32x4) and rounded once to float32
// (all but exp, which is float32 arithmetic: see exp4).
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

// Every constant is read from this table with v128.load64_splat (one load instruction): V8 rebuilds a v128
// constant inside a loop on every iteration (movq, vmovq, vpunpcklqdq), which made exp 35% slower.
const K = memory.data<f64>([
  1.4426950408889634, // 0 log2(e)
  6755399441055744.0, // 1 1.5·2^52: adding it rounds to an integer kept in the low bits; its bits are 0x4338…
  6.93147180369123816490e-01, // 2 fdlibm ln2_hi (32 significant bits: n·ln2_hi is exact for |n| < 2^21)
  1.90821492927058770002e-10, // 3 fdlibm ln2_lo = ln 2 − ln2_hi
  0.6931471805599453, // 4 ln 2
  1.0 / 40320, 1.0 / 5040, 1.0 / 720, 1.0 / 120, 1.0 / 24, 1.0 / 6, 0.5, // 5..11 Taylor coefficients of expm1
  1.0, // 12 (its bits, 0x3FF0…, are also the exponent bias 1023 << 52)
  2.0, // 13
  2.0 / 11, 2.0 / 9, 2.0 / 7, 2.0 / 5, 2.0 / 3, // 14..18 series of 2·atanh(s) = log((1+s)/(1−s))
  0.7071067811865476, // 19 √½, bits 0x3FE6A09E667F3BCD
  -110, 100, -120, 120, -20, 20, 0, 4, // 20..27 clamps
  0.46875, // 28 erf's range split
  -0.0, // 29 sign bit
  // 30.. Cody's erf on |x| ≤ 0.46875: A0..A4, B0..B3
  3.1611237438705656, 113.864154151050156, 377.485237685302021, 3209.37758913846947, 0.185777706184603153,
  23.6012909523441209, 244.024637934444173, 1282.61652607737228, 2844.23683343917062,
  // 39.. erfc·e^{x²} on 0.46875 < |x| ≤ 4: C0..C8, D0..D7
  0.564188496988670089, 8.88314979438837594, 66.1191906371416295, 298.635138197400131, 881.95222124176909,
  1712.04761263407058, 2051.07837782607147, 1230.33935479799725, 2.15311535474403846e-8,
  15.7449261107098347, 117.693950891312499, 537.181101862009858, 1621.38957456669019,
  3290.79923573345963, 4362.61909014324716, 3439.36767414372164, 1230.33935480374942,
]);
const LOG2E = 0, SHIFT = 1, LN2_HI = 2, LN2_LO = 3, LN2 = 4, EXPM1_C = 5, ONE = 12, TWO = 13, ATANH_C = 14, SQRT_HALF = 19;
const EXPM1_LO = 20, EXPM1_HI = 21, SIG_LO = 22, SIG_HI = 23, TANH_LO = 24, TANH_HI = 25, ZERO = 26, ERF_HI = 27, ERF_SPLIT = 28, SIGN = 29;
const A = 30, B = 35, C = 39, D = 48;

/** Table entry `i` in both lanes. */
@inline function k(i: i32): v128 { return v128.load64_splat(K + <usize>i * 8); }

/** Promotes lanes 0,1 of a f32x4 to f64x2. */
@inline export function lo64(x: v128): v128 { return f64x2.promote_low_f32x4(x); }
/** Promotes lanes 2,3 of a f32x4 to f64x2. */
@inline export function hi64(x: v128): v128 { return f64x2.promote_low_f32x4(i32x4.shuffle(x, x, 2, 3, 2, 3)); }
/** Rounds two f64x2 to float32 and joins them: lanes (lo0, lo1, hi0, hi1). */
@inline export function join32(lo: v128, hi: v128): v128 {
  return i32x4.shuffle(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
}

/** x clamped to [K[lo], K[hi]]; NaN stays NaN (pmin/pmax return their first operand when unordered). */
@inline function clamp(x: v128, lo: i32, hi: i32): v128 {
  return f64x2.pmin(f64x2.pmax(x, k(lo)), k(hi));
}

/** Cody–Waite reduction x = n·ln 2 + r: t = x·log2(e) + 1.5·2^52 holds n = round(x/ln 2) in its low bits. */
@inline function reduceT(x: v128): v128 {
  return f64x2.add(f64x2.mul(x, k(LOG2E)), k(SHIFT));
}
/** r = x − n·ln 2 in two steps (|r| ≤ ½ ln 2 + tiny), accurate to about 2^-53·|x| absolute. */
@inline function reduceR(x: v128, t: v128): v128 {
  const n = f64x2.sub(t, k(SHIFT));
  return f64x2.sub(f64x2.sub(x, f64x2.mul(n, k(LN2_HI))), f64x2.mul(n, k(LN2_LO)));
}
/** 2^n from t (|n| ≤ 1022): n shifted into the exponent field plus the bias (the bits of 1.0). */
@inline function scaleOf(t: v128): v128 {
  return i64x2.add(i64x2.shl(t, 52), k(ONE));
}

/** expm1(r) for |r| ≤ 0.3466 by its Taylor series to r⁸/8!: remainder < r⁹/9! ≤ 2e-10, relative to r below 6e-10. */
@inline function expm1Poly(r: v128): v128 {
  // Written out: binaryen does not unroll loops, and a loop here would serialise the two halves of a vector.
  let p = f64x2.add(k(EXPM1_C + 1), f64x2.mul(r, k(EXPM1_C)));
  p = f64x2.add(k(EXPM1_C + 2), f64x2.mul(r, p));
  p = f64x2.add(k(EXPM1_C + 3), f64x2.mul(r, p));
  p = f64x2.add(k(EXPM1_C + 4), f64x2.mul(r, p));
  p = f64x2.add(k(EXPM1_C + 5), f64x2.mul(r, p));
  p = f64x2.add(k(EXPM1_C + 6), f64x2.mul(r, p));
  p = f64x2.add(k(ONE), f64x2.mul(r, p));
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
  return f64x2.add(f64x2.mul(s, expm1Poly(reduceR(x, t))), f64x2.sub(s, k(ONE)));
}

/**
 * log(x) in float64 for positive normal x (every positive float32 is normal in float64): x = 2^k·m with
 * m ∈ [√½, √2), f = m − 1 (exact), log(1+f) = 2·atanh(s) with s = f/(2+f), |s| ≤ 0.1716, summed to s¹¹
 * (remainder relative to 2s below s¹²/13 < 5e-11). Zero, negative, infinite and NaN inputs give garbage: callers
 * select their special values.
 */
@inline export function log64(x: v128): v128 {
  const t = i64x2.sub(x, k(SQRT_HALF)); // x / √½, in bits: its exponent field is k
  const e = i64x2.shr_s(t, 52);
  const m = i64x2.sub(x, i64x2.shl(e, 52));
  const ef = f64x2.sub(i64x2.add(e, k(SHIFT)), k(SHIFT)); // e as a float64 (through the bits of 1.5·2^52 + e)
  const f = f64x2.sub(m, k(ONE));
  const s = f64x2.div(f, f64x2.add(k(TWO), f));
  const z = f64x2.mul(s, s);
  let q = f64x2.add(k(ATANH_C + 1), f64x2.mul(z, k(ATANH_C)));
  q = f64x2.add(k(ATANH_C + 2), f64x2.mul(z, q));
  q = f64x2.add(k(ATANH_C + 3), f64x2.mul(z, q));
  q = f64x2.add(k(ATANH_C + 4), f64x2.mul(z, q));
  const l = f64x2.add(f64x2.add(s, s), f64x2.mul(s, f64x2.mul(z, q)));
  return f64x2.add(f64x2.mul(ef, k(LN2)), l);
}

// --- float32 functions (f32x4 in, f32x4 out) ---

// float32 constants, read as for K.
const KF = memory.data<f32>([Infinity, -Infinity, NaN, -1]);
const INF = 0, NEG_INF = 1, NAN = 2, MINUS_ONE = 3;
@inline function kf(i: i32): v128 { return v128.load32_splat(KF + <usize>i * 4); }

@inline function select(a: v128, b: v128, mask: v128): v128 { return v128.bitselect(a, b, mask); }
@inline function isZero(x: v128): v128 { return f32x4.eq(x, f32x4.splat(0)); }

// exp in float32 arithmetic (about 1.7× the float64 path's speed): S. L. Moshier's Cephes expf — Cody–Waite
// reduction with C1 = 0.693359375 (9 bits, so n·C1 and x − n·C1 are exact for |n| ≤ 150) and C2 = −2.12194440e-4,
// e^r = 1 + r + r²·P(r) with his degree-5 minimax P on |r| ≤ ½ ln 2 — and a two-step scaling by 2^n1·2^n2
// (n = n1 + n2), so results in the subnormal range are rounded once. Checked exhaustively against
// Math.fround(Math.exp(x)) over every float32 in [−104, 89] (2.24e9 values): max 1 ulp, 0.8% off by one.
const KX = memory.data<f32>([
  1.44269504088896341, 12582912.0, 0.693359375, -2.12194440e-4, // log2(e), 1.5·2^23, C1, C2
  1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1, // P
  1.0, -104.0, 89.0, // below −104 e^x rounds to 0, above 89 to +Infinity
]);
@inline function kx(i: i32): v128 { return v128.load32_splat(KX + <usize>i * 4); }

/** e^x in float32: +Infinity above 88.72, 0 below −103.97, subnormal results rounded once, NaN stays NaN. */
@inline export function exp4(x: v128): v128 {
  const xc = f32x4.pmin(f32x4.pmax(x, kx(11)), kx(12)); // NaN passes (pmin/pmax keep their first operand)
  const t = f32x4.add(f32x4.mul(xc, kx(0)), kx(1)); // n = round(x·log2 e) in the low bits of t
  const n = f32x4.sub(t, kx(1));
  const r = f32x4.sub(f32x4.sub(xc, f32x4.mul(n, kx(2))), f32x4.mul(n, kx(3)));
  let p = f32x4.add(f32x4.mul(kx(4), r), kx(5));
  p = f32x4.add(f32x4.mul(p, r), kx(6));
  p = f32x4.add(f32x4.mul(p, r), kx(7));
  p = f32x4.add(f32x4.mul(p, r), kx(8));
  p = f32x4.add(f32x4.mul(p, r), kx(9));
  const y = f32x4.add(f32x4.add(f32x4.mul(p, f32x4.mul(r, r)), r), kx(10));
  // 2^n as 2^n1·2^n2 with n1 = ⌊n/2⌋: both factors normal for n in [−150, 128].
  const ni = i32x4.sub(t, kx(1));
  const n1 = i32x4.shr_s(ni, 1);
  const s1 = i32x4.shl(i32x4.add(n1, i32x4.splat(127)), 23);
  const s2 = i32x4.shl(i32x4.add(i32x4.sub(ni, n1), i32x4.splat(127)), 23);
  return f32x4.mul(f32x4.mul(y, s1), s2);
}

/** e^x − 1, accurate near 0; −1 below −110, +Infinity above float32's range. ±0 stay ±0. */
@inline export function expm14(x: v128): v128 {
  const r = join32(expm164(clamp(lo64(x), EXPM1_LO, EXPM1_HI)), expm164(clamp(hi64(x), EXPM1_LO, EXPM1_HI)));
  return select(x, r, isZero(x));
}

/** log(x): −Infinity at ±0, NaN below 0 and for NaN, +Infinity at +Infinity. */
@inline export function log4(x: v128): v128 {
  let r = join32(log64(lo64(x)), log64(hi64(x)));
  r = select(kf(NEG_INF), r, isZero(x));
  r = select(kf(INF), r, f32x4.eq(x, kf(INF)));
  return select(r, kf(NAN), f32x4.ge(x, f32x4.splat(0)));
}

/** log(1 + x) = log(u) + (x − (u − 1))/u with u = 1 + x rounded (the quotient restores what rounding u lost). */
@inline function log1p64(x: v128): v128 {
  const u = f64x2.add(k(ONE), x);
  return f64x2.add(log64(u), f64x2.div(f64x2.sub(x, f64x2.sub(u, k(ONE))), u));
}

/** log(1 + x): −Infinity at −1, NaN below −1 and for NaN, +Infinity at +Infinity, ±0 stay ±0. */
@inline export function log1p4(x: v128): v128 {
  let r = join32(log1p64(lo64(x)), log1p64(hi64(x)));
  r = select(x, r, isZero(x));
  r = select(kf(NEG_INF), r, f32x4.eq(x, kf(MINUS_ONE)));
  r = select(kf(INF), r, f32x4.eq(x, kf(INF)));
  return select(r, kf(NAN), f32x4.ge(x, kf(MINUS_ONE)));
}

/** σ(x) = 1/(1 + e^−x) with x clamped to [−120, 120] (beyond, float32 σ is 0 or 1). */
@inline function sigmoid64(x: v128): v128 {
  const e = exp64(f64x2.neg(clamp(x, SIG_LO, SIG_HI)));
  return f64x2.div(k(ONE), f64x2.add(k(ONE), e));
}

/** σ(x), 1/(1 + e^−x); σ(−100) ≈ 3.7e-44 is a float32 subnormal, rounded once. NaN gives NaN. */
@inline export function sigmoid4(x: v128): v128 {
  return join32(sigmoid64(lo64(x)), sigmoid64(hi64(x)));
}

/** tanh(x) = t/(t + 2) with t = e^2x − 1 (no cancellation near 0), x clamped to [−20, 20] (tanh(±9.1) rounds to ±1). */
@inline function tanh64(x: v128): v128 {
  const c = clamp(x, TANH_LO, TANH_HI);
  const t = expm164(f64x2.add(c, c));
  return f64x2.div(t, f64x2.add(t, k(TWO)));
}

/** tanh(x); ±0 stay ±0, ±Infinity give ±1, NaN gives NaN. */
@inline export function tanh4(x: v128): v128 {
  const r = join32(tanh64(lo64(x)), tanh64(hi64(x)));
  return select(x, r, isZero(x));
}

/**
 * tanh'(x) = sech²(x) = 4t/(1 + t)² with t = e^(−2|x|), the exponent clamped at −120 (beyond it the float32
 * result is 0 anyway): the same formula and order as src/kernels/fused.ts's sech2. NaN gives NaN.
 */
@inline export function sech264(x: v128): v128 {
  const a = f64x2.abs(x);
  const t = exp64(f64x2.neg(clamp(f64x2.add(a, a), ZERO, SIG_HI)));
  const d = f64x2.add(k(ONE), t);
  return f64x2.div(f64x2.mul(f64x2.splat(4.0), t), f64x2.mul(d, d));
}

/** σ'(x) = s/(1 + s)² with s = e^(−|x|), the exponent clamped at −120: as src/kernels/fused.ts's sigmoidSlope. */
@inline export function sigmoidSlope64(x: v128): v128 {
  const s = exp64(f64x2.neg(clamp(f64x2.abs(x), ZERO, SIG_HI)));
  const d = f64x2.add(k(ONE), s);
  return f64x2.div(s, f64x2.mul(d, d));
}

/** (acc + K[c])·y: one Horner step of Cody's rational functions. */
@inline function mad(acc: v128, c: i32, y: v128): v128 { return f64x2.mul(f64x2.add(acc, k(c)), y); }

/**
 * erf(x) in float64 from Cody's two inner ranges, computed for both and selected per lane. Beyond |x| = 4,
 * float32 erf is ±1 (erfc(4) ≈ 1.5e-8 is below half an ulp of 1), so |x| is clamped to 4.
 */
@inline function erf64(x: v128): v128 {
  const y = clamp(f64x2.abs(x), ZERO, ERF_HI);
  const z = f64x2.mul(y, y); // exact: y has at most 24 significant bits
  // |x| ≤ 0.46875: erf = x·P(z)/Q(z)
  let num = f64x2.mul(k(A + 4), z), den = z;
  num = mad(num, A, z); den = mad(den, B, z);
  num = mad(num, A + 1, z); den = mad(den, B + 1, z);
  num = mad(num, A + 2, z); den = mad(den, B + 2, z);
  const small = f64x2.div(f64x2.mul(y, f64x2.add(num, k(A + 3))), f64x2.add(den, k(B + 3)));
  // 0.46875 < |x| ≤ 4: erf = 1 − e^{−y²}·R(y)
  let n2 = f64x2.mul(k(C + 8), y), d2 = y;
  n2 = mad(n2, C, y); d2 = mad(d2, D, y);
  n2 = mad(n2, C + 1, y); d2 = mad(d2, D + 1, y);
  n2 = mad(n2, C + 2, y); d2 = mad(d2, D + 2, y);
  n2 = mad(n2, C + 3, y); d2 = mad(d2, D + 3, y);
  n2 = mad(n2, C + 4, y); d2 = mad(d2, D + 4, y);
  n2 = mad(n2, C + 5, y); d2 = mad(d2, D + 5, y);
  n2 = mad(n2, C + 6, y); d2 = mad(d2, D + 6, y);
  const erfc = f64x2.mul(exp64(f64x2.neg(z)), f64x2.div(f64x2.add(n2, k(C + 7)), f64x2.add(d2, k(D + 7))));
  const big = f64x2.sub(k(ONE), erfc);
  const r = v128.bitselect(small, big, f64x2.le(y, k(ERF_SPLIT)));
  // Sign of x onto |erf| (NaN lanes: y is NaN, so `big` is NaN and stays NaN).
  return v128.or(r, v128.and(x, k(SIGN)));
}

/** erf(x); ±0 stay ±0, ±Infinity give ±1, NaN gives NaN. */
@inline export function erf4(x: v128): v128 {
  return join32(erf64(lo64(x)), erf64(hi64(x)));
}
