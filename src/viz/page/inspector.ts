// The node inspector: op, operands, value, gradient, local derivatives, and a finite-difference check of
// the gradient computed in the browser.
import type { ValueSummary } from "../capture.js";
import { fmtNumber, fmtOp, fmtType, fmtValue } from "../export-text.js";
import type { Graph, Mode, State } from "./model.js";
import { localSymbol } from "./explain.js";
import { typeset } from "./format.js";
import { drawPreview, svg } from "./preview.js";
import { finiteDifference } from "./replay.js";
import { pathsFrom } from "./paths.js";
import { num } from "./format.js";

/** Nodes above which the finite-difference check waits for a click (it replays the graph 2·size times). */
const AUTO_FD_NODES = 150;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, cls?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

/** Elements the inspector lists at most; above, min, max and mean. */
const INSPECTOR_ELEMENTS = 256;

function statsOf(d: readonly number[]): { min: number; max: number; mean: number } {
  let min = Infinity, max = -Infinity, sum = 0;
  for (const x of d) {
    min = Math.min(min, x);
    max = Math.max(max, x);
    sum += x;
  }
  return { min, max, mean: sum / d.length };
}

function valueBlock(v: ValueSummary | null, empty: string): HTMLElement {
  const box = el("div", undefined, "value-block");
  if (v === null) {
    box.appendChild(el("code", empty));
    return box;
  }
  // A tensor recorded in full for the replay (thousands of numbers) is summarised like an unrecorded one.
  const text = v.data && v.data.length > INSPECTOR_ELEMENTS ? fmtValue({ ...v, data: null, stats: statsOf(v.data) }) : fmtValue(v);
  box.appendChild(el("code", typeset(`${fmtType(v)}  ${text}`)));
  if (v.shape.length > 0) {
    const pic = svg("svg", { width: 220, height: 40, class: "preview-large" });
    drawPreview(pic, v, 2, 2, 216, 36);
    box.appendChild(pic);
  }
  return box;
}

/** Refreshes the parts of an open inspector that depend on the step: the gradient (and tangent) known so far. */
export type InspectorUpdate = (st: State, final: boolean) => void;

/**
 * Renders the inspector for node `id` into `host`; `onSelect` jumps to another node. The returned function
 * shows a step's state: in reverse mode the gradient only once the backward pass has reached the node (a
 * running sum while contributions are still arriving), in forward mode the tangent once the node is computed.
 */
