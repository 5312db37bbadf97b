// The workloads, their check values and tolerances, and independent float64 references.
import { CHAIN_X0, MLP, elementwiseInput, matmulInputs, mlpData } from "./data.js";

export type Kind = "seed" | "chain" | "matmul" | "matmulFb" | "mlp" | "elementwise" | "trainEpoch";

export interface Workload {
  readonly id: string;
  readonly kind: Kind;
  /** Problem size: chain length, matrix side, element count. */
  readonly size: number;
  readonly description: string;
  /** Floating-point operations per call, for GFLOP/s (matmul only). */
  readonly flops?: number;
  /** Names of the values each library reports for the cross-check. */
  readonly checks: readonly string[];
  /** |got − ref| ≤ atol + rtol·|ref| for every check value. */
  readonly rtol: number;
  readonly atol: number;
  /** Only chainrule runs it (the peers have no equivalent). */
  readonly chainruleOnly?: boolean;
  /** Scalar chains: peers that fail a shorter chain are not run on this one. */
  readonly shorter?: string;
}

const chain = (id: string, n: number, shorter?: string): Workload => ({
  id, kind: "chain", size: n,
  description: `scalar chain x ← tanh(x)·1.0001 + 0.001, ${n.toLocaleString("en")} steps (${(3 * n).toLocaleString("en")} ops), value and dx/dx0`,
  checks: ["x_n", "dx_n/dx_0"], rtol: 1e-3, atol: 1e-4, ...(shorter ? { shorter } : {}),
});
const matmul = (n: number): Workload => ({
  id: `matmul-${n}`, kind: "matmul", size: n, flops: 2 * n ** 3,
  description: `C = A@B forward, A and B ${n}×${n} float32`,
  checks: ["sum(C)", "C[0,0]", "C[n-1,n-1]", "C[n/2,n/3]"], rtol: 1e-4, atol: 0,
});

/** All workloads in run order. */
export const WORKLOADS: readonly Workload[] = [
  { id: "seed", kind: "seed", size: 1, description: "L = (a·b + c)² at a=3, b=2, c=1 and its three gradients, per call", checks: ["L", "dL/da", "dL/db", "dL/dc"], rtol: 1e-6, atol: 1e-6 },
  chain("chain-10k", 10_000),
  chain("chain-100k", 100_000, "chain-10k"),
  chain("chain-1m", 1_000_000, "chain-100k"),
  matmul(256),
  matmul(512),
  matmul(1024),
  {
    id: "matmul-fb-512", kind: "matmulFb", size: 512, description: "sum(A@B) and its gradients w.r.t. A and B, 512×512",
    checks: ["L", "sum(dA)", "sum(dB)", "dA[0,0]", "dB[n-1,n-1]"], rtol: 1e-4, atol: 0,
  },
  {
    id: "mlp-step", kind: "mlp", size: MLP.batch, description: "one SGD step (lr 0.1) of a 784-256-10 ReLU MLP, softmax cross-entropy, batch 128",
    checks: ["loss before", "loss after one step"], rtol: 1e-4, atol: 1e-5,
  },
  {
    id: "elementwise-1m", kind: "elementwise", size: 1_000_000, description: "sum(tanh(x)·sigmoid(x) + exp(−x²)) and its gradient, 1e6 elements",
    // Sums of a million float32 terms: the libraries accumulate in different orders and precisions.
    checks: ["f", "sum(df/dx)", "df/dx[0]", "df/dx[n-1]"], rtol: 1e-3, atol: 1e-5,
  },
  {
    id: "train-epoch", kind: "trainEpoch", size: 8000, description: "one epoch of `chainrule train mnist` (MLP, 8,000 digits, Adam, batch 128) and the test evaluation",
    checks: ["train loss", "test accuracy"], rtol: 0, atol: 0, chainruleOnly: true,
  },
];

// ---------- float64 references, independent of every library ----------

function chainRef(n: number): number[] {
  const c1 = Math.fround(1.0001), c2 = Math.fround(0.001);
  let x = CHAIN_X0, d = 1;
  for (let i = 0; i < n; i++) {
    const t = Math.tanh(x);
    d *= (1 - t * t) * c1;
    x = t * c1 + c2;
  }
  return [x, d];
}

function matmulRef(n: number): number[] {
  const { a, b } = matmulInputs(n);
  const colA = new Float64Array(n), rowB = new Float64Array(n);
  for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) colA[k] += a[i * n + k]!;
  for (let k = 0; k < n; k++) for (let j = 0; j < n; j++) rowB[k] += b[k * n + j]!;
  let total = 0;
  for (let k = 0; k < n; k++) total += colA[k]! * rowB[k]!;
  const entry = (i: number, j: number): number => {
    let s = 0;
    for (let k = 0; k < n; k++) s += a[i * n + k]! * b[k * n + j]!;
    return s;
  };
  return [total, entry(0, 0), entry(n - 1, n - 1), entry(n >> 1, Math.floor(n / 3))];
}

