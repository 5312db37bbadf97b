import type { TypedArray } from "../core/dtype.js";
import type { Shape } from "../core/shape.js";
import type { BinaryKernel, binaryKernels } from "./binary.js";
import type { UnaryKernel, unaryKernels } from "./unary.js";
import type { specialKernels } from "./special.js";
import type { mathKernels } from "./math.js";
import type { FusedGradKernel, fusedGradKernels, SaturatingGradKernel, saturatingGradKernels } from "./fused.js";
import type { MatrixView } from "./gemm-view.js";
import type { WindowGeometry } from "./conv.js";
import type { FusedRunner, FusedSpec } from "./fused-loop.js";

// The backend boundary: everything that crunches numbers goes through one table of kernels. Ops above
// it decide *what* to compute (shapes, dtypes, autodiff rules); a backend below it decides *how*
// (plain loops, WebAssembly SIMD, a system BLAS). A backend supplies only the kernels it does better:
// the registry (registry.ts) fills the rest from the js backend, in that one place, never per op.
//
// Storage today is host memory: every kernel reads and writes typed arrays on the JS heap, and a
// backend that computes elsewhere (WebAssembly memory, a BLAS) copies in and out or passes pointers.
// A device-resident backend (WebGPU) will own its buffers instead; `location` says which kind a
// backend is, so the tensor layer can demand an explicit (asynchronous) read-back from "device" ones.

/** Names of the backends chainrule ships, best first. */
export const BACKEND_NAMES = ["blas", "wasm", "js"] as const;
/** A backend's name, as accepted by `setBackend` and `CHAINRULE_BACKEND`. */
export type BackendName = (typeof BACKEND_NAMES)[number];

/**
 * C = A·B, or C += A·B with `accumulate`: C is [m, n] row-major from `cOffset` with row stride `ldc`,
 * A [m, k] and B [k, n] strided views (a transposed operand is the same storage with its strides
 * swapped). All three have the same float type (Float32Array or Float64Array).
 */
export type GemmKernel = (m: number, n: number, k: number, a: MatrixView, b: MatrixView, c: TypedArray, cOffset: number, ldc: number, accumulate: boolean) => void;

/**
 * Reduces `src` of `shape` (row-major) over the sorted, distinct `axes` (any of them) into `dst`, which
 * holds the kept dimensions in order (the kept shape's size; all of `dst` is written). Float inputs give
 * results of their own type; sums of int32/bool inputs are taken into an Int32Array. `max`/`min` propagate
 * NaN, and over zero elements give −∞/+∞ (sum 0, prod 1).
 */
export type ReduceKernel = (src: TypedArray, shape: Shape, axes: readonly number[], dst: TypedArray, kind: "sum" | "max" | "min" | "prod") => void;

/**
 * Sliding-window kernels over NCHW batches (conv2d, max pooling, im2col). Arrays are one float type
 * (Float32Array or Float64Array) per call; `g` gives the window geometry and `o` a convolution's output
 * channels; P = OH·OW. Every output array is overwritten. The convolution drivers multiply with the active
 * backend's `gemm`, so a backend that supplies them still uses the system BLAS when that is active.
 */
export interface ConvKernels {
  /** cols[C, kh, kw, N, OH, OW] = every window of x[N, C, H, W]; positions in the padding read `padValue`. */
  im2col(x: TypedArray, g: WindowGeometry, padValue: number, cols: TypedArray): void;
  /** x[N, C, H, W] = the transpose of im2col: each entry of cols[C, kh, kw, N, OH, OW] summed into its position (padding entries dropped). */
  col2im(cols: TypedArray, g: WindowGeometry, x: TypedArray): void;
  /**
   * y[N, O, OH, OW] = conv(x[N, C, H, W], w[O, C, kh, kw]) (cross-correlation, as PyTorch's conv2d), plus
   * bias[O] along the channels when given (the same sums as adding it afterwards).
   */
  forward(x: TypedArray, w: TypedArray, bias: TypedArray | null, g: WindowGeometry, o: number, y: TypedArray): void;
  /** dx[N, C, H, W] = the input gradient of conv(x, w) for the output cotangent ct[N, O, OH, OW]. */
  inputGrad(ct: TypedArray, w: TypedArray, g: WindowGeometry, o: number, dx: TypedArray): void;
  /** dw[O, C, kh, kw] = the weight gradient of conv(x, w) for the output cotangent ct[N, O, OH, OW]. */
  weightGrad(x: TypedArray, ct: TypedArray, g: WindowGeometry, o: number, dw: TypedArray): void;
  /**
   * idx[N, C, OH, OW] = the flat index in x[N, C, H, W] of each max-pool window's maximum: the first on
   * ties, a NaN wins (so it propagates), padding never does.
   */
  maxPoolArgmax(x: TypedArray, g: WindowGeometry, idx: Int32Array): void;
  /** out[N, C, OH, OW] = y[argmax], y of x's shape (y = x: the pool itself). */
  maxPoolGather(x: TypedArray, y: TypedArray, g: WindowGeometry, out: TypedArray): void;
  /** out (x's shape) = ct[N, C, OH, OW] added into the argmax positions of x (the pool's VJP), in output order. */
  maxPoolScatter(x: TypedArray, ct: TypedArray, g: WindowGeometry, out: TypedArray): void;
}

