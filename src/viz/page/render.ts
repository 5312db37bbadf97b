// SVG rendering of the laid-out graph, updated in place for each step, with pan and zoom.
import type { ValueSummary } from "../capture.js";
import { layoutGraph, previewHeight, textWidth, type Box, type Direction, type EdgeMember, type Layout } from "./layout.js";
import { short, typeset } from "./format.js";
import { gradLabel, tangentLabel, valueLabel } from "./labels.js";
import { edgeKey, type Graph, type Mode, type State } from "./model.js";
import { groupGraph, type Group, type Grouping } from "./groups.js";
import { drawPreview, svg } from "./preview.js";

export { short } from "./format.js";

/** The value as a string for `data-value` / `data-grad`: a scalar as its number, a tensor as JSON. */
export function attrValue(v: ValueSummary | null): string {
  if (v === null) return "0";
  if (v.shape.length === 0 && v.data) return String(v.data[0]);
  return JSON.stringify({ shape: v.shape, data: v.data, stats: v.stats });
}

function clip(s: string, width: number, px: number): string {
  const max = Math.max(3, Math.floor(width / (px * 0.6)));
  return [...s].length > max ? [...s].slice(0, max - 1).join("") + "…" : s;
}

interface NodeEls { g: SVGGElement; value: SVGTextElement | null; extra: SVGTextElement | null }
interface EdgeEls { g: SVGGElement; path: SVGPathElement; label: SVGTextElement; members: EdgeMember[] }
interface GroupEls {
  g: SVGGElement; group: Group; box: Box; value: SVGTextElement; extra: SVGTextElement; sent: SVGTextElement;
  /** Operand edges from outside into the module: in the backward pass, its gradients flow out along them. */
  outgoing: EdgeMember[];
}

/** Expanding a collapsed module (click its box) or collapsing an expanded one (click its frame's title). */
export type ScopeAction = (scope: string, action: "expand" | "collapse") => void;

/** Parts of the host covered by overlays (zoom buttons on top, legend at the bottom), which a fit avoids. */
export type Insets = () => { top: number; bottom: number };

/** How the view is drawn: its direction, what overlays cover, and full gradients of tensor inputs recomputed in the browser. */
export interface ViewOptions {
  direction?: Direction;
  insets?: Insets;
  /** Gradients of tensor inputs whose recording kept only a summary (by node id), for their heatmaps. */
  gradients?: ReadonlyMap<number, ValueSummary>;
}

/**
 * The graph drawing: one `<g data-node-id>` per node drawn on its own, one `<g data-scope>` per collapsed
 * module, one `<g data-frame>` per expanded module, and one `<g data-edge>` per drawn edge.
 */
export class GraphView {
  readonly layout: Layout;
  readonly root: SVGSVGElement;
  private readonly viewport: SVGGElement;
  private readonly nodes: (NodeEls | undefined)[] = [];
  private readonly groups: GroupEls[] = [];
  /** The collapsed module each node is drawn in, if any. */
  private readonly groupOf = new Map<number, string>();
  private readonly edges = new Map<string, EdgeEls>();
  private view = { x: 0, y: 0, k: 1 };
  /** True while the view is as `fit` left it: a resize refits then, and keeps the reader's zoom otherwise. */
  private fitted = true;
  private resize: ResizeObserver | null = null;
  private hostSize = { w: 0, h: 0 };
  private readonly insets: Insets;
  /** The screen-reader label's base of each node (`u = mul(a, b)`), completed with its value and gradient. */
  private readonly baseLabel: string[] = [];
  /** The largest |gradient| any edge carries (the mean, for tensors): edge widths are relative to it. */
  private readonly maxFlow: number;

