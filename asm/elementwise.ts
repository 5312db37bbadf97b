// Elementwise float32 kernels over whole vectors: `n` counts float32 elements and every loop runs ⌈n/4⌉ vector
// steps, so the glue pads each operand region to a multiple of 16 bytes (the padding lanes compute garbage
// that is never copied out). Unary kernels may run in place (dst = src).
import { exp4, expm14, log4, log1p4, sigmoid4, tanh4, erf4, lo64, hi64, join32, sech264, sigmoidSlope64 } from "./vmath";

// Operation codes, also listed in src/kernels/wasm/backend.ts (UNARY_OPS, BINARY_OPS, FUSED_OPS there).
const NEG = 0, ABS = 1, SQRT = 2, SQUARE = 3, RELU = 4, RECIPROCAL = 5, RSQRT = 6;
const EXP = 7, EXPM1 = 8, LOG = 9, LOG1P = 10, TANH = 11, SIGMOID = 12, ERF = 13;

@inline function rsqrt4(x: v128): v128 {
  // In float64 then rounded, exactly as the js kernel's 1 / Math.sqrt(x) stored into a Float32Array.
  const one = f64x2.splat(1.0);
  return join32(f64x2.div(one, f64x2.sqrt(lo64(x))), f64x2.div(one, f64x2.sqrt(hi64(x))));
}

/** dst[i] = f(src[i]) for i < n, f chosen by `op` (codes above). */
export function unaryF32(op: i32, src: usize, dst: usize, n: i32): void {
  const end = src + ((<usize>n + 3) & ~3) * 4;
  const d = dst - src;
  const zero = f32x4.splat(0), one = f32x4.splat(1);
  switch (op) {
    case NEG: for (let p = src; p < end; p += 16) v128.store(p + d, f32x4.neg(v128.load(p))); break;
    case ABS: for (let p = src; p < end; p += 16) v128.store(p + d, f32x4.abs(v128.load(p))); break;
    case SQRT: for (let p = src; p < end; p += 16) v128.store(p + d, f32x4.sqrt(v128.load(p))); break;
    case SQUARE: for (let p = src; p < end; p += 16) { const x = v128.load(p); v128.store(p + d, f32x4.mul(x, x)); } break;
    // relu: +0 where x ≤ 0, else x (NaN stays NaN), as the js kernel.
    case RELU: for (let p = src; p < end; p += 16) { const x = v128.load(p); v128.store(p + d, v128.andnot(x, f32x4.le(x, zero))); } break;
    case RECIPROCAL: for (let p = src; p < end; p += 16) v128.store(p + d, f32x4.div(one, v128.load(p))); break;
    case RSQRT: for (let p = src; p < end; p += 16) v128.store(p + d, rsqrt4(v128.load(p))); break;
    case EXP: for (let p = src; p < end; p += 16) v128.store(p + d, exp4(v128.load(p))); break;
    case EXPM1: for (let p = src; p < end; p += 16) v128.store(p + d, expm14(v128.load(p))); break;
    case LOG: for (let p = src; p < end; p += 16) v128.store(p + d, log4(v128.load(p))); break;
    case LOG1P: for (let p = src; p < end; p += 16) v128.store(p + d, log1p4(v128.load(p))); break;
    case TANH: {
      let p = src;
      for (; p + 32 <= end; p += 32) { const a = tanh4(v128.load(p)), b = tanh4(v128.load(p, 16)); v128.store(p + d, a); v128.store(p + d, b, 16); }
      if (p < end) v128.store(p + d, tanh4(v128.load(p)));
      break;
    }
    case SIGMOID: {
      let p = src;
      for (; p + 32 <= end; p += 32) { const a = sigmoid4(v128.load(p)), b = sigmoid4(v128.load(p, 16)); v128.store(p + d, a); v128.store(p + d, b, 16); }
      if (p < end) v128.store(p + d, sigmoid4(v128.load(p)));
      break;
    }
    case ERF: for (let p = src; p < end; p += 16) v128.store(p + d, erf4(v128.load(p))); break;
    default: unreachable();
  }
}

const ADD = 0, SUB = 1, MUL = 2, DIV = 3, MAXIMUM = 4, MINIMUM = 5;

/**
 * maximum as the js kernel: x where x > y or x is NaN, else y (so NaN in either operand propagates and
 * max(+0, −0) is −0, max(−0, +0) is +0, the second operand on ties).
 */
