// Softmax cross-entropy per row (src/kernels/losses.ts) for float32 logits and targets: the row maximum and
// the target-weighted sum as the js kernel defines them, exp and log from vmath in float64, result rounded once.
import { exp64, log64, lo64, hi64 } from "./vmath";

/** Row maximum with NaN propagation, as the js kernel: v replaces m when v > m or v is NaN. */
@inline function rowMax(x: usize, classes: i32): f32 {
  let mv = f32x4.splat(-Infinity);
  let c = 0;
  for (; c + 4 <= classes; c += 4) {
    const v = v128.load(x + <usize>c * 4);
    mv = v128.bitselect(v, mv, v128.or(f32x4.gt(v, mv), f32x4.ne(v, v)));
  }
  let m: f32 = -Infinity;
  for (let l = 0; l < 4; l++) {
    const v = f32x4.extract_lane(mv, 0);
    if (v > m || v != v) m = v;
    mv = i32x4.shuffle(mv, mv, 1, 2, 3, 0);
  }
  for (; c < classes; c++) {
    const v = load<f32>(x + <usize>c * 4);
    if (v > m || v != v) m = v;
  }
  return m;
}

/**
 * out[r] = Σ_c t[r,c]·(lse_r − x[r,c]) with lse_r = m + log Σ_c e^{x[r,c] − m}, m the row maximum (0 when it is
 * ±Infinity); classes whose target is 0 are skipped. A row whose maximum m is not finite has lse = m, as in the
 * js kernel: NaN for a NaN; +Infinity for a +Infinity (the shift is 0 and Σ e^x = ∞); −Infinity when every
 * logit is −Infinity (Σ e^x = 0).
 */
export function softmaxXentF32(x: usize, t: usize, rows: i32, classes: i32, out: usize): void {
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>r * <usize>classes * 4, tr = t + <usize>r * <usize>classes * 4;
    const mf = rowMax(xr, classes);
    let lse: f64;
    if (isFinite(mf)) {
      const m = f64x2.splat(<f64>mf), lo = f64x2.splat(-700);
      let s0 = f64x2.splat(0), s1 = f64x2.splat(0);
      let c = 0;
      for (; c + 4 <= classes; c += 4) {
        const v = v128.load(xr + <usize>c * 4);
        // x − m ≤ 0; −Infinity (a class ruled out) is clamped to −700, whose e^{−700} cannot change a sum ≥ 1.
        s0 = f64x2.add(s0, exp64(f64x2.pmax(f64x2.sub(lo64(v), m), lo)));
        s1 = f64x2.add(s1, exp64(f64x2.pmax(f64x2.sub(hi64(v), m), lo)));
      }
      const sv = f64x2.add(s0, s1);
      let s = f64x2.extract_lane(sv, 0) + f64x2.extract_lane(sv, 1);
      for (; c < classes; c++) {
        const d = <f64>load<f32>(xr + <usize>c * 4) - <f64>mf;
        s += f64x2.extract_lane(exp64(f64x2.pmax(f64x2.splat(d), lo)), 0);
      }
      lse = <f64>mf + f64x2.extract_lane(log64(f64x2.splat(s)), 0);
    } else {
      lse = <f64>mf;
    }
    let loss: f64 = 0;
    for (let c = 0; c < classes; c++) {
      const tc = <f64>load<f32>(tr + <usize>c * 4);
      if (tc != 0) loss += tc * (lse - <f64>load<f32>(xr + <usize>c * 4));
    }
    store<f32>(out + <usize>r * 4, <f32>loss);
  }
}
