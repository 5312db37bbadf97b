// The page controller: builds the controls, owns the state (graph, mode, step, selection) and redraws.
import type { GraphJSON } from "../export-json.js";
import type { ModesRow } from "../modes.js";
import { measureModes, renderModes } from "./chart.js";
import { explain } from "./explain.js";
import { renderInspector, type InspectorUpdate } from "./inspector.js";
import { decodeGraph, stateAt, timeline, type Graph, type Mode, type Step } from "./model.js";
import { GraphView, short } from "./render.js";
import { typeset } from "./format.js";
import { pathsFrom } from "./paths.js";
import { renderNudge } from "./nudge-panel.js";
import { renderDescend } from "./descend-panel.js";
import { replayInputGradients } from "./replay.js";
import { COMPACT_ABOVE } from "./layout.js";
import { collapseAll, collapseScope, expandScope, groupGraph, scopePaths } from "./groups.js";
import { retrace, type Source } from "./retrace.js";

/** Milliseconds between steps when playing. */
const PLAY_INTERVAL = 900;

/** Below this zoom a fitted graph's text is too small to read (its 11–12 px labels shrink under ~8 px). */
const READABLE_SCALE = 0.7;

/** Graph areas narrower than this (a phone held upright) get a top-to-bottom layout. */
const NARROW = 640;

function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v);
  }
  e.append(...children);
  return e;
}

/**
 * The page: header with the re-trace form, the mode and step controls, the graph, and the side panel
 * (explanation, inspector, reverse-vs-forward chart). `load` shows a graph; all drawing goes through `go`.
 */
export class App {
  private graph!: Graph;
  private view!: GraphView;
  private steps: Step[] = [];
  private mode: Mode = "reverse";
  private wrt: number | null = null;
  private k = 0;
  private selected: number | null = null;
  private timer: number | null = null;
  private modesRows: ModesRow[] | null = null;
  /** Shows the current step in the open inspector (gradients only once the backward pass reached the node). */
  private inspectorUpdate: InspectorUpdate | null = null;
  /** Modules drawn as one box (scope paths; see groups.ts). */
  private collapsed = new Set<string>();
  /** The expression the graph on screen came from (undefined for an embedded graph). */
  private source: Source | undefined;
  private zoomBar!: HTMLElement;
  /** Full gradients of parameters whose recording kept a summary, recomputed here for their heatmaps. */
  private gradients = new Map<number, import("../capture.js").ValueSummary>();
  private legend!: HTMLElement;

  private readonly els = {
    expr: h("input", { "aria-label": "Expression", spellcheck: "false", autocomplete: "off", placeholder: "(a*b + c)^2" }),
    at: h("input", { "aria-label": "Values", spellcheck: "false", autocomplete: "off", placeholder: "a=3, b=2, c=1" }),
    error: h("p", { class: "error", role: "alert" }),
    warning: h("p", { class: "warning", role: "status" }),
    /** Announces each step to screen readers (the visible explanation is too long to read out at every key press). */
    status: h("p", { class: "sr-only", role: "status", "aria-live": "polite", "aria-atomic": "true" }),
    origin: h("p", { class: "origin muted", "data-origin": "embedded" }),
    graphHost: h("div", { class: "graph-host" }),
    title: h("h2", { class: "step-title" }),
    prose: h("p", { class: "prose" }),
    math: h("div", { class: "math-block" }),
    inspector: h("section", { class: "inspector", "aria-label": "Node inspector" }),
    modes: h("div", { class: "modes-body" }),
    nudge: h("section", { class: "nudge", "aria-label": "Nudge" }),
    descend: h("section", { class: "descend", "aria-label": "Descend" }),
    reset: h("button", { type: "button", "aria-label": "Reset", title: "Reset (Home)" }, "↺ Reset"),
    back: h("button", { type: "button", "aria-label": "Previous", title: "Previous step (←)" }, "◀ Previous"),
    play: h("button", { type: "button", "aria-label": "Play", title: "Play / Pause (space)", class: "primary" }, "▶ Play"),
    fwd: h("button", { type: "button", "aria-label": "Next", title: "Next step (→)" }, "Next ▶"),
    slider: h("input", { type: "range", min: "0", max: "0", value: "0", "aria-label": "Step" }),
    counter: h("span", { class: "counter" }),
    modeReverse: h("button", { type: "button", class: "seg", "aria-pressed": "true" }, "Reverse mode"),
    modeForward: h("button", { type: "button", class: "seg", "aria-pressed": "false" }, "Forward mode"),
    wrt: h("select", { "aria-label": "Tangent with respect to" }),
    collapse: h("button", { type: "button", class: "collapse", "aria-pressed": "false", title: "Draw each module (nameScope, nn layers) as one box; click a box to open it" }, "Collapse modules"),
  };