  /**
   * @param grouping which modules are collapsed (default: none)
   * @param onScope called when a module box or frame title is clicked
   */
  constructor(private readonly host: HTMLElement, private readonly g: Graph, onSelect: (id: number) => void, grouping: Grouping = groupGraph(g, new Set()), onScope: ScopeAction = () => {}, options: ViewOptions = {}) {
    this.layout = layoutGraph(g, grouping, options.direction ?? "LR");
    this.insets = options.insets ?? (() => ({ top: 0, bottom: 0 }));
    this.maxFlow = Math.max(0, ...g.backward.flatMap((st) => st.edges.map((e) => Math.abs(meanOf(e.contribution)))).filter(Number.isFinite));
    host.replaceChildren();
    // A group, not an image: its nodes are buttons, and an image's children are hidden from assistive technology.
    this.root = svg("svg", { class: "graph", role: "group", "aria-label": "computation graph" });
    host.appendChild(this.root);
    const defs = svg("defs", {}, this.root);
    for (const [id, cls] of [["arrow", "arrow"], ["arrow-hot", "arrow hot"], ["arrow-grad", "arrow grad"]] as const) {
      const m = svg("marker", { id, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 9, markerHeight: 9, markerUnits: "userSpaceOnUse", orient: "auto-start-reverse" }, defs);
      svg("path", { d: "M0,0 L10,5 L0,10 z", class: cls }, m);
    }
    this.viewport = svg("g", { class: "viewport" }, this.root);
    const frameLayer = svg("g", { class: "frames" }, this.viewport);
    const edgeLayer = svg("g", { class: "edges" }, this.viewport);
    const nodeLayer = svg("g", { class: "nodes" }, this.viewport);
    const labelLayer = svg("g", { class: "edge-labels" }, this.viewport);
    const activate = (el: SVGGElement, act: () => void): void => {
      const go = (ev: Event): void => { ev.stopPropagation(); act(); };
      el.addEventListener("click", go);
      el.addEventListener("keydown", (ev) => { if ((ev as KeyboardEvent).key === "Enter") go(ev); });
    };
    for (const f of this.layout.frames) {
      const fg = svg("g", { class: "frame", "data-frame": f.scope, transform: `translate(${f.x - f.w / 2},${f.y - f.h / 2})` }, frameLayer);
      svg("rect", { class: "frame-box", width: f.w, height: f.h, rx: 10 }, fg);
      const title = svg("g", { class: "frame-title", tabindex: 0, role: "button", "aria-label": `Collapse module ${f.scope}` }, fg);
      svg("rect", { class: "frame-hit", x: 0, y: 0, width: Math.min(f.w, textWidth(f.label, 11) + 30), height: 18, rx: 6 }, title);
      const t = svg("text", { x: 8, y: 13, class: "frame-label" }, title);
      t.textContent = `▾ ${f.label}`;
      svg("title", {}, title).textContent = `${f.scope}: click to collapse into one box`;
      activate(title, () => onScope(f.scope, "collapse"));
    }
    for (const e of this.layout.edges) {
      const eg = svg("g", { class: "edge", "data-edge": e.key, "data-from": e.from, "data-to": e.to, ...(e.members.length > 1 ? { "data-edges": e.members.map((m) => m.key).join(" ") } : {}) }, edgeLayer);
      const path = svg("path", { d: pathOf(e.points), "marker-end": "url(#arrow)" }, eg);
      const mid = e.points[Math.floor(e.points.length / 2)] ?? { x: 0, y: 0 };
      const label = svg("text", { x: mid.x, y: mid.y - 3, class: "flow", "text-anchor": "middle" }, labelLayer);
      this.edges.set(e.key, { g: eg, path, label, members: e.members });
    }
    for (const [scope, b] of this.layout.groups) {
      const grp = b.group;
      for (const m of grp.members) this.groupOf.set(m, scope);
      const inside = new Set(grp.members);
      const outgoing: EdgeMember[] = [];
      for (const m of grp.members) g.nodes[m]!.inputs.forEach((k, j) => { if (!inside.has(k) && g.nodes[k]!.kind !== "const") outgoing.push({ key: edgeKey(m, j), from: k, to: m, input: j }); });
      const isOutput = grp.members.includes(g.output);
      const gg = svg("g", {
        class: `node group${isOutput ? " output" : ""}`, "data-scope": scope, "data-ops": grp.ops, "data-members": grp.members.length,
        transform: `translate(${b.x - b.w / 2},${b.y - b.h / 2})`, tabindex: 0, role: "button", "aria-label": `module ${scope} (${grp.ops} ops): expand`,
      }, nodeLayer);
      svg("rect", { class: "box", width: b.w, height: b.h, rx: 10 }, gg);
      svg("rect", { class: "box-inner", x: 3, y: 3, width: b.w - 6, height: b.h - 6, rx: 8 }, gg);
      const title = svg("text", { x: 12, y: 20, class: "title", "aria-hidden": "true" }, gg);
      svg("tspan", { class: "name" }, title).textContent = `${grp.label} ▸`;
      svg("tspan", { class: "op", dx: 2 }, title).textContent = " module";
      const value = svg("text", { x: 12, y: 37, class: "value", "aria-hidden": "true" }, gg);
      const extra = svg("text", { x: 12, y: 52, class: "extra", "aria-hidden": "true" }, gg);
      const sent = svg("text", { x: 12, y: 65, class: "sent", "aria-hidden": "true" }, gg);
      const out = grp.outputs.length === 1 ? g.nodes[grp.outputs[0]!]!.value : null;
      if (out && out.shape.length > 0) drawPreview(gg, out, 12, b.h - previewHeight(out) - 6, b.w - 24, previewHeight(out));
      svg("title", {}, gg).textContent = `${scope}: ${grp.ops} ops (${grp.members.map((m) => g.nodes[m]!.name).join(", ")}); click to expand`;
      activate(gg, () => onScope(scope, "expand"));
      this.groups.push({ g: gg, group: grp, box: b, value, extra, sent, outgoing });
    }
    const compact = this.layout.compact;
    for (const n of g.nodes) {
      const b = this.layout.boxes[n.id];
      this.baseLabel[n.id] = n.kind === "op" ? `${n.name} = ${n.op}(${n.inputs.map((k) => g.nodes[k]!.name).join(", ")})` : `${n.name}, ${n.kind}`;
      if (!b) {
        this.nodes.push(undefined);
        continue;
      }
      const ng = svg("g", { class: `node kind-${n.kind}${n.id === g.output ? " output" : ""}`, "data-node-id": n.id, "data-op": n.op, "data-name": n.name, transform: `translate(${b.x - b.w / 2},${b.y - b.h / 2})`, tabindex: 0, role: "button", "aria-label": this.baseLabel[n.id]! }, nodeLayer);
      svg("rect", { class: "box", width: b.w, height: b.h, rx: n.kind === "const" ? b.h / 2 : 8 }, ng);
      if (n.kind === "const") {
        const t = svg("text", { x: b.w / 2, y: b.h / 2 + 4, "text-anchor": "middle", class: "const-label", "aria-hidden": "true" }, ng);
        t.textContent = clip(n.name, b.w - 8, 11);
        this.nodes.push({ g: ng, value: null, extra: null });
      } else {
        const title = svg("text", { x: 10, y: compact ? 15 : 18, class: "title", "aria-hidden": "true" }, ng);
        svg("tspan", { class: "name" }, title).textContent = n.name;
        svg("tspan", { class: "op", dx: 2 }, title).textContent = ` ${n.kind === "input" ? "input" : n.op}`; // a real space: the text read as one reads "u mul"
        const value = svg("text", { x: 10, y: compact ? 29 : 35, class: "value", "aria-hidden": "true" }, ng);
        const extra = svg("text", { x: 10, y: compact ? 41 : 50, class: "extra", "aria-hidden": "true" }, ng);
        const gradPic = n.value.shape.length > 0 && n.kind === "input" && n.grad !== null ? options.gradients?.get(n.id) ?? n.grad : null;
        const below = gradPic ? previewHeight(gradPic) + 4 : 0;
        if (n.value.shape.length > 0) drawPreview(ng, n.value, 10, b.h - previewHeight(n.value) - 6 - below, b.w - 20, previewHeight(n.value));
        if (gradPic) {
          // The parameter's gradient as a heatmap (same colours: orange positive, blue negative), shown once the backward pass reaches it.
          const gp = svg("g", { class: "grad-preview", "aria-hidden": "true" }, ng);
          drawPreview(gp, gradPic, 10, b.h - previewHeight(gradPic) - 6, b.w - 20, previewHeight(gradPic));
          svg("title", {}, gp).textContent = `gradient ∂${g.nodes[g.output]!.name}/∂${n.name}`;
        }
        this.nodes.push({ g: ng, value, extra });
      }
      activate(ng, () => onSelect(n.id));
    }
    this.enablePanZoom();
  }

