import type { Tensor } from "./tensor.js";
import { fmtShape } from "./shape.js";

const EDGE = 3;
const SUMMARY_THRESHOLD = 1000;

function fmtNumber(v: number, dtype: string): string {
  if (dtype === "bool") return v ? "true" : "false";
  if (dtype === "int32") return String(v);
  if (Number.isInteger(v) && Math.abs(v) < 1e16) return `${v}.`;
  const s = Math.abs(v) >= 1e-4 && Math.abs(v) < 1e8 ? String(Number(v.toPrecision(dtype === "float32" ? 7 : 15))) : v.toExponential(4);
  return s;
}

/**
 * NumPy-style printing: `tensor([[1., 2.], [3., 4.]], dtype=float32, shape=[2,2])`, summarising each
 * dimension to its first and last three entries beyond ~1000 elements.
 */
export function formatTensor(t: Tensor): string {
  const data = t.data;
  const summarise = data.length > SUMMARY_THRESHOLD;
  const shape = t.shape;
  const walk = (dim: number, offset: number, stride: number): string => {
    if (dim === shape.length) return fmtNumber(data[offset]!, t.dtype);
    const n = shape[dim]!;
    const inner = stride / n;
    const parts: string[] = [];
    const show = (i: number): void => { parts.push(walk(dim + 1, offset + i * inner, inner)); };
    if (summarise && n > 2 * EDGE) {
      for (let i = 0; i < EDGE; i++) show(i);
      parts.push("…");
      for (let i = n - EDGE; i < n; i++) show(i);
    } else for (let i = 0; i < n; i++) show(i);
    const sep = dim === shape.length - 1 ? ", " : ",\n" + " ".repeat(dim + 8);
    return `[${parts.join(sep)}]`;
  };
  return `tensor(${walk(0, 0, data.length)}, dtype=${t.dtype}, shape=${fmtShape(shape)})`;
}
