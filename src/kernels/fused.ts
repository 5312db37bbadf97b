import type { TypedArray } from "../core/dtype.js";

/** `o[i] = f(x[i], ct[i])`: a unary op's cotangent from its saved input or output `x` and the upstream `ct`. */
export type FusedGradKernel = (x: TypedArray, ct: TypedArray, o: TypedArray) => void;

/**
 * Backward kernels that compute a unary op's cotangent in one pass instead of three or four
 * elementwise ops (each allocating a full array). `o` has the shape of both inputs.
 */
export const fusedGradKernels = {
  /** ct · (1 − out²), with out = tanh(x). */
  tanhGrad: (out, ct, o) => {
    for (let i = 0; i < o.length; i++) { const y = out[i]!; o[i] = ct[i]! * (1 - y * y); }
  },
  /** ct · out · (1 − out), with out = σ(x). */
  sigmoidGrad: (out, ct, o) => {
    for (let i = 0; i < o.length; i++) { const y = out[i]!; o[i] = ct[i]! * y * (1 - y); }
  },
  /** ct where x > 0, else 0 (relu'(0) = 0). */
  reluGrad: (x, ct, o) => {
    for (let i = 0; i < o.length; i++) o[i] = x[i]! > 0 ? ct[i]! : 0;
  },
  /** 2 · x · ct. */
  squareGrad: (x, ct, o) => {
    for (let i = 0; i < o.length; i++) o[i] = 2 * x[i]! * ct[i]!;
  },
} satisfies Record<string, FusedGradKernel>;