  /** Highlights the edges and nodes of the paths from an input to the output (Paths), or clears them. */
  highlightPaths(p: { edges: ReadonlySet<string>; nodes: ReadonlySet<number> } | null): void {
    this.root.classList.toggle("paths-shown", p !== null);
    for (const e of this.edges.values()) e.g.classList.toggle("on-path", p !== null && e.members.some((m) => p.edges.has(m.key)));
    this.nodes.forEach((el, id) => el?.g.classList.toggle("on-path", p !== null && p.nodes.has(id)));
  }

  /** Shows state `st`: values computed so far, gradients (reverse) or tangents (forward), the focused node and edges. */
  update(st: State, mode: Mode, selected: number | null): void {
    const L = this.g.nodes[this.g.output]!.name;
    const compact = this.layout.compact;
    for (const n of this.g.nodes) {
      const el = this.nodes[n.id];
      if (!el) continue;
      const known = st.computed.has(n.id);
      el.g.classList.toggle("pending", !known);
      el.g.classList.toggle("focus", st.focus === n.id);
      el.g.classList.toggle("selected", selected === n.id);
      if (known) el.g.setAttribute("data-value", attrValue(n.value));
      else el.g.removeAttribute("data-value");
      const gs = mode === "reverse" ? st.grads.get(n.id) : undefined;
      if (gs) el.g.setAttribute("data-grad", attrValue(gs.value));
      else el.g.removeAttribute("data-grad");
      el.g.classList.toggle("has-grad", !!gs);
      el.g.classList.toggle("accumulating", !!gs && gs.arrival < gs.arrivals);
      const hasT = mode === "forward" && st.tangents.has(n.id) && (n.kind !== "op" || known);
      const t = hasT ? st.tangents.get(n.id) ?? null : undefined;
      if (t !== undefined) el.g.setAttribute("data-tangent", attrValue(t));
      else el.g.removeAttribute("data-tangent");
      // What a screen reader says on reaching the node: what it is, and what is known of it at this step.
      const said = [this.baseLabel[n.id]!, known ? `value ${short(n.value)}` : "value not computed yet"];
      if (gs) said.push(`gradient ∂${L}/∂${n.name} = ${short(gs.value)}${gs.arrival < gs.arrivals ? ` so far (${gs.arrival} of ${gs.arrivals} contributions)` : ""}`);
      if (t !== undefined) said.push(`tangent d${n.name} = ${short(t)}`);
      if (!el.value || !el.extra) {
        el.g.setAttribute("aria-label", said.join("; "));
        continue;
      }
      // Each line starts with a space (collapsed when drawn) so that the box's text, read as one, keeps its
      // words apart: "u mul = 6 ∂L/∂u = 14", the start of its accessible name.
      el.value.textContent = ` ${valueLabel(known ? n.value : null)}`;
      let extra = "";
      el.extra.setAttribute("class", "extra");
      if (gs) {
        extra = gradLabel(L, n.name, gs.value, gs.arrival, gs.arrivals, compact);
        el.extra.setAttribute("class", "extra grad");
      } else if (t !== undefined) {
        extra = tangentLabel(n.name, t);
        el.extra.setAttribute("class", "extra tangent");
      }
      el.extra.textContent = extra && ` ${extra}`;
      // The name starts with the box's visible text (so speech input can say what it sees), then the details.
      const visible = [n.name, n.kind === "input" ? "input" : n.op, el.value.textContent.trim(), extra].filter((x) => x).join(" ");
      el.g.setAttribute("aria-label", `${visible} (${said.join("; ")})`);
    }
    for (const grp of this.groups) this.updateGroup(grp, st, mode);
    const focus = new Set(st.focusEdges);
    for (const e of this.edges.values()) {
      // A merged edge shows its focused member, else the last one that carried something.
      const hotMember = e.members.find((m) => focus.has(m.key));
      const hot = hotMember !== undefined;
      const carried = e.members.filter((m) => st.flows.has(m.key));
      const shown = hotMember ?? carried[carried.length - 1] ?? e.members[0]!;
      const flow = mode === "reverse" ? st.flows.get(shown.key) : undefined;
      // Forward mode: an edge into a computed op carries its operand's tangent.
      const tangent = mode === "forward" && st.computed.has(shown.to) && this.g.nodes[shown.to]!.kind === "op" ? st.tangents.get(shown.from) : undefined;
      e.g.classList.toggle("focus", hot);
      e.g.classList.toggle("backward", mode === "reverse" && hot && flow !== undefined);
      e.g.classList.toggle("carried", flow !== undefined);
      e.g.classList.toggle("tangent", tangent !== undefined && tangent !== null);
      // The backward step's edge points the other way: the gradient flows from consumer to operand.
      const back = mode === "reverse" && hot && flow !== undefined;
      e.path.setAttribute("marker-end", back ? "" : hot ? "url(#arrow-hot)" : "url(#arrow)");
      e.path.setAttribute("marker-start", back ? "url(#arrow-grad)" : "");
      e.label.textContent = flow !== undefined ? short(flow) : tangent ? short(tangent) : "";
      // Colour and width by the gradient carried: orange positive, blue negative, wider for larger |value|.
      const carried1 = flow !== undefined ? meanOf(flow) : null;
      if (carried1 !== null && this.maxFlow > 0) {
        const size = Math.min(1, Math.abs(carried1) / this.maxFlow);
        e.path.style.stroke = !Number.isFinite(carried1) ? "#7e22ce" : carried1 < 0 ? "var(--neg)" : "var(--grad)";
        e.path.style.strokeWidth = String(1.2 + 4.8 * Math.sqrt(size));
        e.g.setAttribute("data-sign", carried1 < 0 ? "-" : carried1 > 0 ? "+" : "0");
      } else {
        e.path.style.stroke = "";
        e.path.style.strokeWidth = "";
        e.g.removeAttribute("data-sign");
      }
      e.label.setAttribute("class", `flow${flow !== undefined ? " grad" : tangent ? " tangent" : ""}${hot ? " hot" : ""}`);
    }
  }

