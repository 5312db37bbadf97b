// A fused elementwise program (jit's fused loops, src/kernels/wasm/fused.ts): a list of op codes over registers,
// each register a tile of `tile` float32 values in this module's memory. For each tile, every op runs over it,
// op by op, each a tight vector loop; the tile is small enough that the registers stay in cache, so a chain of
// ops costs one pass over the program's inputs and outputs in memory. Bool values are 0.0 / 1.0.
// Each op computes exactly what the module's eager kernel of the same op does (same vmath functions), so a
// fused program gives the wasm backend's eager values.
import { exp4, expm14, log4, log1p4, sigmoid4, tanh4, lo64, hi64, join32, sech264, sigmoidSlope64 } from "./vmath";

// Op codes, also listed in src/kernels/wasm/fused.ts (FUSED_CODES there).
const COPY = 0, NEG = 1, ABS = 2, SQRT = 3, SQUARE = 4, RELU = 5, RECIPROCAL = 6, RSQRT = 7;
const EXP = 8, EXPM1 = 9, LOG = 10, LOG1P = 11, TANH = 12, SIGMOID = 13, TO_BOOL = 14;
const ADD = 20, SUB = 21, MUL = 22, DIV = 23, MAXIMUM = 24, MINIMUM = 25;
const EQ = 26, NE = 27, GT = 28, GE = 29, LT = 30, LE = 31, RELU_GRAD = 32, SQUARE_GRAD = 33;
const WHERE = 40, TANH_GRAD = 41, SIGMOID_GRAD = 42;
const CHECK_NAN = 50, SUM = 51;

const SATURATION: f32 = 0.97;

@inline function rsqrt4(x: v128): v128 {
  const one = f64x2.splat(1.0);
  return join32(f64x2.div(one, f64x2.sqrt(lo64(x))), f64x2.div(one, f64x2.sqrt(hi64(x))));
}
@inline function maximum4(x: v128, y: v128): v128 { return v128.bitselect(x, y, v128.or(f32x4.gt(x, y), f32x4.ne(x, x))); }
@inline function minimum4(x: v128, y: v128): v128 { return v128.bitselect(x, y, v128.or(f32x4.lt(x, y), f32x4.ne(x, x))); }
@inline function squareGrad64(x: v128, ct: v128): v128 { return f64x2.mul(f64x2.mul(f64x2.splat(2.0), x), ct); }

/** ct·tanh'(x) or ct·σ'(x) from x, y = f(x) and ct, as the eager saturating-gradient kernels (output-based, input-based past SATURATION). */
@inline function saturatingGrad4(tanh: bool, x: v128, y: v128, ct: v128): v128 {
  const one = f64x2.splat(1.0);
  let r: v128;
  let far: v128;
  if (tanh) {
    const lo = lo64(y), hi = hi64(y);
    r = join32(f64x2.mul(lo64(ct), f64x2.sub(one, f64x2.mul(lo, lo))), f64x2.mul(hi64(ct), f64x2.sub(one, f64x2.mul(hi, hi))));
    far = f32x4.gt(f32x4.abs(y), f32x4.splat(SATURATION));
  } else {
    r = join32(f64x2.mul(f64x2.mul(lo64(ct), lo64(y)), f64x2.sub(one, lo64(y))), f64x2.mul(f64x2.mul(hi64(ct), hi64(y)), f64x2.sub(one, hi64(y))));
    far = f32x4.gt(y, f32x4.splat(SATURATION));
  }
  if (!v128.any_true(far)) return r;
  const fixed = tanh
    ? join32(f64x2.mul(lo64(ct), sech264(lo64(x))), f64x2.mul(hi64(ct), sech264(hi64(x))))
    : join32(f64x2.mul(lo64(ct), sigmoidSlope64(lo64(x))), f64x2.mul(hi64(ct), sigmoidSlope64(hi64(x))));
  return v128.bitselect(fixed, r, far);
}

@inline function unary(op: i32, x: v128): v128 {
  const zero = f32x4.splat(0), one = f32x4.splat(1);
  switch (op) {
    case COPY: return x;
    case NEG: return f32x4.neg(x);
    case ABS: return f32x4.abs(x);
    case SQRT: return f32x4.sqrt(x);
    case SQUARE: return f32x4.mul(x, x);
    case RELU: return v128.andnot(x, f32x4.le(x, zero));
    case RECIPROCAL: return f32x4.div(one, x);
    case RSQRT: return rsqrt4(x);
    case EXP: return exp4(x);
    case EXPM1: return expm14(x);
    case LOG: return log4(x);
    case LOG1P: return log1p4(x);
    case TANH: return tanh4(x);
    case SIGMOID: return sigmoid4(x);
    default: return v128.and(f32x4.ne(x, zero), one); // TO_BOOL: x ≠ 0 (NaN is true)
  }
}