  constructor(root: HTMLElement) {
    const e = this.els;
    const form = h("form", { class: "retrace" },
      h("label", {}, h("span", { text: "f =" }), e.expr),
      h("label", {}, h("span", { text: "at" }), e.at),
      h("button", { type: "submit", class: "primary" }, "Trace"));
    form.addEventListener("submit", (ev) => { ev.preventDefault(); this.retrace(); });
    const header = h("header", {},
      h("h1", {}, "chainrule ", h("span", { text: "step through the chain rule" })),
      form);
    const modeBar = h("div", { class: "segmented", role: "group", "aria-label": "Mode" }, e.modeReverse, e.modeForward);
    const controls = h("div", { class: "controls" },
      modeBar, h("label", { class: "wrt" }, h("span", { text: "∂·/∂" }), e.wrt),
      h("div", { class: "transport" }, e.reset, e.back, e.play, e.fwd), e.slider, e.counter);
    const zoom = h("div", { class: "zoom" },
      e.collapse,
      h("button", { type: "button", "aria-label": "Zoom in" }, "+"),
      h("button", { type: "button", "aria-label": "Zoom out" }, "−"),
      h("button", { type: "button", "aria-label": "Fit graph" }, "Fit"));
    const [, zin, zout, zfit] = Array.from(zoom.children) as HTMLButtonElement[];
    this.zoomBar = zoom;
    e.collapse.addEventListener("click", () => this.setCollapsed(this.collapsed.size > 0 ? new Set() : collapseAll(this.graph)));
    zin!.addEventListener("click", () => this.view.zoom(1.25));
    zout!.addEventListener("click", () => this.view.zoom(0.8));
    zfit!.addEventListener("click", () => this.view.fit());
    const legend = this.legend = h("div", { class: "legend" },
      h("span", { class: "key value", text: "value" }), h("span", { class: "key grad", text: "gradient + " }), h("span", { class: "key neg", text: "gradient − (edge width: its size)" }), h("span", { class: "key tangent", text: "tangent (forward)" }),
      h("span", { class: "muted", text: "drag to pan · wheel to zoom · click a node to inspect" }));
    const stage = h("section", { class: "stage" }, e.graphHost, zoom, legend);
    const explainBox = h("section", { class: "explain", "aria-label": "Explanation" }, e.title, e.prose, e.math);
    const modes = h("section", { class: "modes", "aria-label": "Reverse vs forward" }, h("h2", { text: "Reverse vs forward" }), e.modes);
    e.inspector.hidden = true;
    const side = h("aside", {}, explainBox, e.inspector, e.nudge, e.descend, modes);
    e.origin.hidden = true;
    e.warning.hidden = true;
    root.replaceChildren(header, e.origin, e.error, e.warning, controls, h("main", {}, stage, side), e.status);

    e.reset.addEventListener("click", () => { this.pause(); this.go(0); });
    e.back.addEventListener("click", () => { this.pause(); this.go(this.k - 1); });
    e.fwd.addEventListener("click", () => { this.pause(); this.go(this.k + 1); });
    e.play.addEventListener("click", () => (this.timer === null ? this.play() : this.pause()));
    e.slider.addEventListener("input", () => { this.pause(); this.go(Number(e.slider.value)); });
    e.modeReverse.addEventListener("click", () => this.setMode("reverse"));
    e.modeForward.addEventListener("click", () => this.setMode("forward"));
    e.wrt.addEventListener("change", () => { this.wrt = Number(e.wrt.value); this.rebuild(0); });
    document.addEventListener("keydown", (ev) => {
      const t = ev.target as HTMLElement;
      if (t.closest("input, select, textarea") || ev.altKey || ev.ctrlKey || ev.metaKey) return;
      if (ev.key === "ArrowRight") { this.pause(); this.go(this.k + 1); }
      else if (ev.key === "ArrowLeft") { this.pause(); this.go(this.k - 1); }
      else if (ev.key === "Home") { this.pause(); this.go(0); }
      else if (ev.key === "End") { this.pause(); this.go(this.steps.length - 1); }
      else if (ev.key === " " && !t.closest("button")) { if (this.timer === null) this.play(); else this.pause(); }
      else return;
      ev.preventDefault();
    });
  }

