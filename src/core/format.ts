import type { Tensor } from "./tensor.js";
import { fmtShape } from "./shape.js";

const EDGE = 3;
const SUMMARY_THRESHOLD = 1000;
/** Rows longer than this wrap onto continuation lines (NumPy's default line width). */
const LINE_WIDTH = 75;

/**
 * One element as text: bools as true/false, ints as they are, floats with a trailing "." when
 * integral (as NumPy), otherwise the shortest text that round-trips at the dtype's precision
 * (7 significant digits for float32, 15 for float64), in exponent form below 1e-4 or from 1e16.
 */
export function fmtNumber(v: number, dtype: string): string {
  if (dtype === "bool") return v ? "true" : "false";
  if (dtype === "int32") return String(v);
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "Infinity" : "-Infinity";
  const a = Math.abs(v);
  if (Number.isInteger(v) && a < 1e16) return Object.is(v, -0) ? "-0." : `${v}.`;
  const rounded = Number(v.toPrecision(dtype === "float32" ? 7 : 15));
  if (a < 1e-4 || a >= 1e16) return rounded.toExponential();
  return String(rounded);
}

/**
 * NumPy-style printing: `tensor([[1., 2.], [3., 4.]], dtype=float32, shape=[2,2])`, with the
 * elements right-aligned in columns, a blank line between blocks of rank ≥ 3, each dimension
 * summarised to its first and last three entries (with "…") beyond 1000 elements, and the
 * tensor's name and requiresGrad flag when set.
 */
export function formatTensor(t: Tensor): string {
  const data = t.data;
  const shape = t.shape;
  const rank = shape.length;
  const summarise = data.length > SUMMARY_THRESHOLD;
  // Pass 1: the flat offsets of the shown elements, with "…" markers, as a nested structure.
  type Cell = number | "…" | Cell[];
  const walk = (dim: number, offset: number, stride: number): Cell => {
    if (dim === rank) return offset;
    const n = shape[dim]!;
    const inner = n === 0 ? 0 : stride / n;
    const parts: Cell[] = [];
    const show = (i: number): void => { parts.push(walk(dim + 1, offset + i * inner, inner)); };
    if (summarise && n > 2 * EDGE) {
      for (let i = 0; i < EDGE; i++) show(i);
      parts.push("…");
      for (let i = n - EDGE; i < n; i++) show(i);
    } else for (let i = 0; i < n; i++) show(i);
    return parts;
  };
  const tree = walk(0, 0, data.length);
  // Pass 2: format the shown elements and align them to the widest.
  const text = new Map<number, string>();
  let width = 0;
  const collect = (c: Cell): void => {
    if (typeof c === "number") {
      const s = fmtNumber(data[c]!, t.dtype);
      text.set(c, s);
      width = Math.max(width, s.length);
    } else if (Array.isArray(c)) c.forEach(collect);
  };
  collect(tree);
  const render = (c: Cell, dim: number): string => {
    if (c === "…") return dim === rank ? "…".padStart(width) : "…";
    if (typeof c === "number") return text.get(c)!.padStart(rank === 0 ? 0 : width);
    const items = c.map((x) => render(x, dim + 1));
    const indent = " ".repeat(dim + 8); // under the first element: "tensor(" and one "[" per dimension
    if (dim < rank - 1) return `[${items.join("," + "\n".repeat(rank - 1 - dim) + indent)}]`;
    // Innermost rows: ", "-separated, wrapped at LINE_WIDTH.
    const lines: string[] = [];
    let line = "";
    for (let i = 0; i < items.length; i++) {
      const piece = items[i]! + (i < items.length - 1 ? "," : "");
      if (line !== "" && indent.length + line.length + 1 + piece.length > LINE_WIDTH) {
        lines.push(line);
        line = piece;
      } else line = line === "" ? piece : `${line} ${piece}`;
    }
    lines.push(line);
    return `[${lines.join("\n" + indent)}]`;
  };
  const extras = [`dtype=${t.dtype}`, `shape=${fmtShape(shape)}`];
  if (t.name !== undefined) extras.push(`name=${JSON.stringify(t.name)}`);
  if (t.requiresGrad) extras.push("requiresGrad=true");
  return `tensor(${render(tree, 0)}, ${extras.join(", ")})`;
}