@inline function binary(op: i32, x: v128, y: v128): v128 {
  const one = f32x4.splat(1);
  switch (op) {
    case ADD: return f32x4.add(x, y);
    case SUB: return f32x4.sub(x, y);
    case MUL: return f32x4.mul(x, y);
    case DIV: return f32x4.div(x, y);
    case MAXIMUM: return maximum4(x, y);
    case MINIMUM: return minimum4(x, y);
    case EQ: return v128.and(f32x4.eq(x, y), one);
    case NE: return v128.and(f32x4.ne(x, y), one);
    case GT: return v128.and(f32x4.gt(x, y), one);
    case GE: return v128.and(f32x4.ge(x, y), one);
    case LT: return v128.and(f32x4.lt(x, y), one);
    case LE: return v128.and(f32x4.le(x, y), one);
    case RELU_GRAD: return v128.andnot(y, f32x4.le(x, f32x4.splat(0)));
    default: return join32(squareGrad64(lo64(x), lo64(y)), squareGrad64(hi64(x), hi64(y))); // SQUARE_GRAD
  }
}

// One loop per op code (the switch is outside the loop), so each compiles to straight-line vector code. Two
// vectors per iteration: their dependency chains interleave (a transcendental is a long chain of float64 steps,
// and one vector at a time leaves the core waiting on it).
@inline function unaryLoop(op: i32, d: usize, a: usize, bytes: usize): void {
  for (let o: usize = 0; o < bytes; o += 32) {
    const x = unary(op, v128.load(a + o)), y = unary(op, v128.load(a + o, 16));
    v128.store(d + o, x);
    v128.store(d + o, y, 16);
  }
}
@inline function binaryLoop(op: i32, d: usize, a: usize, b: usize, bytes: usize): void {
  for (let o: usize = 0; o < bytes; o += 32) {
    const x = binary(op, v128.load(a + o), v128.load(b + o)), y = binary(op, v128.load(a + o, 16), v128.load(b + o, 16));
    v128.store(d + o, x);
    v128.store(d + o, y, 16);
  }
}
@inline function gradLoop(tanh: bool, d: usize, a: usize, b: usize, c: usize, bytes: usize): void {
  for (let o: usize = 0; o < bytes; o += 32) {
    const x = saturatingGrad4(tanh, v128.load(a + o), v128.load(b + o), v128.load(c + o));
    const y = saturatingGrad4(tanh, v128.load(a + o, 16), v128.load(b + o, 16), v128.load(c + o, 16));
    v128.store(d + o, x);
    v128.store(d + o, y, 16);
  }
}

/** Register r's byte address, from the table at `addr`. */
@inline function at(addr: usize, r: i32): usize { return <usize>load<i32>(addr + (<usize>r << 2)); }

/**
 * Runs `count` ops over the first `len` elements of every register (whole pairs of vectors: up to 7 lanes past
 * `len` compute values nobody reads, and checks ignore them). Register r lives at the byte address in the i32
 * table at `addr`. Each op is five i32 at `code`: op, destination, operands a, b, c. Returns 1 when a CHECK_NAN
 * op found a NaN, else 0.
 */