  /** Shows a recorded graph (from the embedded JSON or a browser re-trace). */
  load(json: GraphJSON, source?: Source): void {
    this.pause();
    this.graph = decodeGraph(json);
    this.gradients = replayInputGradients(this.graph);
    this.source = source;
    this.showSource(source);
    this.showWarning();
    if (source) document.title = `chainrule: ${source.expression} at ${source.at}`;
    this.selected = null;
    this.inspectorUpdate = null;
    this.els.inspector.hidden = true;
    // Large graphs with modules open collapsed: a few boxes to start from instead of hundreds of nodes.
    const scoped = scopePaths(this.graph).length > 0;
    this.collapsed = scoped && this.graph.nodes.length > COMPACT_ABOVE ? collapseAll(this.graph) : new Set();
    this.els.collapse.hidden = !scoped;
    this.draw();
    // So do graphs with modules that would be too small to read when fitted (the viz --mlp step at 1400×900).
    if (scoped && this.collapsed.size === 0 && this.view.fitScale() < READABLE_SCALE) {
      this.collapsed = collapseAll(this.graph);
      this.draw();
    }
    this.els.wrt.replaceChildren(...this.graph.forward.map((s) => h("option", { value: String(s.wrt) }, this.graph.nodes[s.wrt]!.name)));
    this.wrt = this.graph.forward[0]?.wrt ?? null;
    this.els.modeForward.disabled = this.wrt === null;
    this.mode = "reverse";
    this.rebuild(0);
    this.view.fit();
    renderModes(this.els.modes, this.graph, this.modesRows);
    renderNudge(this.els.nudge, this.graph);
    renderDescend(this.els.descend, this.source);
  }

  /**
   * The re-trace box: the expression and values the graph came from, or, for a graph embedded without
   * one (`viz --mlp`, `trace(f, …).toHTML()`), empty boxes with an example as placeholder and a note
   * naming the graph, so that the seed's example is not mistaken for this graph's formula.
   */
  private showSource(source: Source | undefined): void {
    const e = this.els;
    if (source) {
      e.expr.value = source.expression;
      e.at.value = source.at;
      e.origin.hidden = true;
      return;
    }
    e.expr.value = "";
    e.at.value = "";
    e.expr.placeholder = "type an expression to trace instead, e.g. sin(x)*y";
    e.at.placeholder = "x=0, y=2";
    const title = document.title.replace(/^chainrule:\s*/, "").trim();
    e.origin.textContent = `Showing ${title ? `“${title}”` : "an embedded graph"}, not traced from an expression.`;
    e.origin.hidden = false;
  }

  /**
   * Warns when a value is not finite although its operands are (log of a negative number, 0/0): every value
   * and gradient downstream of it is NaN or meaningless, and the page says where it started.
   */
  private showWarning(): void {
    const g = this.graph;
    const finite = (v: typeof g.nodes[number]["value"]): boolean => (v.data ? v.data.every(Number.isFinite) : [v.stats!.min, v.stats!.max].every(Number.isFinite));
    const first = g.nodes.find((n) => n.kind === "op" && !finite(n.value) && n.inputs.every((k) => finite(g.nodes[k]!.value)));
    const w = this.els.warning;
    w.hidden = !first;
    if (!first) {
      w.textContent = "";
      return;
    }
    const operands = first.inputs.map((k) => `${g.nodes[k]!.name} = ${short(g.nodes[k]!.value)}`).join(", ");
    const L = g.nodes[g.output]!;
    const what = first.value.data?.some(Number.isNaN) || (first.value.stats && Number.isNaN(first.value.stats.mean)) ? "NaN" : "infinite";
    w.textContent = typeset(`⚠ ${first.name} = ${first.op}(${first.inputs.map((k) => g.nodes[k]!.name).join(", ")}) is ${what} at ${operands}: outside ${first.op}'s domain. ` +
      `${first.id === L.id ? "" : `${L.name} = ${short(L.value)} depends on it, so `}the values and gradients after it carry no meaning.`);
  }

  /** Lays out and draws the graph with the current collapsed modules. */
  private draw(): void {
    this.view?.dispose();
    const host = this.els.graphHost;
    const direction = host.clientWidth > 0 && host.clientWidth < NARROW ? "TB" : "LR";
    // The zoom buttons (top) and the legend (bottom) float over the graph: a fit keeps nodes clear of them.
    const insets = (): { top: number; bottom: number } => {
      const r = host.getBoundingClientRect();
      const z = this.zoomBar.getBoundingClientRect(), l = this.legend.getBoundingClientRect();
      return { top: Math.max(0, z.bottom - r.top + 4), bottom: Math.max(0, r.bottom - l.top + 4) };
    };
    this.view = new GraphView(host, this.graph, (id) => this.select(id), groupGraph(this.graph, this.collapsed), (scope, action) => {
      this.setCollapsed(action === "expand" ? expandScope(this.graph, this.collapsed, scope) : collapseScope(this.collapsed, scope));
    }, { direction, insets, gradients: this.gradients });
    this.view.watchSize();
    const any = this.collapsed.size > 0;
    this.els.collapse.textContent = any ? "Expand modules" : "Collapse modules";
    this.els.collapse.setAttribute("aria-pressed", String(any));
  }

