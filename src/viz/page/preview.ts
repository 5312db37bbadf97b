// Small pictures of tensors: a heatmap for matrices, bars for vectors, a min–max range for tensors whose
// elements were not recorded (more than 64).
import type { ValueSummary } from "../capture.js";
import { fmtNumber } from "../export-text.js";

export const SVG_NS = "http://www.w3.org/2000/svg";

/** Creates an SVG element with attributes. */
export function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}, parent?: Element): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (parent) parent.appendChild(el);
  return el;
}

/** Diverging colour: negative blue, zero white, positive orange; `t` in [-1, 1]. */
export function diverging(t: number): string {
  if (!Number.isFinite(t)) return "#9333ea";
  const a = Math.min(1, Math.abs(t));
  const [r, g, b] = t < 0 ? [37, 99, 235] : [234, 88, 12];
  const mix = (c: number): number => Math.round(255 + (c - 255) * a);
  return `rgb(${mix(r)},${mix(g)},${mix(b)})`;
}

/** Cells a heatmap draws at most per side; larger tensors are shown as block means (an SVG rect per element would be slow). */
const MAX_ROWS = 32, MAX_COLS = 96, MAX_BARS = 64;

/** `data` as a rows×cols grid, pooled to at most `r`×`c` cells by averaging blocks. */
function pooled(data: readonly number[], rows: number, cols: number, r: number, c: number): { data: number[]; rows: number; cols: number } {
  if (rows <= r && cols <= c) return { data: [...data], rows, cols };
  const R = Math.min(rows, r), C = Math.min(cols, c);
  const out = new Array<number>(R * C).fill(0), n = new Array<number>(R * C).fill(0);
  for (let i = 0; i < rows; i++) {
    const bi = Math.floor((i * R) / rows);
    for (let j = 0; j < cols; j++) {
      const k = bi * C + Math.floor((j * C) / cols);
      out[k]! += data[i * cols + j]!;
      n[k]!++;
    }
  }
  return { data: out.map((v, k) => v / n[k]!), rows: R, cols: C };
}

/**
 * Draws `v` into a w×h box at (x, y) of `parent`. Tensors with more than 32 rows or 96 columns (64 bars)
 * are drawn as block means.
 * Rank 1: one bar per element; rank ≥ 2: a heatmap with the last dimension as columns; scalars: nothing.
 */
export function drawPreview(parent: Element, v: ValueSummary, x: number, y: number, w: number, h: number): void {
  if (v.shape.length === 0) return;
  const g = svg("g", { class: "preview" }, parent);
  if (v.data === null) {
    const s = v.stats!;
    const span = s.max - s.min || 1;
    const px = (u: number): number => x + ((u - s.min) / span) * w;
    svg("rect", { x, y: y + h / 2 - 3, width: w, height: 6, rx: 3, class: "range" }, g);
    svg("line", { x1: px(s.mean), x2: px(s.mean), y1: y + 1, y2: y + h - 1, class: "mean" }, g);
    const t = svg("title", {}, g);
    t.textContent = `min ${fmtNumber(s.min)}  mean ${fmtNumber(s.mean)}  max ${fmtNumber(s.max)}`;
    return;
  }
  const cols0 = v.shape[v.shape.length - 1]!;
  const grid = v.shape.length === 1 ? pooled(v.data, 1, v.data.length, 1, MAX_BARS) : pooled(v.data, v.data.length / cols0, cols0, MAX_ROWS, MAX_COLS);
  const data = grid.data;
  const maxAbs = Math.max(1e-30, ...data.map((d) => (Number.isFinite(d) ? Math.abs(d) : 0)));
  if (v.shape.length === 1) {
    const n = data.length;
    const bw = w / n;
    const mid = y + h / 2;
    svg("line", { x1: x, x2: x + w, y1: mid, y2: mid, class: "axis" }, g);
    data.forEach((d, i) => {
      const bh = (Math.abs(d) / maxAbs) * (h / 2);
      svg("rect", { x: x + i * bw + bw * 0.1, y: d >= 0 ? mid - bh : mid, width: Math.max(0.5, bw * 0.8), height: Math.max(0.5, bh), fill: diverging(d / maxAbs) }, g);
    });
    return;
  }
  const { cols, rows } = grid;
  const cell = Math.min(w / cols, h / rows);
  const ox = x + (w - cell * cols) / 2;
  const oy = y + (h - cell * rows) / 2;
  data.forEach((d, i) => {
    svg("rect", { x: ox + (i % cols) * cell, y: oy + Math.floor(i / cols) * cell, width: cell, height: cell, fill: diverging(d / maxAbs), class: "cell" }, g);
  });
}
