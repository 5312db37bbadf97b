// Kernels beyond elementwise, matmul and reductions: layout (slice, pad, concat), indexing (gather,
// scatter-add, argmax), losses, convolution helpers and optimizer updates. Registered into prims.ts.
import { registerKernels } from "./prims.js";

registerKernels({});
