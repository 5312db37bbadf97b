// The workloads, their check values and tolerances, and independent float64 references.
import { CHAIN_X0, CNN, MLP, cnnData, elementwiseInput, matmulInputs, mlpData } from "./data.js";
import { jacobianRef, perExampleRef } from "./refs-batched.js";

export type Kind = "seed" | "chain" | "matmul" | "matmulFb" | "mlp" | "cnn" | "elementwise" | "trainEpoch" | "perExample" | "perExampleLoop" | "jacobian";

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
  /**
   * chainrule runs it under `jit` (its row sits next to the eager one of the same id without "-jit"); of the
   * peers only jax-jit, which runs every workload under its own jit, takes part.
   */
  readonly staged?: "later" | "first";
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
  {
    ...chain("chain-10k-jit", 10_000), staged: "later", chainruleOnly: true,
    description: "chain-10k under jit(valueAndGrad(f)), later calls: the compiled program (traced and compiled in the warm-up)",
  },
  {
    ...chain("chain-10k-jit-first", 10_000), staged: "first", chainruleOnly: true,
    description: "chain-10k under jit: the first call of a new jit(valueAndGrad(f)), tracing and compiling included",
  },
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
    id: "mlp-step-jit", kind: "mlp", size: MLP.batch, staged: "later",
    description: "mlp-step with the whole step (loss, gradient, SGD update) under jit: chainrule's jit against jax-js's jit",
    checks: ["loss before", "loss after one step"], rtol: 1e-4, atol: 1e-5,
  },
  {
    id: "cnn-step", kind: "cnn", size: CNN.batch,
    description: "one Adam step (lr 1e-3, betas 0.9/0.999, eps 1e-8) of the CLI's MNIST CNN (normalize → conv 5×5×16 → ReLU → max-pool 2 → " +
      "conv 5×5×32 → ReLU → max-pool 2 → linear 512→10; its dropout left out, so the step is deterministic), softmax cross-entropy, batch 128 of 1×28×28",
    checks: ["loss before", "loss after one step"], rtol: 1e-4, atol: 1e-5,
  },
  {
    id: "elementwise-1m", kind: "elementwise", size: 1_000_000, description: "sum(tanh(x)·sigmoid(x) + exp(−x²)) and its gradient, 1e6 elements",
    // Sums of a million float32 terms: the libraries accumulate in different orders and precisions.
    checks: ["f", "sum(df/dx)", "df/dx[0]", "df/dx[n-1]"], rtol: 1e-3, atol: 1e-5,
  },
  {
    id: "elementwise-1m-jit", kind: "elementwise", size: 1_000_000, staged: "later",
    description: "elementwise-1m under jit(valueAndGrad(f)): forward and backward fused into one loop",
    checks: ["f", "sum(df/dx)", "df/dx[0]", "df/dx[n-1]"], rtol: 1e-3, atol: 1e-5,
  },
  {
    id: "per-example-grads", kind: "perExample", size: MLP.batch,
    description: "per-example gradients of the 784-256-10 ReLU MLP (softmax cross-entropy), batch 128, by vmap(grad(loss)): one batched pass",
    checks: ["Σ‖g_i‖²", "‖g_0‖²", "‖g_127‖²"], rtol: 1e-4, atol: 1e-6,
  },
  {
    id: "per-example-grads-loop", kind: "perExampleLoop", size: MLP.batch,
    description: "the same per-example gradients by a loop of 128 grad calls (what vmap replaces)",
    checks: ["Σ‖g_i‖²", "‖g_0‖²", "‖g_127‖²"], rtol: 1e-4, atol: 1e-6, chainruleOnly: true,
  },
  {
    id: "jacobian-256", kind: "jacobian", size: 256, description: "jacrev of a 256→256 tanh layer, y = tanh(W·x + b): the full 256×256 Jacobian",
    checks: ["sum(J)", "J[0,0]", "J[n-1,n-1]", "trace(J)"], rtol: 1e-4, atol: 1e-6,
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

// The CNN reference, layer by layer. Images are square; "valid" convolutions (no padding), stride 1.

/** The patches of image b of x [B,C,H,H] for a K×K kernel: [C·K·K, S·S] with S = H−K+1 (im2col). */
function patchesF64(x: Float64Array, b: number, C: number, H: number, K: number): Float64Array {
  const S = H - K + 1;
  const cols = new Float64Array(C * K * K * S * S);
  for (let c = 0; c < C; c++) {
    for (let i = 0; i < K; i++) {
      for (let j = 0; j < K; j++) {
        const row = ((c * K + i) * K + j) * S * S;
        for (let r = 0; r < S; r++) {
          for (let q = 0; q < S; q++) cols[row + r * S + q] = x[((b * C + c) * H + r + i) * H + q + j]!;
        }
      }
    }
  }
  return cols;
}

/** y[b,o,r,q] = bias[o] + Σ_c,i,j w[o,c,i,j]·x[b,c,r+i,q+j]: x [B,C,H,H], w [O,C,K,K] → y [B,O,S,S], S = H−K+1. */
function conv2dF64(x: Float64Array, B: number, C: number, H: number, w: Float64Array, bias: Float64Array, O: number, K: number): Float64Array {
  const S = H - K + 1, P = S * S, R = C * K * K;
  const y = new Float64Array(B * O * P);
  for (let b = 0; b < B; b++) {
    const cols = patchesF64(x, b, C, H, K);
    for (let o = 0; o < O; o++) {
      const yo = (b * O + o) * P;
      y.fill(bias[o]!, yo, yo + P);
      for (let k = 0; k < R; k++) {
        const wv = w[o * R + k]!;
        for (let p = 0; p < P; p++) y[yo + p] += wv * cols[k * P + p]!;
      }
    }
  }
  return y;
}

/** The conv's gradients from dy [B,O,S,S]: dw and dbias, and dx when asked for (the first conv's input needs none). */
function conv2dBackF64(x: Float64Array, B: number, C: number, H: number, w: Float64Array, O: number, K: number, dy: Float64Array, wantDx: boolean) {
  const S = H - K + 1, P = S * S, R = C * K * K;
  const dw = new Float64Array(w.length), db = new Float64Array(O);
  const dx = wantDx ? new Float64Array(B * C * H * H) : null;
  for (let b = 0; b < B; b++) {
    const cols = patchesF64(x, b, C, H, K);
    const dcols = new Float64Array(R * P);
    for (let o = 0; o < O; o++) {
      const yo = (b * O + o) * P;
      for (let p = 0; p < P; p++) db[o] += dy[yo + p]!;
      for (let k = 0; k < R; k++) {
        let s = 0;
        for (let p = 0; p < P; p++) s += dy[yo + p]! * cols[k * P + p]!;
        dw[o * R + k] += s;
        if (dx) {
          const wv = w[o * R + k]!;
          for (let p = 0; p < P; p++) dcols[k * P + p] += wv * dy[yo + p]!;
        }
      }
    }
    if (!dx) continue;
    // col2im: each patch entry adds back into the pixel it was read from.
    for (let c = 0; c < C; c++) {
      for (let i = 0; i < K; i++) {
        for (let j = 0; j < K; j++) {
          const row = ((c * K + i) * K + j) * P;
          for (let r = 0; r < S; r++) {
            for (let q = 0; q < S; q++) dx[((b * C + c) * H + r + i) * H + q + j] += dcols[row + r * S + q]!;
          }
        }
      }
    }
  }
  return { dw, db, dx };
}

/** 2×2 max-pool, stride 2, over [B·C] planes of H×H; `arg` holds the input index of each maximum (the first one). */
function maxPoolF64(x: Float64Array, planes: number, H: number): { y: Float64Array; arg: Int32Array } {
  const S = H / 2;
  const y = new Float64Array(planes * S * S), arg = new Int32Array(y.length);
  for (let p = 0; p < planes; p++) {
    for (let r = 0; r < S; r++) {
      for (let q = 0; q < S; q++) {
        let best = -Infinity, at = -1;
        for (const [i, j] of [[0, 0], [0, 1], [1, 0], [1, 1]] as const) {
          const k = p * H * H + (2 * r + i) * H + 2 * q + j;
          if (x[k]! > best) { best = x[k]!; at = k; }
        }
        y[p * S * S + r * S + q] = best;
        arg[p * S * S + r * S + q] = at;
      }
    }
  }
  return { y, arg };
}

const reluF64 = (x: Float64Array): Float64Array => x.map((v) => (v > 0 ? v : 0));

/** Float64 CNN of the cnn-step workload: loss, then one Adam step (step 1, from zero moments), then the loss again. */
function cnnRef(): number[] {
  const { batch: B, side: H, c1: C1, c2: C2, k: K, classes: NC, flat: F, mean, std, lr, beta1, beta2, eps } = CNN;
  const d = cnnData();
  const xn = Float64Array.from(d.x, (v) => (v - mean) / std);
  const p = [d.w1, d.b1, d.w2, d.b2, d.w3, d.b3].map((a) => Float64Array.from(a));
  const H1 = H - K + 1, P1 = H1 / 2, H2 = P1 - K + 1, P2 = H2 / 2; // 24, 12, 8, 4
  const forward = () => {
    const [w1, b1, w2, b2, w3, b3] = p as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
    const a1 = conv2dF64(xn, B, 1, H, w1, b1, C1, K);
    const pool1 = maxPoolF64(reluF64(a1), B * C1, H1);
    const a2 = conv2dF64(pool1.y, B, C1, P1, w2, b2, C2, K);
    const pool2 = maxPoolF64(reluF64(a2), B * C2, H2); // [B, 32, 4, 4] = flat [B, 512] in NCHW order
    const probs = new Float64Array(B * NC);
    let loss = 0;
    for (let b = 0; b < B; b++) {
      const z = new Float64Array(NC);
      for (let c = 0; c < NC; c++) {
        let s = b3[c]!;
        for (let f = 0; f < F; f++) s += pool2.y[b * F + f]! * w3[f * NC + c]!;
        z[c] = s;
      }
      const mx = Math.max(...z);
      let sum = 0;
      for (let c = 0; c < NC; c++) sum += Math.exp(z[c]! - mx);
      loss += mx + Math.log(sum) - z[d.labels[b]!]!;
      for (let c = 0; c < NC; c++) probs[b * NC + c] = Math.exp(z[c]! - mx) / sum;
    }
    return { a1, pool1, a2, pool2, probs, loss: loss / B };
  };
  const { a1, pool1, a2, pool2, probs, loss } = forward();
  const [w1, , w2, , w3] = p as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
  // Linear layer.
  const dz = probs.map((v, i) => (v - d.onehot[i]!) / B);
  const gw3 = new Float64Array(F * NC), gb3 = new Float64Array(NC), dflat = new Float64Array(B * F);
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < NC; c++) {
      const g = dz[b * NC + c]!;
      gb3[c] += g;
      for (let f = 0; f < F; f++) {
        gw3[f * NC + c] += pool2.y[b * F + f]! * g;
        dflat[b * F + f] += g * w3[f * NC + c]!;
      }
    }
  }
  // Pool 2 routes each gradient to its maximum; ReLU passes it where the input was positive.
  const da2 = new Float64Array(a2.length);
  pool2.arg.forEach((at, i) => { if (a2[at]! > 0) da2[at] += dflat[i]!; });
  const conv2 = conv2dBackF64(pool1.y, B, C1, P1, w2, C2, K, da2, true);
  const da1 = new Float64Array(a1.length);
  pool1.arg.forEach((at, i) => { if (a1[at]! > 0) da1[at] += conv2.dx![i]!; });
  const conv1 = conv2dBackF64(xn, B, 1, H, w1, C1, K, da1, false);
  const grads = [conv1.dw, conv1.db, conv2.dw, conv2.db, gw3, gb3];
  // Adam, step 1 from zero moments: m = (1−β1)g, v = (1−β2)g², bias-corrected by 1−β1 and 1−β2 (PyTorch's form).
  p.forEach((w, n) => {
    const g = grads[n]!;
    for (let i = 0; i < w.length; i++) {
      const m = (1 - beta1) * g[i]!, v = (1 - beta2) * g[i]! * g[i]!;
      w[i] -= (lr * (m / (1 - beta1))) / (Math.sqrt(v / (1 - beta2)) + eps);
    }
  });
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
    case "cnn": return cnnRef();
    case "elementwise": return elementwiseRef(w.size);
    case "trainEpoch": return null;
    case "perExample":
    case "perExampleLoop": return perExampleRef();
    case "jacobian": return jacobianRef(w.size);
  }
}

/** True when every value is within the workload's tolerance of the reference. */
export function agrees(w: Workload, got: readonly number[], ref: readonly number[]): boolean {
  if (got.length !== ref.length) return false;
  return got.every((g, i) => Number.isFinite(g) && Math.abs(g - ref[i]!) <= w.atol + w.rtol * Math.abs(ref[i]!));
}
