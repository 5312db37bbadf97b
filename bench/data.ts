// Deterministic inputs shared by every library, so that all of them compute the same answer.
// Each child process regenerates the same arrays from the same seeds (no data crosses processes).

/** A small, fast 32-bit PRNG (mulberry32); good enough for benchmark inputs, not for statistics. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` float32 values uniform in [lo, hi). */
export function uniformArray(n: number, seed: number, lo = 0, hi = 1): Float32Array {
  const r = prng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * r();
  return out;
}

/** Inputs of the matmul workloads: A [n,n] and B [n,n], uniform in [0,1) so checksums cannot cancel. */
export function matmulInputs(n: number): { a: Float32Array; b: Float32Array } {
  return { a: uniformArray(n * n, 1000 + n), b: uniformArray(n * n, 2000 + n) };
}

/** Input of elementwise-1m: x uniform in [-2, 2). */
export function elementwiseInput(n: number): Float32Array {
  return uniformArray(n, 77, -2, 2);
}

/** Sizes of the MLP workload (784-256-10, batch 128) and its learning rate. */
export const MLP = { batch: 128, input: 784, hidden: 256, classes: 10, lr: 0.1 } as const;

/** The MLP's data and initial parameters (PyTorch's default Linear init range ±1/√fanIn). */
export interface MlpData {
  x: Float32Array; // [batch, input], pixel-like values in [0,1)
  labels: Int32Array; // [batch]
  onehot: Float32Array; // [batch, classes]
  w1: Float32Array; // [input, hidden]
  b1: Float32Array; // [hidden]
  w2: Float32Array; // [hidden, classes]
  b2: Float32Array; // [classes]
}

export function mlpData(): MlpData {
  const { batch, input, hidden, classes } = MLP;
  const labels = new Int32Array(batch);
  const onehot = new Float32Array(batch * classes);
  const r = prng(5);
  for (let i = 0; i < batch; i++) {
    labels[i] = Math.floor(r() * classes);
    onehot[i * classes + labels[i]!] = 1;
  }
  const s1 = 1 / Math.sqrt(input), s2 = 1 / Math.sqrt(hidden);
  return {
    x: uniformArray(batch * input, 11),
    labels,
    onehot,
    w1: uniformArray(input * hidden, 12, -s1, s1),
    b1: uniformArray(hidden, 13, -s1, s1),
    w2: uniformArray(hidden * classes, 14, -s2, s2),
    b2: uniformArray(classes, 15, -s2, s2),
  };
}

/** Inputs of the Jacobian workload: a tanh layer W [n, n] (±1/√n), b [n], and the point x [n] in [0, 1). */
export function jacobianInputs(n: number): { w: Float32Array; b: Float32Array; x: Float32Array } {
  const s = 1 / Math.sqrt(n);
  return { w: uniformArray(n * n, 21, -s, s), b: uniformArray(n, 22, -s, s), x: uniformArray(n, 23) };
}

/** The scalar chain's step, x ← tanh(x)·1.0001 + 0.001, starting from this value. */
export const CHAIN_X0 = 0.5;

/**
 * The CNN of `chainrule train mnist --model cnn` (src/nn/models.ts), without its dropout, and one Adam
 * step's settings (PyTorch's defaults apart from lr). Layer by layer:
 * normalize (x − 0.1307) / 0.3081 → conv 5×5, 1→16, no padding (28→24) → ReLU → max-pool 2×2 (→12)
 * → conv 5×5, 16→32, no padding (→8) → ReLU → max-pool 2×2 (→4) → flatten NCHW (32·4·4 = 512) → linear 512→10.
 */
export const CNN = {
  batch: 128, side: 28, c1: 16, c2: 32, k: 5, classes: 10, flat: 32 * 4 * 4,
  mean: 0.1307, std: 0.3081,
  lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8,
} as const;

/**
 * The CNN's batch and initial parameters, in chainrule's layouts: conv weights [out, in, kh, kw] (as
 * PyTorch), the linear weight [in, out] (PyTorch stores its transpose). Initialised as PyTorch's defaults
 * for Conv2d and Linear (weights and biases uniform in ±1/√fanIn), as `mlpData` does.
 */
export interface CnnData {
  x: Float32Array; // [batch, 1, 28, 28], pixel-like values in [0,1)
  labels: Int32Array; // [batch]
  onehot: Float32Array; // [batch, classes]
  w1: Float32Array; // [16, 1, 5, 5]
  b1: Float32Array; // [16]
  w2: Float32Array; // [32, 16, 5, 5]
  b2: Float32Array; // [32]
  w3: Float32Array; // [512, 10]
  b3: Float32Array; // [10]
}

export function cnnData(): CnnData {
  const { batch, side, c1, c2, k, classes, flat } = CNN;
  const labels = new Int32Array(batch);
  const onehot = new Float32Array(batch * classes);
  const r = prng(21);
  for (let i = 0; i < batch; i++) {
    labels[i] = Math.floor(r() * classes);
    onehot[i * classes + labels[i]!] = 1;
  }
  const s1 = 1 / Math.sqrt(k * k), s2 = 1 / Math.sqrt(c1 * k * k), s3 = 1 / Math.sqrt(flat);
  return {
    x: uniformArray(batch * side * side, 22),
    labels,
    onehot,
    w1: uniformArray(c1 * k * k, 23, -s1, s1),
    b1: uniformArray(c1, 24, -s1, s1),
    w2: uniformArray(c2 * c1 * k * k, 25, -s2, s2),
    b2: uniformArray(c2, 26, -s2, s2),
    w3: uniformArray(flat * classes, 27, -s3, s3),
    b3: uniformArray(classes, 28, -s3, s3),
  };
}

/**
 * w3 in PyTorch's [out, in] = [10, 512] layout, the layout of chainrule's Linear weight (and of its
 * checkpoints) since it follows PyTorch; the other libraries take w3 as [512, 10] and multiply x·w3.
 */
export function w3OutIn(d: CnnData): Float32Array {
  const { classes, flat } = CNN;
  const t = new Float32Array(flat * classes);
  for (let f = 0; f < flat; f++) for (let c = 0; c < classes; c++) t[c * flat + f] = d.w3[f * classes + c]!;
  return t;
}
