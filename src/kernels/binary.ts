import type { TypedArray } from "../core/dtype.js";

/**
 * `o[i] = f(a[i], b[i])` where `mode` says how the operands line up: 0 both full length,
 * 1 `b` is a single element, 2 `a` is a single element. General broadcasting is done by the caller
 * (materialising the operands), so each loop here stays simple enough for V8 to vectorise well.
 */
export type BinaryKernel = (a: TypedArray, b: TypedArray, o: TypedArray, mode: 0 | 1 | 2) => void;

function def(f: (x: number, y: number) => number): BinaryKernel {
  // Kept as a fallback for rarely used ops; hot ops below have their loops written out.
  return (a, b, o, mode) => {
    const n = o.length;
    if (mode === 0) for (let i = 0; i < n; i++) o[i] = f(a[i]!, b[i]!);
    else if (mode === 1) { const s = b[0]!; for (let i = 0; i < n; i++) o[i] = f(a[i]!, s); }
    else { const s = a[0]!; for (let i = 0; i < n; i++) o[i] = f(s, b[i]!); }
  };
}

/**
 * xʸ as IEEE 754 `pow` (C99 Annex F, NumPy, PyTorch): `Math.pow` differs only where |x| = 1 —
 * pow(1, y) = 1 for every y (NaN included) and pow(−1, ±∞) = 1, where JavaScript's `**` gives NaN.
 * The repair runs only on a NaN result, so the common path costs one compare.
 */
export function ieeePow(x: number, y: number): number {
  const r = Math.pow(x, y);
  if (r === r) return r;
  return x === 1 || (x === -1 && (y === Infinity || y === -Infinity)) ? 1 : r;
}

export const binaryKernels = {
  add: (a, b, o, mode) => {
    const n = o.length;
    if (mode === 0) for (let i = 0; i < n; i++) o[i] = a[i]! + b[i]!;
    else if (mode === 1) { const s = b[0]!; for (let i = 0; i < n; i++) o[i] = a[i]! + s; }
    else { const s = a[0]!; for (let i = 0; i < n; i++) o[i] = s + b[i]!; }
  },
  sub: (a, b, o, mode) => {
    const n = o.length;
    if (mode === 0) for (let i = 0; i < n; i++) o[i] = a[i]! - b[i]!;
    else if (mode === 1) { const s = b[0]!; for (let i = 0; i < n; i++) o[i] = a[i]! - s; }
    else { const s = a[0]!; for (let i = 0; i < n; i++) o[i] = s - b[i]!; }
  },
  mul: (a, b, o, mode) => {
    const n = o.length;
    if (mode === 0) for (let i = 0; i < n; i++) o[i] = a[i]! * b[i]!;
    else if (mode === 1) { const s = b[0]!; for (let i = 0; i < n; i++) o[i] = a[i]! * s; }
    else { const s = a[0]!; for (let i = 0; i < n; i++) o[i] = s * b[i]!; }
  },
  div: (a, b, o, mode) => {
    const n = o.length;
    if (mode === 0) for (let i = 0; i < n; i++) o[i] = a[i]! / b[i]!;
    else if (mode === 1) { const s = b[0]!; for (let i = 0; i < n; i++) o[i] = a[i]! / s; }
    else { const s = a[0]!; for (let i = 0; i < n; i++) o[i] = s / b[i]!; }
  },
  pow: def(ieeePow),
  maximum: def((x, y) => (x > y || Number.isNaN(x) ? x : y)),
  minimum: def((x, y) => (x < y || Number.isNaN(x) ? x : y)),
  atan2: def(Math.atan2),
  equal: def((x, y) => (x === y ? 1 : 0)),
  notEqual: def((x, y) => (x !== y ? 1 : 0)),
  greater: def((x, y) => (x > y ? 1 : 0)),
  greaterEqual: def((x, y) => (x >= y ? 1 : 0)),
  less: def((x, y) => (x < y ? 1 : 0)),
  lessEqual: def((x, y) => (x <= y ? 1 : 0)),
} satisfies Record<string, BinaryKernel>;