/** Kernels that move elements (row-major arrays, any dtype; `dst` is overwritten). */
export interface LayoutKernels {
  /** dst (shape `to`) = src (shape `from`, which broadcasts to `to` by NumPy rules) repeated along broadcast dimensions. */
  broadcast(src: TypedArray, from: Shape, dst: TypedArray, to: Shape): void;
  /** dst = src (of `shape`) with its axes permuted: output dimension i is input dimension perm[i]. */
  transpose(src: TypedArray, shape: Shape, perm: readonly number[], dst: TypedArray): void;
}

/** Kernels that gather and scatter elements by position (any dtype; see src/kernels/indexing.ts). */
export interface IndexingKernels {
  /** dst (shape `win`) = src (shape `big`) at start + i·step along each axis. */
  slice(src: TypedArray, big: Shape, start: readonly number[], step: readonly number[], win: Shape, dst: TypedArray): void;
  /** The transpose of slice: adds src (shape `win`) into dst (shape `big`) at start + i·step. */
  embed(src: TypedArray, big: Shape, start: readonly number[], step: readonly number[], win: Shape, dst: TypedArray): void;
  /** dst = the sources joined along `axis`. */
  concat(srcs: readonly TypedArray[], shapes: readonly Shape[], axis: number, dst: TypedArray): void;
  /** src viewed as [outer, n, inner], idx (in [0, n)) of length K: dst [outer, K, inner] = src[:, idx, :]. */
  gather(src: TypedArray, outer: number, n: number, inner: number, idx: Int32Array, dst: TypedArray): void;
  /** The transpose of gather: dst [outer, n, inner] += upd [outer, K, inner] at idx (repeated indices accumulate). */
  scatterAdd(upd: TypedArray, outer: number, n: number, inner: number, idx: Int32Array, dst: TypedArray): void;
  /** Index of the max or min of each contiguous row of length m; the first wins ties, a NaN wins over all. */
  argReduceRows(src: TypedArray, rows: number, m: number, kind: "max" | "min", dst: Int32Array): void;
}

/**
 * Dense factorizations on `count` row-major n×n float64 matrices stored one after another (see
 * src/kernels/linalg.ts). A backend may supply LAPACK's getrf/getrs/potrf here; the js ones are the reference.
 */
export interface LinalgKernels {
  /** LU with partial pivoting in place (getrf); piv[b·n + k] = row swapped with k; info[b] = 0 or 1 + the first zero pivot's column. */
  luFactor(a: Float64Array, n: number, count: number, piv: Int32Array, info: Int32Array): void;
  /** Solves A·X = B in place on rhs ([count, n, k]) from nonsingular LU factors (getrs). */
  luSolve(lu: Float64Array, piv: Int32Array, n: number, count: number, rhs: Float64Array, k: number): void;
  /** sign, log|det| and det of each matrix from its LU factors. */
  luDeterminants(lu: Float64Array, piv: Int32Array, n: number, count: number, sign: Float64Array, logAbs: Float64Array, det: Float64Array): void;
  /** Cholesky L·Lᵀ in place from the lower triangle (potrf, uplo L), zeros above; info[b] = 0 or the order of the first non-positive leading minor. */
  cholesky(a: Float64Array, n: number, count: number, info: Int32Array): void;
}