@inline function maximum4(x: v128, y: v128): v128 { return v128.bitselect(x, y, v128.or(f32x4.gt(x, y), f32x4.ne(x, x))); }
@inline function minimum4(x: v128, y: v128): v128 { return v128.bitselect(x, y, v128.or(f32x4.lt(x, y), f32x4.ne(x, x))); }

@inline function apply(op: i32, x: v128, y: v128): v128 {
  switch (op) {
    case ADD: return f32x4.add(x, y);
    case SUB: return f32x4.sub(x, y);
    case MUL: return f32x4.mul(x, y);
    case DIV: return f32x4.div(x, y);
    case MAXIMUM: return maximum4(x, y);
    default: return minimum4(x, y);
  }
}

@inline function binaryLoop(op: i32, a: usize, b: usize, dst: usize, n: i32, mode: i32, s: f32): void {
  const end = a + ((<usize>n + 3) & ~3) * 4;
  const sv = f32x4.splat(s);
  if (mode == 0) {
    const db = b - a, dd = dst - a;
    for (let p = a; p < end; p += 16) v128.store(p + dd, apply(op, v128.load(p), v128.load(p + db)));
  } else if (mode == 1) {
    const dd = dst - a;
    for (let p = a; p < end; p += 16) v128.store(p + dd, apply(op, v128.load(p), sv));
  } else {
    const dd = dst - a;
    for (let p = a; p < end; p += 16) v128.store(p + dd, apply(op, sv, v128.load(p)));
  }
}

/**
 * dst[i] = f(a[i], b[i]) with the js BinaryKernel's `mode`: 0 both full, 1 b is the scalar `s`, 2 a is the
 * scalar `s` (then `a` points at the full operand). IEEE float32 arithmetic gives the js kernels' results
 * exactly: float64 then float32 rounding of +, −, ×, ÷ is the same as float32 rounding (53 ≥ 2·24 + 2 bits).
 */
export function binaryF32(op: i32, a: usize, b: usize, dst: usize, n: i32, mode: i32, s: f32): void {
  // One loop per op, so each compiles to straight-line vector code.
  switch (op) {
    case ADD: binaryLoop(ADD, a, b, dst, n, mode, s); break;
    case SUB: binaryLoop(SUB, a, b, dst, n, mode, s); break;
    case MUL: binaryLoop(MUL, a, b, dst, n, mode, s); break;
    case DIV: binaryLoop(DIV, a, b, dst, n, mode, s); break;
    case MAXIMUM: binaryLoop(MAXIMUM, a, b, dst, n, mode, s); break;
    case MINIMUM: binaryLoop(MINIMUM, a, b, dst, n, mode, s); break;
    default: unreachable();
  }
}

const RELU_GRAD = 2, SQUARE_GRAD = 3;

// Backward kernels of src/kernels/fused.ts, in float64 with the same operation order then rounded once, so the
// results are bit-identical to the js kernels' (which compute in JS numbers and store into a Float32Array).
@inline function tanhGrad64(y: v128, ct: v128): v128 { return f64x2.mul(ct, f64x2.sub(f64x2.splat(1.0), f64x2.mul(y, y))); }
@inline function sigmoidGrad64(y: v128, ct: v128): v128 { return f64x2.mul(f64x2.mul(ct, y), f64x2.sub(f64x2.splat(1.0), y)); }
@inline function squareGrad64(x: v128, ct: v128): v128 { return f64x2.mul(f64x2.mul(f64x2.splat(2.0), x), ct); }

/** dst[i] = g(x[i], ct[i]): reluGrad 0 where x ≤ 0 else ct, squareGrad 2·x·ct. */
export function fusedGradF32(op: i32, x: usize, ct: usize, dst: usize, n: i32): void {
  const end = x + ((<usize>n + 3) & ~3) * 4;
  const dc = ct - x, dd = dst - x;
  switch (op) {
    case RELU_GRAD:
      for (let p = x; p < end; p += 16) {
        v128.store(p + dd, v128.andnot(v128.load(p + dc), f32x4.le(v128.load(p), f32x4.splat(0))));
      }
      break;
    case SQUARE_GRAD:
      for (let p = x; p < end; p += 16) {
        const v = v128.load(p), c = v128.load(p + dc);
        v128.store(p + dd, join32(squareGrad64(lo64(v), lo64(c)), squareGrad64(hi64(v), hi64(c))));
      }
      break;
    default: unreachable();
  }
}

const TANH_GRAD = 0, SIGMOID_GRAD = 1;

