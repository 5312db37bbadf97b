import type { Backend, KernelTable } from "./backend.js";
import { binaryKernels } from "./binary.js";
import { unaryKernels } from "./unary.js";
import { specialKernels } from "./special.js";
import { fusedGradKernels, saturatingGradKernels } from "./fused.js";
import { adagradUpdate, argsortRows, mathKernels, remainderKernel, rmspropUpdate, scanInto } from "./math.js";
import { broadcastInto, reduceInto, transposeInto } from "./layout.js";
import { argReduceRows, concatInto, embedInto, gatherInto, scatterAddInto, sliceInto } from "./indexing.js";
import {
  col2imInto, conv2dForwardInto, conv2dInputGradInto, conv2dWeightGradInto, im2colInto, maxPoolArgmax, maxPoolGatherInto, maxPoolScatterInto,
} from "./conv.js";
import { sigmoidCrossEntropy, softmaxCrossEntropyRows } from "./losses.js";
import { adamUpdate, sgdUpdate } from "./optim.js";
import { gemmSerial } from "./gemm-core.js";
import { choleskyInto, luDeterminantsInto, luFactorInto, luSolveInto } from "./linalg.js";
import { gemmParallel } from "./gemm-threads.js";
import { jsFusedLoop } from "./fused-loop.js";

/** The plain TypeScript kernels: every kernel of the table, and the fallback for every other backend. */
export const jsKernels: KernelTable = {
  gemm(m, n, k, a, b, c, cOffset, ldc, accumulate) {
    const args = [a.data, a.offset, a.rowStride, a.colStride, b.data, b.offset, b.rowStride, b.colStride, c, cOffset, ldc, m, k, n, accumulate] as const;
    // Large products are split over helper threads in Node (gemm-threads.ts); the result is the one thread's.
    if (!gemmParallel(0, ...args)) gemmSerial(...args);
  },
  unary: unaryKernels,
  special: specialKernels,
  math: mathKernels,
  remainder: remainderKernel,
  scan: scanInto,
  argsortRows,
  binary: binaryKernels,
  fusedGrad: fusedGradKernels,
  saturatingGrad: saturatingGradKernels,
  reduce: reduceInto,
  fusedLoop: jsFusedLoop,
  conv: {
    im2col: im2colInto,
    col2im: col2imInto,
    forward: conv2dForwardInto,
    inputGrad: conv2dInputGradInto,
    weightGrad: conv2dWeightGradInto,
    maxPoolArgmax,
    maxPoolGather: maxPoolGatherInto,
    maxPoolScatter: maxPoolScatterInto,
  },
  layout: { broadcast: broadcastInto, transpose: transposeInto },
  indexing: { slice: sliceInto, embed: embedInto, concat: concatInto, gather: gatherInto, scatterAdd: scatterAddInto, argReduceRows },
  linalg: { luFactor: luFactorInto, luSolve: luSolveInto, luDeterminants: luDeterminantsInto, cholesky: choleskyInto },
  softmaxCrossEntropyRows,
  sigmoidCrossEntropy,
  sgdUpdate,
  adamUpdate,
  rmspropUpdate,
  adagradUpdate,
};

/** The js backend: plain loops that V8 compiles, float64 accumulation in GEMM, runs everywhere. */
export const jsBackend: Backend = {
  name: "js",
  location: "host",
  kernels: jsKernels,
  describe: () => ({ detail: "TypeScript loops (GotoBLAS-style blocked GEMM, float64 accumulation)" }),
};