/** Every kernel an op may call. The js backend implements all of them. */
export interface KernelTable {
  readonly gemm: GemmKernel;
  readonly unary: { readonly [K in keyof typeof unaryKernels]: UnaryKernel };
  readonly special: { readonly [K in keyof typeof specialKernels]: UnaryKernel };
  /** Rounding, log2/log10/exp2, inverse trigonometric and hyperbolic functions (src/kernels/math.ts). */
  readonly math: { readonly [K in keyof typeof mathKernels]: UnaryKernel };
  /** The floored remainder a − b·⌊a/b⌋, sign of the divisor (PyTorch's remainder). */
  readonly remainder: BinaryKernel;
  /** Inclusive (or, with `reverse`, suffix) scans along the middle axis of [outer, n, inner]: cumsum, cumprod, logcumsumexp. */
  readonly scan: (src: TypedArray, outer: number, n: number, inner: number, kind: "sum" | "prod" | "logsumexp", reverse: boolean, dst: TypedArray) => void;
  /** Stable argsort of each contiguous row of length m into `dst`; NaN sorts as the largest value. */
  readonly argsortRows: (src: TypedArray, rows: number, m: number, descending: boolean, dst: Int32Array) => void;
  readonly binary: { readonly [K in keyof typeof binaryKernels]: BinaryKernel };
  readonly fusedGrad: { readonly [K in keyof typeof fusedGradKernels]: FusedGradKernel };
  /** Cotangents of tanh and sigmoid from input, output and upstream cotangent (see saturatingGradKernels). */
  readonly saturatingGrad: { readonly [K in keyof typeof saturatingGradKernels]: SaturatingGradKernel };
  readonly reduce: ReduceKernel;
  /**
   * A fused elementwise loop for `jit` (see src/kernels/fused-loop.ts): compiles the chain of ops once and
   * returns its runner, which computes every op per element in one pass over memory.
   */
  readonly fusedLoop: (spec: FusedSpec) => FusedRunner;
  readonly conv: ConvKernels;
  readonly layout: LayoutKernels;
  readonly indexing: IndexingKernels;
  readonly linalg: LinalgKernels;
  /** Softmax cross-entropy per row of [rows, classes] logits `x` against targets `t`, into `out[rows]`. */
  readonly softmaxCrossEntropyRows: (x: TypedArray, t: TypedArray, rows: number, classes: number, out: TypedArray) => void;
  /** Logistic loss from logits, elementwise. */
  readonly sigmoidCrossEntropy: (x: TypedArray, y: TypedArray, out: TypedArray) => void;
  /** SGD update in place on `p` (and `buf`), as PyTorch's SGD with dampening 0. */
  readonly sgdUpdate: (p: TypedArray, g: TypedArray, buf: TypedArray | null, lr: number, momentum: number, nesterov: boolean, weightDecay: number) => void;
  /** RMSprop update in place on `p`, `v` (and `gAvg` when centered, `buf` with momentum), as PyTorch's RMSprop. */
  readonly rmspropUpdate: (
    p: TypedArray, g: TypedArray, v: TypedArray, gAvg: TypedArray | null, buf: TypedArray | null,
    lr: number, alpha: number, eps: number, weightDecay: number, momentum: number,
  ) => void;
  /** Adagrad update in place on `p` and the running sum of squares, step t ≥ 1, as PyTorch's Adagrad. */
  readonly adagradUpdate: (p: TypedArray, g: TypedArray, sum: TypedArray, lr: number, lrDecay: number, eps: number, weightDecay: number, t: number) => void;
  /** Adam / AdamW update in place on `p`, `m` and `v`, step t ≥ 1. */
  readonly adamUpdate: (
    p: TypedArray, g: TypedArray, m: TypedArray, v: TypedArray,
    lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, decoupled: boolean, t: number,
  ) => void;
}

/** A table where each group may supply only some kernels. */
export type PartialKernelTable = {
  readonly [K in keyof KernelTable]?: KernelTable[K] extends (...args: never[]) => unknown ? KernelTable[K] : Partial<KernelTable[K]>;
};

/** What `getBackend()` and `chainrule info` report about a backend. */
export interface BackendInfo {
  /** The backend's name. */
  readonly name: BackendName;
  /** Where its tensors live: "host" (typed arrays on the JS heap) or, for a future GPU backend, "device". */
  readonly location: "host" | "device";
  /** One line on what computes: "OpenBLAS 0.3.21 … (/usr/lib/…/libopenblas.so.0)", "WebAssembly SIMD", … */
  readonly detail: string;
  /** Threads it may use for large products. */
  readonly threads: number;
  /**
   * Threads ready for large products now. For js and wasm: this thread plus the helper threads that are
   * running; helpers start with the first large product and join later ones, so this is 1 until then,
   * and stays 1 where they cannot run (a browser page that is not cross-origin isolated). For blas: `threads`.
   */
  readonly threadsReady: number;
  /** Whether this JavaScript engine runs WebAssembly SIMD (128-bit) code. */
  readonly simd: boolean;
  /** The shared library it loaded, for blas. */
  readonly libraryPath?: string;
  /** The library's version string, for blas. */
  readonly libraryVersion?: string;
}

/** One implementation behind the boundary. */
export interface Backend {
  readonly name: BackendName;
  readonly location: "host" | "device";
  /** The kernels it does itself; the rest come from the js backend. */
  readonly kernels: PartialKernelTable;
  /** A line on what computes, for `getBackend()`. */
  describe(): Omit<BackendInfo, "name" | "location" | "threads" | "threadsReady" | "simd">;
  /** Called when the thread count changes (blas passes it to the library). */
  setThreads?(n: number): void;
}
