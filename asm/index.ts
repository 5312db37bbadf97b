// The entry point of chainrule's WebAssembly kernels (built by scripts/build-wasm.mjs). Every kernel works on
// byte addresses into this module's memory; the JS glue (src/kernels/wasm/backend.ts) copies operands in and
// results out. Nothing here allocates: the stub runtime is never used, and memory above `heapBase()` belongs
// to the glue.

export { sgemm, sgemmWorkspace, dgemm, dgemmWorkspace } from "./gemm";

/** First free byte of linear memory (after static data): the glue's scratch area starts here. */
export function heapBase(): usize {
  return __heap_base;
}
export { unaryF32, binaryF32, fusedGradF32, saturatingGradF32, saturatingFixF32, anyNaNF32, anyZeroF32 } from "./elementwise";
export { adamF32 } from "./optim";
export { softmaxXentF32 } from "./losses";
export { im2colF32, im2colF64, col2imF32, col2imF64, swapLeading, swapBiasF32, swapBiasF64, maxPoolF32, maxPoolF64 } from "./conv";
export { stridedCopyF32, stridedCopyF64, transpose2dF32, transpose2dF64, reduceF32, reduceF64, narrowF64 } from "./layout";
export { fusedF32 } from "./fused";
