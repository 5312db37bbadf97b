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

/** The scalar chain's step, x ← tanh(x)·1.0001 + 0.001, starting from this value. */
export const CHAIN_X0 = 0.5;