function matmulFbRef(n: number): number[] {
  // L = Σ(A@B); dL/dA[i,k] = Σ_j B[k,j]; dL/dB[k,j] = Σ_i A[i,k].
  const { a, b } = matmulInputs(n);
  const colA = new Float64Array(n), rowB = new Float64Array(n);
  for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) colA[k] += a[i * n + k]!;
  for (let k = 0; k < n; k++) for (let j = 0; j < n; j++) rowB[k] += b[k * n + j]!;
  let total = 0, sa = 0, sb = 0;
  for (let k = 0; k < n; k++) {
    total += colA[k]! * rowB[k]!;
    sa += n * rowB[k]!;
    sb += n * colA[k]!;
  }
  return [total, sa, sb, rowB[0]!, colA[n - 1]!];
}

function elementwiseRef(n: number): number[] {
  const x = elementwiseInput(n);
  let f = 0, gs = 0;
  const g = (v: number): number => {
    const t = Math.tanh(v), s = 1 / (1 + Math.exp(-v)), e = Math.exp(-v * v);
    f += t * s + e;
    return (1 - t * t) * s + t * s * (1 - s) - 2 * v * e;
  };
  let first = 0, last = 0;
  for (let i = 0; i < n; i++) {
    const gi = g(x[i]!);
    gs += gi;
    if (i === 0) first = gi;
    if (i === n - 1) last = gi;
  }
  return [f, gs, first, last];
}

/** Float64 MLP: loss, then one SGD step, then the loss again. */
function mlpRef(): number[] {
  const { batch: B, input: I, hidden: H, classes: C, lr } = MLP;
  const d = mlpData();
  const w1 = Float64Array.from(d.w1), b1 = Float64Array.from(d.b1), w2 = Float64Array.from(d.w2), b2 = Float64Array.from(d.b2);
  const forward = () => {
    const h = new Float64Array(B * H);
    for (let r = 0; r < B; r++) {
      for (let j = 0; j < H; j++) h[r * H + j] = b1[j]!;
      for (let k = 0; k < I; k++) {
        const xv = d.x[r * I + k]!;
        if (xv === 0) continue;
        for (let j = 0; j < H; j++) h[r * H + j] += xv * w1[k * H + j]!;
      }
    }
    const pre = h.slice();
    for (let i = 0; i < h.length; i++) if (h[i]! < 0) h[i] = 0;
    const p = new Float64Array(B * C);
    let loss = 0;
    for (let r = 0; r < B; r++) {
      let mx = -Infinity;
      for (let c = 0; c < C; c++) {
        let s = b2[c]!;
        for (let j = 0; j < H; j++) s += h[r * H + j]! * w2[j * C + c]!;
        p[r * C + c] = s;
        mx = Math.max(mx, s);
      }
      let z = 0;
      for (let c = 0; c < C; c++) z += Math.exp(p[r * C + c]! - mx);
      loss += mx + Math.log(z) - p[r * C + d.labels[r]!]!;
      for (let c = 0; c < C; c++) p[r * C + c] = Math.exp(p[r * C + c]! - mx) / z; // softmax
    }
    return { h, pre, p, loss: loss / B };
  };
  const { h, pre, p, loss } = forward();
  const dl = new Float64Array(B * C);
  for (let r = 0; r < B; r++) for (let c = 0; c < C; c++) dl[r * C + c] = (p[r * C + c]! - (c === d.labels[r] ? 1 : 0)) / B;
  const gw2 = new Float64Array(H * C), gb2 = new Float64Array(C), dh = new Float64Array(B * H);
  for (let r = 0; r < B; r++) {
    for (let c = 0; c < C; c++) {
      const g = dl[r * C + c]!;
      gb2[c] += g;
      for (let j = 0; j < H; j++) {
        gw2[j * C + c] += h[r * H + j]! * g;
        dh[r * H + j] += g * w2[j * C + c]!;
      }
    }
  }
  for (let i = 0; i < dh.length; i++) if (pre[i]! <= 0) dh[i] = 0;
  const gw1 = new Float64Array(I * H), gb1 = new Float64Array(H);
  for (let r = 0; r < B; r++) {
    for (let j = 0; j < H; j++) gb1[j] += dh[r * H + j]!;
    for (let k = 0; k < I; k++) {
      const xv = d.x[r * I + k]!;
      for (let j = 0; j < H; j++) gw1[k * H + j] += xv * dh[r * H + j]!;
    }
  }
  const step = (w: Float64Array, g: Float64Array) => { for (let i = 0; i < w.length; i++) w[i] -= lr * g[i]!; };
  step(w1, gw1); step(b1, gb1); step(w2, gw2); step(b2, gb2);
  return [loss, forward().loss];
}

/** The float64 reference check values of a workload, or null where there is none (train-epoch). */
export function reference(w: Workload): number[] | null {
  switch (w.kind) {
    case "seed": return [49, 28, 42, 14];
    case "chain": return chainRef(w.size);
    case "matmul": return matmulRef(w.size);
    case "matmulFb": return matmulFbRef(w.size);
    case "mlp": return mlpRef();
    case "elementwise": return elementwiseRef(w.size);
    case "trainEpoch": return null;
  }
}

/** True when every value is within the workload's tolerance of the reference. */
export function agrees(w: Workload, got: readonly number[], ref: readonly number[]): boolean {
  if (got.length !== ref.length) return false;
  return got.every((g, i) => Number.isFinite(g) && Math.abs(g - ref[i]!) <= w.atol + w.rtol * Math.abs(ref[i]!));
}
