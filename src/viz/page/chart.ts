// The "reverse vs forward" panel: sweeps needed for this graph, and a small log–log chart of the time to
// get a full gradient of n parameters both ways, measured in this browser with the bundled library.
import { compareModes, modesSizes, type ModesRow } from "../modes.js";
import { fmtNumber } from "../export-text.js";
import type { Graph } from "./model.js";
import { scalarInputs } from "./explain.js";
import { svg } from "./preview.js";

/** Sizes measured in the page: small enough to take well under a second. */
export const PAGE_MODES_MAX = 256;

/** Fills `host` with the sweep counts for `g` and, once measured, the timing chart. */
export function renderModes(host: HTMLElement, g: Graph, rows: ModesRow[] | null): void {
  host.replaceChildren();
  const n = g.inputs.length;
  const scalars = scalarInputs(g);
  const p = document.createElement("p");
  const d = `∂${g.nodes[g.output]!.name}/∂input`;
  // Forward mode needs a sweep per input number: a [16,784] weight alone is 12,544 sweeps.
  p.textContent = scalars === n
    ? `This graph has ${n} input${n === 1 ? "" : "s"}: reverse mode gets every ${d} in 1 backward sweep; forward mode needs ${n} sweep${n === 1 ? "" : "s"}, one per input.`
    : `This graph has ${n} input${n === 1 ? "" : "s"} holding ${scalars.toLocaleString("en-US")} numbers: reverse mode gets every ${d} in 1 backward sweep; forward mode needs ${scalars.toLocaleString("en-US")} sweeps, one per input number.`;
  host.appendChild(p);
  if (!rows || rows.length < 2) {
    const wait = document.createElement("p");
    wait.className = "muted";
    wait.textContent = "Measuring n = 1 … 256 in this browser…";
    host.appendChild(wait);
    return;
  }
  host.appendChild(chart(rows));
  const note = document.createElement("p");
  note.className = "muted";
  const last = rows[rows.length - 1]!;
  note.textContent = `Full gradient of one loss with n parameters. At n = ${last.n}: forward ${last.forwardSweeps} sweeps, ${fmtNumber(last.forwardMs)} ms; reverse 1 sweep, ${fmtNumber(last.reverseMs)} ms; gradients agree: ${rows.every((r) => r.agree) ? "yes" : "NO"}. Full table: npx chainrule modes.`;
  host.appendChild(note);
}

/**
 * Measures in the browser one size per task (so the page stays responsive),
 * calling `onRows` with the rows so far after each size.
 */
export function measureModes(onRows: (rows: ModesRow[]) => void): void {
  const rows: ModesRow[] = [];
  const sizes = modesSizes(PAGE_MODES_MAX);
  const next = (): void => {
    const n = sizes[rows.length];
    if (n === undefined) return;
    rows.push(...compareModes([n]));
    onRows([...rows]);
    window.setTimeout(next, 30);
  };
  window.setTimeout(next, 100);
}

function chart(rows: ModesRow[]): SVGSVGElement {
  const W = 300, H = 170, m = { l: 40, r: 70, t: 10, b: 30 };
  const root = svg("svg", { class: "modes-chart", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "time for a full gradient, forward vs reverse mode" });
  const ns = rows.map((r) => r.n);
  const ms = rows.flatMap((r) => [r.forwardMs, r.reverseMs]).map((v) => Math.max(v, 1e-4));
  const lx = (v: number): number => Math.log10(v);
  const x0 = lx(Math.min(...ns)), x1 = lx(Math.max(...ns)) || 1;
  const y0 = Math.floor(lx(Math.min(...ms))), y1 = Math.ceil(lx(Math.max(...ms)));
  const px = (n: number): number => m.l + ((lx(n) - x0) / (x1 - x0 || 1)) * (W - m.l - m.r);
  const py = (v: number): number => H - m.b - ((lx(Math.max(v, 1e-4)) - y0) / (y1 - y0 || 1)) * (H - m.t - m.b);
  svg("rect", { x: m.l, y: m.t, width: W - m.l - m.r, height: H - m.t - m.b, class: "frame" }, root);
  for (let e = y0; e <= y1; e++) {
    const y = py(10 ** e);
    svg("line", { x1: m.l, x2: W - m.r, y1: y, y2: y, class: "grid" }, root);
    svg("text", { x: m.l - 4, y: y + 3, "text-anchor": "end", class: "tick" }, root).textContent = e >= 0 ? String(10 ** e) : (10 ** e).toFixed(-e);
  }
  for (const n of ns) svg("text", { x: px(n), y: H - m.b + 12, "text-anchor": "middle", class: "tick" }, root).textContent = String(n);
  svg("text", { x: (m.l + W - m.r) / 2, y: H - 4, "text-anchor": "middle", class: "axis-title" }, root).textContent = "n parameters";
  svg("text", { x: 10, y: m.t + (H - m.t - m.b) / 2, "text-anchor": "middle", class: "axis-title", transform: `rotate(-90 10 ${m.t + (H - m.t - m.b) / 2})` }, root).textContent = "ms";
  for (const [key, cls, label] of [["forwardMs", "fwd", "forward"], ["reverseMs", "rev", "reverse"]] as const) {
    const pts = rows.map((r) => `${px(r.n).toFixed(1)},${py(r[key]).toFixed(1)}`).join(" ");
    svg("polyline", { points: pts, class: `series ${cls}` }, root);
    for (const r of rows) svg("circle", { cx: px(r.n), cy: py(r[key]), r: 2.5, class: `dot ${cls}`, "data-n": r.n, "data-ms": r[key] }, root);
    const last = rows[rows.length - 1]!;
    svg("text", { x: px(last.n) + 5, y: py(last[key]) + 4, class: `series-label ${cls}` }, root).textContent = label;
  }
  return root;
}