export function renderInspector(host: HTMLElement, g: Graph, id: number, mode: Mode, wrt: number | null, onSelect: (id: number) => void): InspectorUpdate {
  host.replaceChildren();
  const n = g.nodes[id]!;
  const L = g.nodes[g.output]!.name;
  const head = el("h3");
  head.appendChild(el("span", n.name, "name"));
  head.appendChild(el("span", n.kind === "op" ? `= ${fmtOp(n)}(${n.inputs.map((k) => g.nodes[k]!.name).join(", ")})` : `(${n.kind})`));
  const close = el("button", "×", "close");
  close.setAttribute("aria-label", "Close inspector");
  close.addEventListener("click", () => { host.hidden = true; });
  head.appendChild(close);
  host.appendChild(head);
  const dl = el("dl");
  const row = (term: string, content: Node | string): HTMLElement => {
    dl.appendChild(el("dt", term));
    const dd = el("dd");
    dd.append(content);
    dl.appendChild(dd);
    return dd;
  };
  const link = (k: number): HTMLButtonElement => {
    const b = el("button", g.nodes[k]!.name, "link");
    b.addEventListener("click", () => onSelect(k));
    return b;
  };
  const links = (ids: number[]): HTMLElement => {
    const span = el("span");
    if (ids.length === 0) span.textContent = "—";
    ids.forEach((k, i) => { if (i) span.append(", "); span.appendChild(link(k)); });
    return span;
  };
  row("op", n.kind === "op" ? fmtOp(n) : n.kind);
  if (n.kind === "op") row("operands", links(n.inputs));
  row("used by", links(g.nodes.filter((m) => m.inputs.includes(id)).map((m) => m.id)));
  row("value", valueBlock(n.value, ""));
  // Forward mode computes no gradient: the reverse-mode result is shown for comparison, labelled so (in the
  // value column: a long label would squeeze the values into a sliver).
  const gradDd = row(`gradient ∂${L}/∂${n.name}`, "");
  const gradNote = mode === "forward" ? el("p", "from reverse mode, for comparison", "muted note") : null;
  const sweep = mode === "forward" && wrt !== null ? g.forward.find((s) => s.wrt === wrt) : undefined;
  const tangentDd = sweep ? row(`tangent ∂${n.name}/∂${g.nodes[wrt!]!.name}`, "") : null;
  const update: InspectorUpdate = (st, final) => {
    let block: HTMLElement;
    let state: "known" | "partial" | "pending" | "none";
    if (n.kind === "const") {
      block = valueBlock(null, "— (constant)");
      state = "none";
    } else if (mode === "forward") {
      block = valueBlock(n.grad, "no gradient reaches it (0)");
      state = n.grad ? "known" : "none";
    } else {
      const gs = st.grads.get(id);
      if (gs) {
        block = valueBlock(gs.value, "");
        state = gs.arrival < gs.arrivals ? "partial" : "known";
        if (state === "partial") block.appendChild(el("p", `sum so far: ${gs.arrival} of ${gs.arrivals} contributions`, "muted"));
      } else {
        block = valueBlock(null, final ? "no gradient reaches it (0)" : `not computed yet: the backward pass has not reached ${n.name}`);
        state = final ? "none" : "pending";
      }
    }
    block.setAttribute("data-grad-state", state);
    gradDd.replaceChildren(block, ...(gradNote ? [gradNote] : []));
    if (tangentDd && sweep) {
      const known = st.tangents.has(id) && (n.kind !== "op" || st.computed.has(id));
      const t = valueBlock(known ? st.tangents.get(id) ?? null : null, known ? "0 (symbolic zero)" : "not computed yet");
      t.setAttribute("data-tangent-state", known ? "known" : "pending");
      tangentDd.replaceChildren(t);
    }
  };
  if (n.kind === "op") {
    const locals = el("div");
    const sent = g.backward.find((s) => s.node === id);
    n.inputs.forEach((k, j) => {
      const f = n.formulas?.[j] ?? null;
      const edge = sent?.edges.find((e) => e.input === j);
      const p = edge?.partial;
      const pv = p === undefined || p === null ? "" : ` = ${typeof p === "number" ? fmtNumber(p) : fmtValue(p).slice(0, 80)}`;
      const sym = localSymbol(g, id, k);
      const text = f !== null ? `${sym} = ${f}${pv}` : `${sym}: by ${n.op}'s VJP rule (not elementwise)`;
      locals.appendChild(el("div", typeset(text), "math"));
    });
    row("local derivatives (at the edges)", locals);
  }
  host.appendChild(dl);
  if (n.kind === "const") return update;
  if (n.kind === "input" && id !== g.output) host.appendChild(pathsSection(g, id));
  const fd = el("section", undefined, "fd");
  fd.appendChild(el("h4", "Finite-difference check"));
  const run = (): void => {
    fd.querySelector(".fd-body")?.remove();
    const body = el("div", undefined, "fd-body");
    const r = finiteDifference(g, id);
    if (!r.ok) {
      body.appendChild(el("p", `Not available: ${r.reason}.`, "muted"));
    } else {
      const tol = n.value.dtype === "float64" ? 1e-6 : 1e-3;
      const pass = r.maxRelErr <= tol;
      body.appendChild(el("p", `Central differences (L(v+h) − L(v−h)) / 2h on a float64 replay of the graph with the bundled library, h = ${r.h.toExponential(0)}:`, "muted"));
      if (r.sample) {
        const from = r.engineFrom === "replay" ? "; the engine column is the library's reverse mode on the same replay (the recording keeps only min, max and mean of this gradient), and the last row checks the sum against the recording" : "";
        const p = el("p", `${r.rows.length - 1} of ${r.sample.of.toLocaleString("en-US")} elements, drawn with seed ${r.sample.seed} (those with a non-zero gradient first)${from}.`, "muted");
        p.setAttribute("data-fd-sample", String(r.rows.length - 1));
        body.appendChild(p);
      }
      const table = el("table");
      const hr = el("tr");
      for (const h of ["", "finite diff.", "engine"]) hr.appendChild(el("th", h));
      table.appendChild(hr);
      for (const x of r.rows.slice(0, 16)) {
        const tr = el("tr");
        tr.appendChild(el("td", x.label));
        tr.appendChild(el("td", typeset(x.fd.toPrecision(8))));
        tr.appendChild(el("td", typeset(fmtNumber(x.engine))));
        table.appendChild(tr);
      }
      body.appendChild(table);
      if (r.rows.length > 16) body.appendChild(el("p", `… ${r.rows.length - 16} more`, "muted"));
      const verdict = el("p", `${pass ? "✓ agrees" : "✗ differs"}: max relative error ${r.maxRelErr.toExponential(1)} (tolerance ${tol.toExponential(0)} for ${n.value.dtype})`, pass ? "ok" : "bad");
      verdict.setAttribute("data-fd", pass ? "pass" : "fail");
      body.appendChild(verdict);
    }
    fd.appendChild(body);
  };
  if (g.nodes.length <= AUTO_FD_NODES) run();
  else {
    const b = el("button", "Run check");
    b.addEventListener("click", run);
    fd.appendChild(b);
  }
  host.appendChild(fd);
  return update;
}

