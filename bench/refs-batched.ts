// Float64 references of the batched workloads (per-example gradients, Jacobian), independent of every library.
import { MLP, jacobianInputs, mlpData } from "./data.js";

/**
 * Per-example gradients of the MLP's loss (softmax cross-entropy of one example): Σᵢ‖gᵢ‖², ‖g₀‖²,
 * ‖g_last‖², where gᵢ holds all four parameter gradients of example i. For one example the weight
 * gradients are outer products, so ‖x ⊗ δ‖² = ‖x‖²·‖δ‖².
 */
export function perExampleRef(): number[] {
  const { batch: B, input: I, hidden: H, classes: C } = MLP;
  const d = mlpData();
  const norms: number[] = [];
  for (let r = 0; r < B; r++) {
    const x = d.x.subarray(r * I, (r + 1) * I);
    const pre = new Float64Array(H);
    for (let j = 0; j < H; j++) pre[j] = d.b1[j]!;
    for (let k = 0; k < I; k++) for (let j = 0; j < H; j++) pre[j] += x[k]! * d.w1[k * H + j]!;
    const h = pre.map((v) => (v > 0 ? v : 0));
    const logits = new Float64Array(C);
    for (let c = 0; c < C; c++) {
      let s = d.b2[c]!;
      for (let j = 0; j < H; j++) s += h[j]! * d.w2[j * C + c]!;
      logits[c] = s;
    }
    const mx = Math.max(...logits);
    const z = logits.reduce((s, v) => s + Math.exp(v - mx), 0);
    const dl = logits.map((v, c) => Math.exp(v - mx) / z - (c === d.labels[r] ? 1 : 0));
    const dh = new Float64Array(H);
    for (let j = 0; j < H; j++) {
      if (pre[j]! <= 0) continue;
      for (let c = 0; c < C; c++) dh[j] += dl[c]! * d.w2[j * C + c]!;
    }
    const sq = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v * v, 0);
    const xx = sq(x), hh = sq(h), dd = sq(dl), hd = sq(dh);
    norms.push(xx * hd + hd + hh * dd + dd); // ‖dW1‖² + ‖db1‖² + ‖dW2‖² + ‖db2‖²
  }
  return [norms.reduce((s, v) => s + v, 0), norms[0]!, norms[B - 1]!];
}

/** Jacobian of y = tanh(W·x + b): J = diag(1 − y²)·W. Returns sum(J), J[0,0], J[n−1,n−1], trace(J). */
export function jacobianRef(n: number): number[] {
  const { w, x, b } = jacobianInputs(n);
  let total = 0, trace = 0;
  const scale = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i]!;
    for (let j = 0; j < n; j++) s += w[i * n + j]! * x[j]!;
    const y = Math.tanh(s);
    scale[i] = 1 - y * y;
    for (let j = 0; j < n; j++) total += scale[i]! * w[i * n + j]!;
    trace += scale[i]! * w[i * n + i]!;
  }
  return [total, scale[0]! * w[0]!, scale[n - 1]! * w[(n - 1) * n + n - 1]!, trace];
}