  /** Redraws with other modules collapsed, keeping the step. */
  private setCollapsed(next: Set<string>): void {
    this.collapsed = next;
    this.draw();
    this.view.fit();
    this.go(this.k);
  }

  /** Runs the in-browser reverse-vs-forward measurement once, after the page is drawn. */
  measureLater(): void {
    measureModes((rows) => {
      this.modesRows = rows;
      renderModes(this.els.modes, this.graph, rows);
    });
  }

  private retrace(): void {
    const r = retrace(this.els.expr.value, this.els.at.value);
    if (!r.ok) {
      const at = r.position !== undefined ? `\n${this.els.expr.value}\n${" ".repeat(r.position)}^` : "";
      // The boxes keep what was typed (to fix it); the note says what the graph still shows.
      const named = document.title.replace(/^chainrule:\s*/, "").trim();
      const still = this.source ? `f = ${this.source.expression} at ${this.source.at}` : named ? `“${named}”` : "the embedded graph";
      this.els.error.textContent = `${r.message}${at}\nThe graph below still shows ${still}.`;
      return;
    }
    this.els.error.textContent = "";
    this.load(r.json, { expression: this.els.expr.value, at: this.els.at.value });
  }

  private setMode(mode: Mode): void {
    if (mode === "forward" && this.wrt === null) return;
    this.mode = mode;
    this.rebuild(0);
  }

  private rebuild(k: number): void {
    this.pause();
    this.steps = timeline(this.graph, this.mode);
    this.els.slider.max = String(this.steps.length - 1);
    this.els.modeReverse.setAttribute("aria-pressed", String(this.mode === "reverse"));
    this.els.modeForward.setAttribute("aria-pressed", String(this.mode === "forward"));
    this.els.wrt.parentElement!.hidden = this.mode !== "forward";
    if (this.selected !== null) this.showInspector();
    this.go(k);
  }

  private go(k: number): void {
    this.k = Math.max(0, Math.min(this.steps.length - 1, k));
    const sweep = this.mode === "forward" ? this.graph.forward.find((s) => s.wrt === this.wrt) ?? null : null;
    const st = stateAt(this.graph, this.steps, this.k, sweep);
    this.view.update(st, this.mode, this.selected);
    if (st.focus !== null) this.view.reveal(st.focus);
    this.inspectorUpdate?.(st, this.k === this.steps.length - 1);
    const ex = explain(this.graph, this.steps, this.k, st, this.mode, this.wrt);
    this.els.title.textContent = typeset(ex.title);
    this.els.prose.textContent = typeset(ex.prose);
    this.els.math.replaceChildren(...ex.math.map((m) => h("div", { class: "math", text: typeset(m) })));
    this.els.status.textContent = typeset(`Step ${this.k} of ${this.steps.length - 1}. ${ex.title}. ${ex.math.join(". ")}`);
    this.els.slider.value = String(this.k);
    this.els.counter.textContent = `step ${this.k} / ${this.steps.length - 1}`;
    this.els.back.disabled = this.k === 0;
    this.els.reset.disabled = this.k === 0;
    this.els.fwd.disabled = this.k === this.steps.length - 1;
    document.body.dataset.step = String(this.k);
    document.body.dataset.mode = this.mode;
    document.body.dataset.phase = this.steps[this.k]!.kind;
  }

  private select(id: number): void {
    this.selected = id;
    // Paths: an input's every path to the output lights up, and the inspector sums over them.
    this.view.highlightPaths(this.graph.nodes[id]!.kind === "input" ? pathsFrom(this.graph, id) : null);
    this.showInspector();
    this.go(this.k);
    // On a narrow screen or beside a long explanation the inspector opens below the fold.
    // Its top when it is taller than the window (a phone), else just enough to show it whole.
    const tall = this.els.inspector.getBoundingClientRect().height > window.innerHeight * 0.8;
    this.els.inspector.scrollIntoView({ block: tall ? "start" : "nearest" });
  }

  private showInspector(): void {
    this.els.inspector.hidden = false;
    this.inspectorUpdate = renderInspector(this.els.inspector, this.graph, this.selected!, this.mode, this.wrt, (id) => this.select(id));
  }

  private play(): void {
    if (this.k >= this.steps.length - 1) this.go(0);
    this.setPlayLabel(true);
    this.timer = window.setInterval(() => {
      if (this.k >= this.steps.length - 1) this.pause();
      else this.go(this.k + 1);
    }, PLAY_INTERVAL);
  }

  private pause(): void {
    if (this.timer !== null) window.clearInterval(this.timer);
    this.timer = null;
    this.setPlayLabel(false);
  }

  private setPlayLabel(playing: boolean): void {
    this.els.play.textContent = playing ? "⏸ Pause" : "▶ Play";
    this.els.play.setAttribute("aria-label", playing ? "Pause" : "Play");
  }
}
