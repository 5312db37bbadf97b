// The Nudge panel: choose an input and h, and see every node's change beside its first-order prediction.
import type { Graph } from "./model.js";
import { nudgeInput } from "./nudge.js";
import { num, typeset } from "./format.js";

function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, cls?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

/** Fills `host` with the panel's controls for graph `g`; the table appears on "Nudge". */
export function renderNudge(host: HTMLElement, g: Graph): void {
  host.replaceChildren();
  const L = g.nodes[g.output]!.name;
  const inputs = g.inputs.filter((i) => g.nodes[i]!.kind === "input");
  if (inputs.length === 0) return;
  host.appendChild(el("h2", "Nudge an input"));
  host.appendChild(el("p", `Move one input by h and replay the graph in this browser: each node changes by about its derivative times h (Δv ≈ ∂v/∂x·h), and ${L} by about ∂${L}/∂x·h. That is what a gradient means.`, "muted"));
  const form = el("form", undefined, "nudge-form");
  const pick = el("select");
  pick.setAttribute("aria-label", "Input to nudge");
  for (const i of inputs) {
    const o = el("option", g.nodes[i]!.name);
    o.value = String(i);
    pick.appendChild(o);
  }
  const h = el("input");
  Object.assign(h, { type: "number", step: "any", value: "0.01" });
  h.setAttribute("aria-label", "h");
  const go = el("button", "Nudge", "primary");
  go.type = "submit";
  const lx = el("label");
  lx.append(el("span", "x ="), pick);
  const lh = el("label");
  lh.append(el("span", "h ="), h);
  form.append(lx, lh, go);
  const out = el("div", undefined, "nudge-out");
  out.setAttribute("aria-live", "polite");
  host.append(form, out);
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const x = Number(pick.value);
    const r = nudgeInput(g, x, Number(h.value));
    out.replaceChildren();
    if (!r.ok) {
      out.appendChild(el("p", `Not available: ${r.reason}.`, "muted"));
      return;
    }
    const name = g.nodes[x]!.name;
    const tensor = g.nodes[x]!.value.shape.length > 0;
    if (tensor) out.appendChild(el("p", `${name} is a tensor: every element moves by h, and each row sums over the node's elements.`, "muted"));
    const table = el("table", undefined, "nudge-table");
    const head = el("tr");
    for (const t of ["node", "v", `v at ${name} + h`, "Δv", `∂v/∂${name}·h`]) head.appendChild(el("th", t));
    table.appendChild(head);
    for (const row of r.rows) {
      const tr = el("tr");
      tr.setAttribute("data-nudge-node", row.name);
      tr.setAttribute("data-delta", String(row.delta));
      if (row.predicted !== null) tr.setAttribute("data-predicted", String(row.predicted));
      for (const c of [row.name, num(row.before), num(row.after), num(row.delta), row.predicted === null ? "—" : num(row.predicted)]) tr.appendChild(el("td", c));
      table.appendChild(tr);
    }
    out.appendChild(table);
    const dL = r.output.delta;
    const predicted = r.gradient === null ? null : r.gradient * r.h;
    const line = el("div", typeset(`Δ${L} = ${num(dL)}  ≈  ∂${L}/∂${name}·h = ${r.gradient === null ? "?" : num(r.gradient)} · ${num(r.h)} = ${predicted === null ? "?" : num(predicted)}`), "math");
    line.setAttribute("data-nudge-summary", "");
    out.appendChild(line);
    if (predicted !== null) {
      const gap = Math.abs(dL - predicted);
      out.appendChild(el("p", typeset(`The difference, ${num(gap)}, is the part the first-order prediction leaves out (it shrinks like h²: halve h and it drops about 4×).`), "muted"));
    }
  });
}