// tanh and sigmoid cotangents as src/kernels/fused.ts's saturatingGradKernels, in two passes so that the common
// case costs what the output-only kernel did: saturatingGradF32 applies the output-based formula everywhere and
// reports whether any lane is past SATURATION; only then does the caller copy x in and run saturatingFixF32, which
// redoes just the vectors holding such a lane from the input (one exp). The js kernel's threshold is this same
// float32 value, so its float64 test and this float32 one decide alike.
const SATURATION: f32 = 0.97;

@inline function saturated(op: i32, y: v128): v128 {
  return op == TANH_GRAD ? f32x4.gt(f32x4.abs(y), f32x4.splat(SATURATION)) : f32x4.gt(y, f32x4.splat(SATURATION));
}

/** dst[i] = ct[i]·(1 − y[i]²) (op 0, tanh) or ct[i]·y[i]·(1 − y[i]) (op 1, sigmoid); returns 1 if any y[i] is past SATURATION. */
export function saturatingGradF32(op: i32, y: usize, ct: usize, dst: usize, n: i32): i32 {
  const end = y + ((<usize>n + 3) & ~3) * 4;
  const dc = ct - y, dd = dst - y;
  let any = i32x4.splat(0);
  if (op == TANH_GRAD) {
    for (let p = y; p < end; p += 16) {
      const w = v128.load(p), c = v128.load(p + dc);
      any = v128.or(any, saturated(TANH_GRAD, w));
      v128.store(p + dd, join32(tanhGrad64(lo64(w), lo64(c)), tanhGrad64(hi64(w), hi64(c))));
    }
  } else {
    for (let p = y; p < end; p += 16) {
      const w = v128.load(p), c = v128.load(p + dc);
      any = v128.or(any, saturated(SIGMOID_GRAD, w));
      v128.store(p + dd, join32(sigmoidGrad64(lo64(w), lo64(c)), sigmoidGrad64(hi64(w), hi64(c))));
    }
  }
  return v128.any_true(any) ? 1 : 0;
}

/** The input-based slope of op 0 (sech²) or op 1 (σ') in one f64x2 half. */
@inline function slopeHalf(op: i32, x: v128): v128 { return op == TANH_GRAD ? sech264(x) : sigmoidSlope64(x); }

/** After saturatingGradF32: dst[i] = ct[i]·f'(x[i]) wherever y[i] is past SATURATION (other lanes keep their value). */
export function saturatingFixF32(op: i32, x: usize, y: usize, ct: usize, dst: usize, n: i32): void {
  const end = y + ((<usize>n + 3) & ~3) * 4;
  const dx = x - y, dc = ct - y, dd = dst - y;
  for (let p = y; p < end; p += 16) {
    const far = saturated(op, v128.load(p));
    if (!v128.any_true(far)) continue;
    const v = v128.load(p + dx), c = v128.load(p + dc);
    const fixed = join32(f64x2.mul(lo64(c), slopeHalf(op, lo64(v))), f64x2.mul(hi64(c), slopeHalf(op, hi64(v))));
    v128.store(p + dd, v128.bitselect(fixed, v128.load(p + dd), far));
  }
}

/**
 * 1 if any of the n float32 values at p is NaN, else 0. Run on a chunk the wrapper has just computed while it is
 * still in cache, so strong-zero checks (src/autodiff/strong-zeros.ts) need no pass over the whole result. Reads
 * exactly n values: lanes past n may hold an earlier chunk's data.
 */
export function anyNaNF32(p: usize, n: i32): i32 {
  const whole = p + (<usize>(n >> 2) << 4), end = p + (<usize>n << 2);
  let any = i32x4.splat(0);
  for (let q = p; q < whole; q += 16) {
    const v = v128.load(q);
    any = v128.or(any, f32x4.ne(v, v));
  }
  if (v128.any_true(any)) return 1;
  for (let q = whole; q < end; q += 4) {
    const v = load<f32>(q);
    if (v != v) return 1;
  }
  return 0;
}

/**
 * 1 if any of the n float32 values at p is +0 or −0, else 0: the other half of the chunk check (a contribution
 * without zeros has no structural zeros to record; src/autodiff/strong-zeros.ts). Reads exactly n values.
 */
export function anyZeroF32(p: usize, n: i32): i32 {
  const whole = p + (<usize>(n >> 2) << 4), end = p + (<usize>n << 2);
  const zero = f32x4.splat(0);
  let any = i32x4.splat(0);
  for (let q = p; q < whole; q += 16) any = v128.or(any, f32x4.eq(v128.load(q), zero));
  if (v128.any_true(any)) return 1;
  for (let q = whole; q < end; q += 4) {
    if (load<f32>(q) == 0) return 1;
  }
  return 0;
}