  /** The scale `fit` would use to show the whole graph in the visible area (uncapped). */
  fitScale(): number {
    const r = this.host.getBoundingClientRect();
    const { top, bottom } = this.insets();
    const w = r.width || 800, h = Math.max(40, (r.height || 500) - top - bottom);
    return Math.min(w / (this.layout.width || 1), h / (this.layout.height || 1)) * 0.95;
  }

  /** Scales and centres the whole graph in the visible area, clear of the overlays. */
  fit(): void {
    const r = this.host.getBoundingClientRect();
    const { top, bottom } = this.insets();
    const w = r.width || 800, h = Math.max(40, (r.height || 500) - top - bottom);
    const k = Math.min(1.8, this.fitScale());
    this.view = { k, x: (w - this.layout.width * k) / 2, y: top + (h - this.layout.height * k) / 2 };
    this.fitted = true;
    this.apply();
  }

  /** The current zoom factor (1 = the layout's own size). */
  get scale(): number {
    return this.view.k;
  }

  /**
   * Follows the host's size: refits while the view is as a fit left it (the side panel and fonts settle
   * after the first fit, a phone rotates), else keeps the reader's zoom and the point at the centre.
   */
  watchSize(): void {
    if (typeof ResizeObserver === "undefined" || this.resize) return;
    const r0 = this.host.getBoundingClientRect();
    this.hostSize = { w: r0.width, h: r0.height };
    const ro = new ResizeObserver(() => {
      const r = this.host.getBoundingClientRect();
      if (r.width === 0 || r.height === 0 || (r.width === this.hostSize.w && r.height === this.hostSize.h)) return;
      const dw = r.width - this.hostSize.w, dh = r.height - this.hostSize.h;
      this.hostSize = { w: r.width, h: r.height };
      if (this.fitted) this.fit();
      else {
        this.view = { ...this.view, x: this.view.x + dw / 2, y: this.view.y + dh / 2 };
        this.apply();
      }
    });
    ro.observe(this.host);
    this.resize = ro;
  }

