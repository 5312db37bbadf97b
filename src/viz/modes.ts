// Reverse vs forward mode on one scalar loss of n parameters: the full gradient costs n forward-mode
// sweeps (one jvp per parameter) but a single reverse-mode sweep (one vjp). Used by `chainrule modes`
// and by the chart on the step-through page; no Node built-ins, so it runs in browsers too.
import type { Tensor } from "../core/tensor.js";
import { grad, jvp } from "../autodiff/transforms.js";
import { add, linspace, mul, sin, square, sum, tanh, tensor } from "../ops/index.js";

/**
 * The benchmark loss, L(θ) = Σᵢ sin(θᵢ)·θᵢ + (Σᵢ tanh θᵢ)², whose gradient
 * ∂L/∂θᵢ = cos θᵢ·θᵢ + sin θᵢ + 2(Σⱼ tanh θⱼ)(1 − tanh² θᵢ) couples every parameter to every other.
 * @param theta shape [n], float64
 * @returns shape [], float64
 */
export function modesLoss(theta: Tensor): Tensor {
  return add(sum(mul(sin(theta), theta)), square(sum(tanh(theta))));
}

/** The point the gradient is taken at: n values evenly spaced in [-1, 1] (float64, shape [n]). */
export function modesPoint(n: number): Tensor {
  return linspace(-1, 1, n, "float64");
}

/** n = 1, 4, 16, … (powers of 4) up to and including `max`. @throws RangeError when max < 1 */
export function modesSizes(max: number): number[] {
  if (!(max >= 1)) throw new RangeError(`modes: --max must be at least 1, got ${max}`);
  const sizes: number[] = [];
  for (let n = 1; n <= max; n *= 4) sizes.push(n);
  return sizes;
}

/** One size's measurement: sweeps and milliseconds both ways, and how far the two gradients differ. */
export interface ModesRow {
  n: number;
  forwardSweeps: number;
  reverseSweeps: number;
  forwardMs: number;
  reverseMs: number;
  /** forwardMs / reverseMs. */
  ratio: number;
  /** max |forward − reverse| over the n gradient entries. */
  maxAbsDiff: number;
  /** maxAbsDiff ≤ 1e-9 · max(1, max |∂L/∂θᵢ|) (both are float64). */
  agree: boolean;
}

/**
 * One forward-mode sweep: ∂f/∂xᵢ by one jvp with tangent eᵢ (the page runs a few sweeps per task).
 * @param f a scalar function of x; x float64
 */
export function forwardSweep(f: (x: Tensor) => Tensor, x: Tensor, i: number): number {
  const e = new Float64Array(x.size);
  e[i] = 1;
  const [, t] = jvp(f, [x], [tensor(e, { shape: x.shape, dtype: "float64" })]);
  return t.item();
}

/** The full gradient by forward mode: one jvp sweep per parameter with tangent eᵢ. */
export function gradientByForward(f: (x: Tensor) => Tensor, x: Tensor): Float64Array {
  const n = x.size;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = forwardSweep(f, x, i);
  return out;
}

/** The full gradient by reverse mode: one vjp sweep. */
export function gradientByReverse(f: (x: Tensor) => Tensor, x: Tensor): Float64Array {
  return Float64Array.from(grad(f)(x).data);
}

const clock = (): number => (typeof performance !== "undefined" ? performance.now() : Date.now());

/** Options for `compareModes`. */
export interface CompareModesOptions {
  /** Measurements per size and mode, the fastest kept; default 3 up to n = 256 (where one run is quick and noisy), then 1. */
  repeats?: number | ((n: number) => number);
  /** Called after each size, e.g. to print progressively. */
  onRow?: (row: ModesRow) => void;
}

/** Options for `timePerRun`. */
export interface TimePerRunOptions {
  /** Measurements, the fastest kept (default 1). */
  repeats?: number;
  /** Each measurement repeats `f` until at least this many milliseconds have passed (default 10). */
  minMs?: number;
  /** The clock, in milliseconds (default performance.now). */
  now?: () => number;
}

/** One run that takes this long is measured once: JIT warm-up and clock resolution are lost in it. */
const LONG_RUN_MS = 200;

/**
 * Milliseconds per call of `f`, and its last result. One warm-up call first (the JIT compiles on first
 * use); then each measurement repeats `f` until `minMs` have passed and divides by the number of calls, so
 * times far below the clock's resolution (browsers round performance.now to 0.1 ms or coarser) are
 * measured rather than read as 0. A warm-up call that alone takes over 200 ms is taken as the measurement.
 */
export function timePerRun<T>(f: () => T, options: TimePerRunOptions = {}): [T, number] {
  const now = options.now ?? clock;
  const minMs = options.minMs ?? 10;
  const w0 = now();
  let out = f();
  const first = now() - w0;
  if (first >= LONG_RUN_MS) return [out, first];
  let best = Infinity;
  for (let r = 0; r < Math.max(1, options.repeats ?? 1); r++) {
    let calls = 0;
    const t0 = now();
    let elapsed = 0;
    do {
      out = f();
      calls++;
      elapsed = now() - t0;
    } while (elapsed < minMs);
    best = Math.min(best, elapsed / calls);
  }
  return [out, best];
}

/**
 * Computes the gradient of `modesLoss` at `modesPoint(n)` both ways for each n, timing each with
 * `timePerRun` (wall clock, a warm-up call, then repeated calls over ≥ 10 ms; a measurement, not a
 * benchmark) and checking that the two gradients agree.
 */
export function compareModes(sizes: readonly number[], options: CompareModesOptions = {}): ModesRow[] {
  const repeats = options.repeats ?? ((n: number) => (n <= 256 ? 3 : 1));
  gradientByForward(modesLoss, modesPoint(4)); // warm-up: first calls pay for JIT compilation
  gradientByReverse(modesLoss, modesPoint(4));
  return sizes.map((n) => {
    const x = modesPoint(n);
    const reps = typeof repeats === "number" ? repeats : repeats(n);
    const [fwd, forwardMs] = timePerRun(() => gradientByForward(modesLoss, x), { repeats: reps });
    const [rev, reverseMs] = timePerRun(() => gradientByReverse(modesLoss, x), { repeats: reps });
    let maxAbsDiff = 0, scale = 1;
    for (let i = 0; i < n; i++) {
      maxAbsDiff = Math.max(maxAbsDiff, Math.abs(fwd[i]! - rev[i]!));
      scale = Math.max(scale, Math.abs(rev[i]!));
    }
    const row: ModesRow = {
      n, forwardSweeps: n, reverseSweeps: 1, forwardMs, reverseMs,
      ratio: forwardMs / Math.max(reverseMs, 1e-6), maxAbsDiff, agree: maxAbsDiff <= 1e-9 * scale,
    };
    options.onRow?.(row);
    return row;
  });
}
