// The wasm backend: chainrule's own WebAssembly SIMD kernels, written in AssemblyScript (asm/*.ts) and embedded
// in the build as base64 (module.generated.ts, made by scripts/build-wasm.mjs), so it needs no file or fetch at
// run time. It supplies GEMM (float32 and float64), float32 elementwise kernels, reductions, the layout and
// window kernels (float32 and float64), softmax cross-entropy and Adam; the registry takes every other kernel
// from the js backend, and each wrapper here falls back to its js kernel for other dtypes and for arrays too
// small to be worth the copy (one rule: `wasmFor`, and `floatsFor` for kernels that take float64, in elementwise.ts).
import type { Backend, GemmKernel } from "../backend.js";
import { binaryKernels, type BinaryKernel } from "../binary.js";
import { fusedGradKernels, saturatingGradKernels, type FusedGradKernel } from "../fused.js";
import { gemmSerial } from "../gemm-core.js";
import { adamUpdate } from "../optim.js";
import { softmaxCrossEntropyRows } from "../losses.js";
import { specialKernels } from "../special.js";
import { unaryKernels, type UnaryKernel } from "../unary.js";
import { adamVia, binaryVia, fusedVia, saturatingVia, softmaxCrossEntropyVia, unaryVia } from "./elementwise.js";
import { wasmConvKernels } from "./conv.js";
import { wasmLayoutKernels, wasmReduce } from "./layout.js";
import { wasmGemmSerial } from "./gemm.js";
import { wasmAvailable } from "./instance.js";
import { gemmParallel } from "../gemm-threads.js";
import { minimumSize } from "../minimums.js";
import { wasmFusedLoop } from "./fused.js";

export { wasmGemmSerial } from "./gemm.js";

// Break-even sizes, measured in Node 20 on x64 (wasm wrapper with its copies vs the js kernel, best of 7):
// a wasm call with its copies costs ~60-100 ns more than a js loop call, which is what a 4×4×4 product, ~8
// exp/tanh or ~48 adds cost in js. Below these sizes the js kernel runs, so scalars keep their per-op cost.
/** Fewer multiply-adds than this run the js GEMM (4×4×4: a tie; 8×8×8: wasm 4-6× faster). */
const GEMM_MIN = 8 * 8 * 8;
/** Shortest float32 array for the transcendental kernels (exp, log, tanh, …): at 16 elements wasm is ~1.5-3× faster. */
const MIN_TRANSCENDENTAL = 16;
/** Shortest float32 array for the cheap kernels (neg, add, …): at 64 elements wasm is ~2× faster, at 32 slower. */
const MIN_CHEAP = 64;

const gemm: GemmKernel = (m, n, k, a, b, c, cOffset, ldc, accumulate) => {
  const args = [a.data, a.offset, a.rowStride, a.colStride, b.data, b.offset, b.rowStride, b.colStride, c, cOffset, ldc, m, k, n, accumulate] as const;
  if (m * n * k < minimumSize(GEMM_MIN)) gemmSerial(...args);
  // Large products are split over helper threads (Node, or a cross-origin-isolated page), each running this
  // same wasm kernel (bit-exact).
  else if (!gemmParallel(1, ...args)) wasmGemmSerial(...args);
};

// Operation codes of asm/elementwise.ts (unaryF32, binaryF32, fusedGradF32, saturatingGradF32): keep the two lists in step.
const UNARY_OPS = {
  neg: 0, abs: 1, sqrt: 2, square: 3, relu: 4, reciprocal: 5, rsqrt: 6,
  exp: 7, expm1: 8, log: 9, log1p: 10, tanh: 11, sigmoid: 12, erf: 13,
} as const;
const BINARY_OPS = { add: 0, sub: 1, mul: 2, div: 3, maximum: 4, minimum: 5 } as const;
const FUSED_OPS = { reluGrad: 2, squareGrad: 3 } as const;
const SATURATING_OPS = { tanhGrad: 0, sigmoidGrad: 1 } as const;