  /** Stops following the host (the view is being replaced). */
  dispose(): void {
    this.resize?.disconnect();
  }

  /** Zooms by `factor` around the host point (cx, cy), or the centre. */
  zoom(factor: number, cx?: number, cy?: number): void {
    const r = this.host.getBoundingClientRect();
    const px = cx ?? r.width / 2, py = cy ?? r.height / 2;
    const k = Math.max(0.05, Math.min(8, this.view.k * factor));
    const f = k / this.view.k;
    this.view = { k, x: px - (px - this.view.x) * f, y: py - (py - this.view.y) * f };
    this.fitted = false;
    this.apply();
  }

  /** Brings node `id` (or the module box it is drawn in) into view (when zoomed in on a large graph). */
  reveal(id: number): void {
    const scope = this.groupOf.get(id);
    const b = scope !== undefined ? this.layout.groups.get(scope) : this.layout.boxes[id];
    if (!b) return;
    const r = this.host.getBoundingClientRect();
    const sx = b.x * this.view.k + this.view.x, sy = b.y * this.view.k + this.view.y;
    if (sx > 20 && sx < r.width - 20 && sy > 20 && sy < r.height - 20) return;
    this.view = { ...this.view, x: r.width / 2 - b.x * this.view.k, y: r.height / 2 - b.y * this.view.k };
    this.apply();
  }

