// The "reverse vs forward" panel: sweeps needed for this graph, and a small log–log chart of the time to
// get a full gradient of n parameters both ways, measured in this browser with the bundled library.
import { forwardSweep, gradientByReverse, modesLoss, modesPoint, modesSizes, type ModesRow } from "../modes.js";
import { fmtMs } from "./format.js";
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
  note.textContent = `Full gradient of one loss with n parameters. At n = ${last.n}: forward ${last.forwardSweeps} sweeps, ${fmtMs(last.forwardMs)} ms; reverse 1 sweep, ${fmtMs(last.reverseMs)} ms; gradients agree: ${rows.every((r) => r.agree) ? "yes" : "NO"}. Full table: npx chainrule modes.`;
  host.appendChild(note);
}

/** Measurements per size and mode, the fastest kept (as `compareModes` does up to n = 256). */
const REPEATS = 3;
/** Each measurement runs until this many milliseconds have passed (browsers round the clock to 0.1 ms). */
const MIN_MS = 10;
/** A task of the measurement stops after about this long, so that a click never waits long behind it. */
const SLICE_MS = 8;
/** The measurement starts once the reader has left the page alone this long after load. */
export const IDLE_MS = 2000;

/**
 * Runs `f` once the page is idle: `IDLE_MS` after load with no key press or pointer down (each one
 * restarts the wait), then in the browser's next idle period.
 */
function whenIdle(f: () => void): void {
  const ric = (window as { requestIdleCallback?: (cb: () => void, o?: { timeout: number }) => number }).requestIdleCallback;
  let timer = 0;
  const fire = (): void => {
    removeEventListener("pointerdown", restart, true);
    removeEventListener("keydown", restart, true);
    if (ric) ric(f, { timeout: 1000 });
    else f();
  };
  const restart = (): void => {
    window.clearTimeout(timer);
    timer = window.setTimeout(fire, IDLE_MS);
  };
  addEventListener("pointerdown", restart, true);
  addEventListener("keydown", restart, true);
  restart();
}

/** The next task of a measurement, soon but after any pending input. */
const soon = (f: () => void): void => { window.setTimeout(f, 0); };

/**
 * Measures in the browser once the page is idle, in slices of about 8 ms (a few forward-mode sweeps, or a
 * few reverse-mode gradients, per task; at n = 256 one forward gradient alone takes 50–150 ms) so that a
 * click never waits behind the measurement; calls `onRows` with the rows so far after each size. The same
 * measurement as `compareModes`: a warm-up gradient first, then runs of at least 10 ms (time per gradient =
 * time per sweep × n in forward mode), the fastest of 3, and the two gradients compared.
 */
export function measureModes(onRows: (rows: ModesRow[]) => void): void {
  const rows: ModesRow[] = [];
  const sizes = modesSizes(PAGE_MODES_MAX);
  type Run = { n: number; x: ReturnType<typeof modesPoint>; mode: "forward" | "reverse"; left: number; best: number; sweeps: number; ms: number; out: Float64Array; warm: boolean };
  const results = new Map<number, { forward?: Run; reverse?: Run }>();
  const runs: Run[] = sizes.flatMap((n) => (["forward", "reverse"] as const).map((mode) => ({ n, x: modesPoint(n), mode, left: REPEATS, best: Infinity, sweeps: 0, ms: 0, out: new Float64Array(n), warm: false })));
  let r = 0;
  const slice = (): void => {
    const run = runs[r];
    if (!run) return;
    const t0 = performance.now();
    // Forward mode advances one sweep (one component) at a time, reverse mode one whole gradient.
    const unit = run.mode === "forward" ? 1 : run.n;
    while (performance.now() - t0 < SLICE_MS) {
      if (run.mode === "forward") {
        const i = run.sweeps % run.n;
        run.out[i] = forwardSweep(modesLoss, run.x, i);
      } else run.out = gradientByReverse(modesLoss, run.x);
      run.sweeps += unit;
      if (!run.warm && run.sweeps >= run.n) break;
      if (run.warm && run.sweeps >= run.n && run.ms + performance.now() - t0 >= MIN_MS) break;
    }
    const elapsed = performance.now() - t0;
    if (!run.warm) {
      if (run.sweeps >= run.n) Object.assign(run, { warm: true, sweeps: 0, ms: 0 }); // warm-up gradient done
    } else {
      run.ms += elapsed;
      if (run.sweeps >= run.n && run.ms >= MIN_MS) {
        run.best = Math.min(run.best, (run.ms / run.sweeps) * run.n);
        run.left--;
        Object.assign(run, { sweeps: 0, ms: 0 });
      }
    }
    if (run.left === 0) {
      const entry = results.get(run.n) ?? {};
      entry[run.mode] = run;
      results.set(run.n, entry);
      r++;
      if (entry.forward && entry.reverse) rows.push(row(run.n, entry.forward, entry.reverse));
      if (entry.forward && entry.reverse) onRows([...rows]);
    }
    soon(slice);
  };
  const row = (n: number, f: Run, b: Run): ModesRow => {
    let maxAbsDiff = 0, scale = 1;
    for (let i = 0; i < n; i++) {
      maxAbsDiff = Math.max(maxAbsDiff, Math.abs(f.out[i]! - b.out[i]!));
      scale = Math.max(scale, Math.abs(b.out[i]!));
    }
    return { n, forwardSweeps: n, reverseSweeps: 1, forwardMs: f.best, reverseMs: b.best, ratio: f.best / Math.max(b.best, 1e-6), maxAbsDiff, agree: maxAbsDiff <= 1e-9 * scale };
  };
  const start = (): void => whenIdle(slice);
  if (document.readyState === "complete") start();
  else window.addEventListener("load", start, { once: true });
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