/**
 * The wasm backend, or null where this engine has no WebAssembly or no SIMD (checked with
 * `WebAssembly.validate` on a tiny SIMD module). The module is compiled synchronously on first use; where an
 * engine refuses that (a browser's main thread, for large modules), it compiles in the background and the
 * kernels run their js versions until it is ready.
 *
 * Kernels (float32 unless stated; arrays as in the js KernelTable, any length):
 * - `gemm`: float32 (float32 sums, as BLAS sgemm) and float64, strided operands, with `accumulate`; below
 *   8³ multiply-adds, and for other dtypes: the js GEMM. One thread (see `wasmGemmSerial` for helper threads).
 *   Error of an element: at most (k + 2)·u·Σ_p |A(i,p)·B(p,j)| with u = 2⁻²⁴ (float32) or 2⁻⁵³ (float64).
 * - `unary`: neg, abs, sqrt, square, relu, reciprocal, rsqrt, exp, expm1, log, log1p, tanh, sigmoid;
 *   `special`: erf. Measured max error against Math.fround of the float64 Math function, over every 16th
 *   float32 bit pattern (2^28 inputs each, asm/check-ulp.mts; exp over every float32 in [−104, 89]): 1 ulp for
 *   exp, expm1, log, log1p, tanh, sigmoid and erf (exp in float32 arithmetic, Cephes expf; the others in
 *   float64 and rounded once: Cody–Waite exp, atanh-series log, Cody's erf; see asm/vmath.ts), 0 for sqrt and
 *   rsqrt. NaN gives NaN, ±0 keep their sign, overflow gives ±Infinity and tiny results are correctly
 *   rounded subnormals. neg, abs, square, relu, reciprocal are exact IEEE operations (results identical to js).
 * - `binary`: add, sub, mul, div, maximum, minimum (modes 0/1/2 as BinaryKernel); identical to the js kernels.
 * - `fusedGrad`: reluGrad, squareGrad; identical to the js kernels. `saturatingGrad`: tanhGrad, sigmoidGrad;
 *   identical to the js kernels where the output-based formula applies, within 1 ulp where the input-based
 *   one does (its exp is asm/vmath.ts's, the js kernel's is Math.exp).
 * - `reduce`: sum, max, min, prod over any axes, float32 and float64, accumulated in float64 (src/kernels/wasm/layout.ts).
 * - `layout`: broadcast and transpose, float32 and float64; identical to the js kernels.
 * - `conv`: im2col, col2im, the conv2d forward / input-gradient / weight-gradient drivers (whole stages in wasm
 *   memory, multiplied by the active backend's GEMM) and the max-pool argmax, gather and scatter, float32 and
 *   float64; identical to the js kernels for the same GEMM (src/kernels/wasm/conv.ts).
 * - `adamUpdate`: Adam/AdamW on float32 parameters; identical to the js kernel.
 * - `softmaxCrossEntropyRows`: float32 logits and targets, exp/log in float64; within 1 ulp of the js kernel.
 * - `fusedLoop` (jit): float32/bool chains of the ops above plus comparisons, where and casts, run as op codes over
 *   cached tiles (src/kernels/wasm/fused.ts); each op gives exactly this backend's eager result.
 */
export function createWasmBackend(): Backend | null {
  if (!wasmAvailable()) return null;
  type Unary = keyof typeof UNARY_OPS & keyof typeof unaryKernels;
  const cheap = (name: Unary): UnaryKernel => unaryVia(UNARY_OPS[name], MIN_CHEAP, unaryKernels[name]);
  const costly = (name: Unary): UnaryKernel => unaryVia(UNARY_OPS[name], MIN_TRANSCENDENTAL, unaryKernels[name]);
  const binary = (name: keyof typeof BINARY_OPS): BinaryKernel => binaryVia(BINARY_OPS[name], MIN_CHEAP, binaryKernels[name]);
  const fused = (name: keyof typeof FUSED_OPS): FusedGradKernel => fusedVia(FUSED_OPS[name], MIN_CHEAP, fusedGradKernels[name]);
  return {
    name: "wasm",
    location: "host",
    kernels: {
      gemm,
      fusedLoop: wasmFusedLoop,
      unary: {
        neg: cheap("neg"), abs: cheap("abs"), sqrt: cheap("sqrt"), square: cheap("square"), relu: cheap("relu"),
        reciprocal: cheap("reciprocal"), rsqrt: cheap("rsqrt"),
        exp: costly("exp"), expm1: costly("expm1"), log: costly("log"), log1p: costly("log1p"), tanh: costly("tanh"), sigmoid: costly("sigmoid"),
      },
      special: { erf: unaryVia(UNARY_OPS.erf, MIN_TRANSCENDENTAL, specialKernels.erf) },
      binary: { add: binary("add"), sub: binary("sub"), mul: binary("mul"), div: binary("div"), maximum: binary("maximum"), minimum: binary("minimum") },
      fusedGrad: { reluGrad: fused("reluGrad"), squareGrad: fused("squareGrad") },
      saturatingGrad: {
        tanhGrad: saturatingVia(SATURATING_OPS.tanhGrad, MIN_CHEAP, saturatingGradKernels.tanhGrad),
        sigmoidGrad: saturatingVia(SATURATING_OPS.sigmoidGrad, MIN_CHEAP, saturatingGradKernels.sigmoidGrad),
      },
      reduce: wasmReduce,
      conv: wasmConvKernels,
      layout: wasmLayoutKernels,
      adamUpdate: adamVia(MIN_CHEAP, adamUpdate),
      softmaxCrossEntropyRows: softmaxCrossEntropyVia(MIN_CHEAP, softmaxCrossEntropyRows),
    },
    describe: () => ({ detail: "WebAssembly SIMD (AssemblyScript): float32/float64 GEMM, float32 elementwise, reductions, layout and conv kernels, softmax cross-entropy, Adam" }),
  };
}