  /**
   * A module box after a step: how many of its ops have run and its output's value; in reverse mode the
   * gradient that reached its output and the operands it has sent gradients to; in forward mode its tangent.
   */
  private updateGroup(el: GroupEls, st: State, mode: Mode): void {
    const { group: grp, box: b } = el;
    const L = this.g.nodes[this.g.output]!.name;
    const ops = grp.members.filter((m) => this.g.nodes[m]!.kind === "op");
    const done = ops.filter((m) => st.computed.has(m)).length;
    const out = grp.outputs.length === 1 ? this.g.nodes[grp.outputs[0]!]! : null;
    const known = done === ops.length;
    el.g.classList.toggle("pending", done === 0);
    el.g.classList.toggle("focus", st.focus !== null && grp.members.includes(st.focus));
    if (known && out) el.g.setAttribute("data-value", attrValue(out.value));
    else el.g.removeAttribute("data-value");
    const plural = (k: number): string => `${k} op${k === 1 ? "" : "s"}`;
    el.value.textContent = " " + (known ? `${plural(ops.length)}${out ? ` = ${short(out.value)}` : ""}` : `${done}/${plural(ops.length)} run`);
    const gs = mode === "reverse" ? grp.outputs.map((o) => st.grads.get(o)).find((x) => x !== undefined) : undefined;
    if (gs) el.g.setAttribute("data-grad", attrValue(gs.value));
    else el.g.removeAttribute("data-grad");
    el.g.classList.toggle("has-grad", !!gs);
    const t = mode === "forward" && known && out ? st.tangents.get(out.id) : undefined;
    if (t !== undefined) el.g.setAttribute("data-tangent", attrValue(t));
    else el.g.removeAttribute("data-tangent");
    el.extra.setAttribute("class", gs ? "extra grad" : t !== undefined ? "extra tangent" : "extra");
    el.extra.textContent = gs ? ` ∂${L}/∂out = ${short(gs.value)}` : t !== undefined ? ` d out = ${short(t)}` : "";
    // Named as drawn: a receiver inside another collapsed module is that module.
    const drawnAs = (id: number): string => {
      const scope = this.groupOf.get(id);
      return scope === undefined ? this.g.nodes[id]!.name : scope.slice(scope.lastIndexOf("/") + 1);
    };
    const sentTo = mode === "reverse" ? el.outgoing.filter((m) => st.flows.has(m.key)).map((m) => drawnAs(m.from)) : [];
    el.sent.textContent = sentTo.length ? ` ∇ out → ${[...new Set(sentTo)].join(", ")}` : "";
    const visible = [`${grp.label} ▸ module`, el.value.textContent, el.extra.textContent, el.sent.textContent].map((x) => x.trim()).filter((x) => x).join(" ");
    el.g.setAttribute("aria-label", `${visible} (module ${grp.scope}, ${plural(ops.length)}: click to expand)`);
    el.g.setAttribute("data-sent", String(sentTo.length));
  }