function runOps(code: usize, count: i32, addr: usize, len: i32): i32 {
  const bytes = ((<usize>len + 7) & ~7) * 4;
  let bad = 0;
  for (let k = 0; k < count; k++) {
    const rec = code + <usize>k * 20;
    const op = load<i32>(rec);
    const d = at(addr, load<i32>(rec, 4));
    const a = at(addr, load<i32>(rec, 8));
    const b = at(addr, load<i32>(rec, 12));
    const c = at(addr, load<i32>(rec, 16));
    switch (op) {
      case COPY: unaryLoop(COPY, d, a, bytes); break;
      case NEG: unaryLoop(NEG, d, a, bytes); break;
      case ABS: unaryLoop(ABS, d, a, bytes); break;
      case SQRT: unaryLoop(SQRT, d, a, bytes); break;
      case SQUARE: unaryLoop(SQUARE, d, a, bytes); break;
      case RELU: unaryLoop(RELU, d, a, bytes); break;
      case RECIPROCAL: unaryLoop(RECIPROCAL, d, a, bytes); break;
      case RSQRT: unaryLoop(RSQRT, d, a, bytes); break;
      case EXP: unaryLoop(EXP, d, a, bytes); break;
      case EXPM1: unaryLoop(EXPM1, d, a, bytes); break;
      case LOG: unaryLoop(LOG, d, a, bytes); break;
      case LOG1P: unaryLoop(LOG1P, d, a, bytes); break;
      case TANH: unaryLoop(TANH, d, a, bytes); break;
      case SIGMOID: unaryLoop(SIGMOID, d, a, bytes); break;
      case TO_BOOL: unaryLoop(TO_BOOL, d, a, bytes); break;
      case ADD: binaryLoop(ADD, d, a, b, bytes); break;
      case SUB: binaryLoop(SUB, d, a, b, bytes); break;
      case MUL: binaryLoop(MUL, d, a, b, bytes); break;
      case DIV: binaryLoop(DIV, d, a, b, bytes); break;
      case MAXIMUM: binaryLoop(MAXIMUM, d, a, b, bytes); break;
      case MINIMUM: binaryLoop(MINIMUM, d, a, b, bytes); break;
      case EQ: binaryLoop(EQ, d, a, b, bytes); break;
      case NE: binaryLoop(NE, d, a, b, bytes); break;
      case GT: binaryLoop(GT, d, a, b, bytes); break;
      case GE: binaryLoop(GE, d, a, b, bytes); break;
      case LT: binaryLoop(LT, d, a, b, bytes); break;
      case LE: binaryLoop(LE, d, a, b, bytes); break;
      case RELU_GRAD: binaryLoop(RELU_GRAD, d, a, b, bytes); break;
      case SQUARE_GRAD: binaryLoop(SQUARE_GRAD, d, a, b, bytes); break;
      case WHERE: {
        const zero = f32x4.splat(0);
        for (let o: usize = 0; o < bytes; o += 16) v128.store(d + o, v128.bitselect(v128.load(b + o), v128.load(c + o), f32x4.ne(v128.load(a + o), zero)));
        break;
      }
      case TANH_GRAD: gradLoop(true, d, a, b, c, bytes); break;
      case SIGMOID_GRAD: gradLoop(false, d, a, b, c, bytes); break;
      case CHECK_NAN: {
        // Whole vectors within len, then the last lanes one by one: the lanes past len hold leftovers.
        const full = (<usize>len & ~3) * 4;
        let any = i32x4.splat(0);
        for (let o: usize = 0; o < full; o += 16) {
          const v = v128.load(a + o);
          any = v128.or(any, f32x4.ne(v, v));
        }
        if (v128.any_true(any)) bad = 1;
        for (let o: usize = full; o < <usize>len * 4; o += 4) {
          const v = load<f32>(a + o);
          if (v != v) bad = 1;
        }
        break;
      }
      case SUM: {
        // Register d accumulates a's sum as asm/layout.ts's reduceRun does over the whole loop: two f64x2 running
        // sums (elements ≡ 0, 1 and ≡ 2, 3 mod 4) at d and d + 16 over the whole vectors, and the leftover
        // elements (the last tile's partial vector: every earlier tile is whole pairs of vectors) as float64 at
        // d + 40…, their count at d + 32, for the caller to add in order after combining the lanes.
        const whole = (<usize>len & ~3) * 4;
        let s0 = v128.load(d), s1 = v128.load(d, 16);
        for (let o: usize = 0; o < whole; o += 16) {
          const v = v128.load(a + o);
          s0 = f64x2.add(s0, f64x2.promote_low_f32x4(v));
          s1 = f64x2.add(s1, f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 2, 3)));
        }
        v128.store(d, s0);
        v128.store(d, s1, 16);
        for (let o: usize = whole; o < <usize>len * 4; o += 4) {
          const c = load<i32>(d, 32);
          store<f64>(d + 40 + (<usize>c << 3), <f64>load<f32>(a + o));
          store<i32>(d, c + 1, 32);
        }
        break;
      }
      default: unreachable();
    }
  }
  return bad;
}

/**
 * Runs the program over `len` elements, `tile` at a time (a multiple of 8). Most registers are fixed tiles
 * (their addresses are in the table at `addr`); the `nStreams` registers listed at `streams` as (register,
 * base address) pairs are the program's inputs and outputs, arrays of `len` elements (plus 32 bytes of
 * padding) that the tiles walk through: for tile t, register r is at base + t·4. So the caller copies each
 * input in and each output out once per call, not once per tile. Returns 1 when a CHECK_NAN op found a NaN.
 */
export function fusedF32(code: usize, count: i32, addr: usize, streams: usize, nStreams: i32, tile: i32, len: i32): i32 {
  let bad = 0;
  for (let t = 0; t < len; t += tile) {
    for (let s = 0; s < nStreams; s++) {
      const rec = streams + (<usize>s << 3);
      store<i32>(addr + (<usize>load<i32>(rec) << 2), load<i32>(rec, 4) + (t << 2));
    }
    bad |= runOps(code, count, addr, min(tile, len - t));
  }
  return bad;
}
