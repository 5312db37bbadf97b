// Optimizer updates of src/kernels/optim.ts for float32 parameters, in float64 with the js kernels' operation
// order and rounded once into float32, so the results are bit-identical to theirs. In place; ⌈n/4⌉ vector steps
// (the glue pads regions to 16 bytes).
import { lo64, hi64, join32 } from "./vmath";

/**
 * Adam / AdamW on float32 p, g, m, v (n elements each), as the js kernel: g' = g + l2·p,
 * m ← β₁m + (1−β₁)g', v ← β₂v + ((1−β₂)g')g', p ← p·shrink − (step·m)/(√v / bc2 + ε). The scalars (step, bc2,
 * shrink, l2, 1−β₁, 1−β₂) are computed by the caller as the js kernel computes them.
 */
export function adamF32(p: usize, g: usize, m: usize, v: usize, n: i32, step: f64, bc2: f64, shrink: f64, l2: f64, beta1: f64, oneMinusBeta1: f64, beta2: f64, oneMinusBeta2: f64, eps: f64): void {
  const ks = f64x2.splat(shrink), kl2 = f64x2.splat(l2), b1 = f64x2.splat(beta1), c1 = f64x2.splat(oneMinusBeta1);
  const b2 = f64x2.splat(beta2), c2 = f64x2.splat(oneMinusBeta2), kstep = f64x2.splat(step), kbc2 = f64x2.splat(bc2), keps = f64x2.splat(eps);
  const bytes = ((<usize>n + 3) & ~3) * 4;
  for (let o: usize = 0; o < bytes; o += 16) {
    const pv = v128.load(p + o), gv = v128.load(g + o), mv = v128.load(m + o), vv = v128.load(v + o);
    // Lanes 0, 1.
    let pf = lo64(pv);
    let gi = f64x2.add(lo64(gv), f64x2.mul(kl2, pf));
    const m0 = f64x2.add(f64x2.mul(b1, lo64(mv)), f64x2.mul(c1, gi));
    const v0 = f64x2.add(f64x2.mul(b2, lo64(vv)), f64x2.mul(f64x2.mul(c2, gi), gi));
    const p0 = f64x2.sub(f64x2.mul(pf, ks), f64x2.div(f64x2.mul(kstep, m0), f64x2.add(f64x2.div(f64x2.sqrt(v0), kbc2), keps)));
    // Lanes 2, 3.
    pf = hi64(pv);
    gi = f64x2.add(hi64(gv), f64x2.mul(kl2, pf));
    const m1 = f64x2.add(f64x2.mul(b1, hi64(mv)), f64x2.mul(c1, gi));
    const v1 = f64x2.add(f64x2.mul(b2, hi64(vv)), f64x2.mul(f64x2.mul(c2, gi), gi));
    const p1 = f64x2.sub(f64x2.mul(pf, ks), f64x2.div(f64x2.mul(kstep, m1), f64x2.add(f64x2.div(f64x2.sqrt(v1), kbc2), keps)));
    v128.store(p + o, join32(p0, p1));
    v128.store(m + o, join32(m0, m1));
    v128.store(v + o, join32(v0, v1));
  }
}