  private apply(): void {
    this.viewport.setAttribute("transform", `translate(${this.view.x},${this.view.y}) scale(${this.view.k})`);
    // Below this scale the edge labels overlap into noise; the focused one stays.
    this.root.classList.toggle("far", this.view.k < 0.55);
  }

  private enablePanZoom(): void {
    this.root.addEventListener("wheel", (ev) => {
      ev.preventDefault();
      const r = this.host.getBoundingClientRect();
      this.zoom(Math.exp(-ev.deltaY * 0.0015), ev.clientX - r.left, ev.clientY - r.top);
    }, { passive: false });
    let drag: { x: number; y: number; vx: number; vy: number } | null = null;
    this.root.addEventListener("pointerdown", (ev) => {
      if ((ev.target as Element).closest(".node, .frame-title")) return; // a drag would capture the pointer and swallow their click
      drag = { x: ev.clientX, y: ev.clientY, vx: this.view.x, vy: this.view.y };
      this.root.setPointerCapture(ev.pointerId);
      this.root.classList.add("dragging");
    });
    this.root.addEventListener("pointermove", (ev) => {
      if (!drag) return;
      this.view = { ...this.view, x: drag.vx + ev.clientX - drag.x, y: drag.vy + ev.clientY - drag.y };
      this.fitted = false;
      this.apply();
    });
    const end = (): void => { drag = null; this.root.classList.remove("dragging"); };
    this.root.addEventListener("pointerup", end);
    this.root.addEventListener("pointercancel", end);
  }
}

/** A value's mean (a scalar's value): what an edge's colour and width show for a tensor. */
function meanOf(v: ValueSummary): number {
  if (v.data) return v.data.length ? v.data.reduce((a, b) => a + b, 0) / v.data.length : 0;
  return v.stats!.mean;
}

/** A smooth path through dagre's points (quadratic segments between midpoints). */
function pathOf(points: readonly { x: number; y: number }[]): string {
  if (points.length === 0) return "";
  const f = (n: number): string => n.toFixed(1);
  let d = `M${f(points[0]!.x)},${f(points[0]!.y)}`;
  for (let i = 1; i < points.length - 1; i++) {
    const p = points[i]!, q = points[i + 1]!;
    d += ` Q${f(p.x)},${f(p.y)} ${f((p.x + q.x) / 2)},${f((p.y + q.y) / 2)}`;
  }
  const last = points[points.length - 1]!;
  return d + ` L${f(last.x)},${f(last.y)}`;
}