/**
 * The chain rule over the graph for input `id`: every path to the output, the product of the local
 * derivatives along it, and their sum, which is the gradient the backward pass computed.
 */
function pathsSection(g: Graph, id: number): HTMLElement {
  const n = g.nodes[id]!;
  const L = g.nodes[g.output]!.name;
  const p = pathsFrom(g, id);
  const box = el("section", undefined, "paths");
  box.setAttribute("aria-label", `Paths from ${n.name} to ${L}`);
  box.appendChild(el("h4", `Paths from ${n.name} to ${L}: ${p.count.toLocaleString("en-US")}`));
  box.appendChild(el("p", `∂${L}/∂${n.name} is the sum over the paths of the product of the local derivatives along each (the highlighted edges).`, "muted"));
  for (const path of p.listed) {
    const names = path.nodes.map((k) => g.nodes[k]!.name).join(" → ");
    const symbols = path.nodes.slice(1).map((to, i) => localSymbol(g, to, path.nodes[i]!)).join(" · ");
    const numbers = path.factors ? ` = ${path.factors.map(num).join(" · ")} = ${num(path.product!)}` : "";
    const line = el("div", typeset(`${names}:  ${symbols}${numbers}`), "math");
    line.setAttribute("data-path", path.nodes.join(" "));
    box.appendChild(line);
  }
  if (p.listed.length < p.count) box.appendChild(el("p", `… ${(p.count - p.listed.length).toLocaleString("en-US")} more paths not listed.`, "muted"));
  const grad = n.grad && n.grad.shape.length === 0 && n.grad.data ? n.grad.data[0]! : null;
  if (p.sum !== null) {
    const sum = el("div", typeset(`∂${L}/∂${n.name} = ${p.listed.map((x) => num(x.product!)).join(" + ")} = ${num(p.sum)}${grad !== null ? `   (backward pass: ${num(grad)})` : ""}`), "math path-sum");
    sum.setAttribute("data-path-sum", String(p.sum));
    box.appendChild(sum);
  } else box.appendChild(el("p", "The sum is shown for scalar graphs with every path listed; here the local derivatives are tensors (Jacobians), so follow the backward pass instead.", "muted"));
  return box;
}
