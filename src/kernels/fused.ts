import type { TypedArray } from "../core/dtype.js";

/**
 * Backward kernels that compute a unary op's cotangent in one pass instead of three or four
 * elementwise ops (each allocating a full array). `o` has the shape of both inputs.
 */
export const fusedGradKernels = {
  /** ct · (1 − out²), with out = tanh(x). */
  tanhGrad: (out: TypedArray, ct: TypedArray, o: TypedArray) => {
    for (let i = 0; i < o.length; i++) { const y = out[i]!; o[i] = ct[i]! * (1 - y * y); }
  },
  /** ct · out · (1 − out), with out = σ(x). */
  sigmoidGrad: (out: TypedArray, ct: TypedArray, o: TypedArray) => {
    for (let i = 0; i < o.length; i++) { const y = out[i]!; o[i] = ct[i]! * y * (1 - y); }
  },
  /** ct where x > 0, else 0 (relu'(0) = 0). */
  reluGrad: (x: TypedArray, ct: TypedArray, o: TypedArray) => {
    for (let i = 0; i < o.length; i++) o[i] = x[i]! > 0 ? ct[i]! : 0;
  },
  /** 2 · x · ct. */
  squareGrad: (x: TypedArray, ct: TypedArray, o: TypedArray) => {
    for (let i = 0; i < o.length; i++) o[i] = 2 * x[i]! * ct[i]!;
  },
};
