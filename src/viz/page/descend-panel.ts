// The Descend panel: gradient steps on the page's expression with a learning rate chosen here, a plot of L
// against the step, and each input's path.
import { descend, type DescentRun } from "./descend.js";
import type { Source } from "./retrace.js";
import { svg } from "./preview.js";
import { num, typeset } from "./format.js";

function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, cls?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

/** Series colours for the inputs' paths (AA on white). */
const COLOURS = ["#1d4ed8", "#b23c0a", "#047857", "#7c3aed", "#a21caf", "#0f766e"];

/** A small line chart of `series` against the step (0 … n). */
function lineChart(label: string, series: { name: string; values: number[]; colour: string }[]): SVGSVGElement {
  const W = 300, H = 130, m = { l: 44, r: 58, t: 8, b: 22 };
  const root = svg("svg", { class: "descend-chart", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": label });
  const all = series.flatMap((s) => s.values).filter(Number.isFinite);
  const n = Math.max(1, ...series.map((s) => s.values.length - 1));
  let lo = Math.min(...all), hi = Math.max(...all);
  if (!(hi > lo)) { lo -= 1; hi += 1; }
  const px = (k: number): number => m.l + (k / n) * (W - m.l - m.r);
  const py = (v: number): number => H - m.b - ((v - lo) / (hi - lo)) * (H - m.t - m.b);
  svg("rect", { x: m.l, y: m.t, width: W - m.l - m.r, height: H - m.t - m.b, class: "frame" }, root);
  for (const v of [lo, hi]) svg("text", { x: m.l - 4, y: py(v) + 3, "text-anchor": "end", class: "tick" }, root).textContent = num(Number(v.toPrecision(3)));
  for (const k of [0, n]) svg("text", { x: px(k), y: H - m.b + 12, "text-anchor": "middle", class: "tick" }, root).textContent = String(k);
  svg("text", { x: (m.l + W - m.r) / 2, y: H - 2, "text-anchor": "middle", class: "tick" }, root).textContent = "step";
  for (const s of series) {
    const pts = s.values.map((v, k) => (Number.isFinite(v) ? `${px(k).toFixed(1)},${py(v).toFixed(1)}` : "")).filter((p) => p).join(" ");
    svg("polyline", { points: pts, fill: "none", stroke: s.colour, "stroke-width": 2, "data-series": s.name }, root);
    const last = s.values[s.values.length - 1]!;
    if (Number.isFinite(last)) svg("text", { x: px(s.values.length - 1) + 4, y: py(last) + 3, fill: s.colour, class: "series-label" }, root).textContent = s.name;
  }
  return root;
}

/** Fills `host` with the panel; `source()` gives the expression the graph on screen came from, if any. */
export function renderDescend(host: HTMLElement, source: Source | undefined): void {
  host.replaceChildren();
  host.appendChild(el("h2", "Descend"));
  if (!source) {
    host.appendChild(el("p", "Gradient descent runs on an expression typed in the box above; this graph was embedded without one.", "muted"));
    return;
  }
  host.appendChild(el("p", "Take gradient steps on the expression: every input moves against its gradient, x ← x − lr·∂L/∂x, computed in this browser.", "muted"));
  const form = el("form", undefined, "nudge-form");
  const lr = el("input");
  Object.assign(lr, { type: "number", step: "any", value: "0.01", min: "0" });
  lr.setAttribute("aria-label", "Learning rate");
  const steps = el("input");
  Object.assign(steps, { type: "number", step: "1", value: "30", min: "1", max: "1000" });
  steps.setAttribute("aria-label", "Steps");
  const go = el("button", "Descend", "primary");
  go.type = "submit";
  const l1 = el("label");
  l1.append(el("span", "lr ="), lr);
  const l2 = el("label");
  l2.append(el("span", "steps"), steps);
  form.append(l1, l2, go);
  const out = el("div", undefined, "descend-out");
  out.setAttribute("aria-live", "polite");
  host.append(form, out);
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    out.replaceChildren();
    let run: DescentRun;
    try {
      run = descend(source.expression, source.at, Number(lr.value), Math.min(1000, Math.max(1, Math.round(Number(steps.value)))));
    } catch (e) {
      out.appendChild(el("p", (e as Error).message, "error-text"));
      return;
    }
    const k = run.loss.length - 1;
    const summary = el("p", typeset(`L: ${num(run.loss[0]!)} → ${num(run.loss[k]!)} after ${k} steps${run.stopped ? ` (stopped: ${run.stopped}; try a smaller lr)` : ""}; ${run.names.map((n, i) => `${n}: ${num(run.path[i]![0]!)} → ${num(run.path[i]![k]!)}`).join(", ")}.`));
    summary.setAttribute("data-descend", JSON.stringify({ loss: run.loss, path: run.path }));
    out.appendChild(summary);
    out.appendChild(lineChart("L against the step", [{ name: "L", values: run.loss, colour: "#b23c0a" }]));
    out.appendChild(lineChart("the inputs' path against the step", run.names.map((name, i) => ({ name, values: run.path[i]!, colour: COLOURS[i % COLOURS.length]! }))));
  });
}
