import type { TypedArray } from "../core/dtype.js";
import { exp32, sigmoid32, tanh32 } from "./float32-math.js";

/** A loop over a typed array writing `o[i] = f(a[i])`; written out per op so V8 compiles each loop on its own. */
export type UnaryKernel = (a: TypedArray, o: TypedArray) => void;

export const unaryKernels = {
  neg: (a, o) => { for (let i = 0; i < o.length; i++) o[i] = -a[i]!; },
  abs: (a, o) => { for (let i = 0; i < o.length; i++) o[i] = Math.abs(a[i]!); },
  sign: (a, o) => { for (let i = 0; i < o.length; i++) { const v = a[i]!; o[i] = v > 0 ? 1 : v < 0 ? -1 : v; } },
  // float32 results take the inlinable float32-math.ts functions (Math.exp is a call into C); float64 keep Math's.
  exp: (a, o) => {
    if (o instanceof Float32Array) for (let i = 0; i < o.length; i++) o[i] = exp32(a[i]!);
    else for (let i = 0; i < o.length; i++) o[i] = Math.exp(a[i]!);
  },
  expm1: (a, o) => { for (let i = 0; i < o.length; i++) o[i] = Math.expm1(a[i]!); },
  log: (a, o) => { for (let i = 0; i < o.length; i++) o[i] = Math.log(a[i]!); },
  log1p: (a, o) => { for (let i = 0; i < o.length; i++) o[i] = Math.log1p(a[i]!); },
  sqrt: (a, o) => { for (let i = 0; i < o.length; i++) o[i] = Math.sqrt(a[i]!); },
  rsqrt: (a, o) => { for (let i = 0; i < o.length; i++) o[i] = 1 / Math.sqrt(a[i]!); },
  square: (a, o) => { for (let i = 0; i < o.length; i++) { const v = a[i]!; o[i] = v * v; } },
  reciprocal: (a, o) => { for (let i = 0; i < o.length; i++) o[i] = 1 / a[i]!; },
  sin: (a, o) => { for (let i = 0; i < o.length; i++) o[i] = Math.sin(a[i]!); },
  cos: (a, o) => { for (let i = 0; i < o.length; i++) o[i] = Math.cos(a[i]!); },
  tan: (a, o) => { for (let i = 0; i < o.length; i++) o[i] = Math.tan(a[i]!); },
  tanh: (a, o) => {
    if (o instanceof Float32Array) for (let i = 0; i < o.length; i++) o[i] = tanh32(a[i]!);
    else for (let i = 0; i < o.length; i++) o[i] = Math.tanh(a[i]!);
  },
  // Split on the sign so exp never overflows: σ(x) = 1/(1+e^-x) for x ≥ 0, e^x/(1+e^x) otherwise.
  sigmoid: (a, o) => {
    if (o instanceof Float32Array) {
      for (let i = 0; i < o.length; i++) o[i] = sigmoid32(a[i]!);
      return;
    }
    for (let i = 0; i < o.length; i++) {
      const v = a[i]!;
      if (v >= 0) o[i] = 1 / (1 + Math.exp(-v));
      else { const e = Math.exp(v); o[i] = e / (1 + e); }
    }
  },
  // 0 where x ≤ 0, else x: NaN stays NaN (as PyTorch and maximum(x, 0)).
  relu: (a, o) => { for (let i = 0; i < o.length; i++) { const v = a[i]!; o[i] = v <= 0 ? 0 : v; } },
  copy: (a, o) => { o.set(a); },
} satisfies Record<string, UnaryKernel>;
