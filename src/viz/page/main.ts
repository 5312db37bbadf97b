// Entry point of the page bundle: reads the graph embedded by `toHTML` and starts the app. With no
// embedded graph (or an expression only), the page traces in the browser with the bundled library.
import type { GraphJSON } from "../export-json.js";
import { App } from "./app.js";
import { retrace, type Source } from "./retrace.js";

/** Ids of the JSON script elements `toHTML` writes. */
export const GRAPH_ELEMENT_ID = "chainrule-graph";
export const SOURCE_ELEMENT_ID = "chainrule-source";

const DEFAULT_SOURCE: Source = { expression: "(a*b + c)^2", at: "a=3, b=2, c=1" };

function readJSON<T>(id: string): T | null {
  const text = document.getElementById(id)?.textContent?.trim();
  return text ? (JSON.parse(text) as T) : null;
}

function start(): void {
  const root = document.getElementById("app") ?? document.body.appendChild(document.createElement("div"));
  root.id = "app";
  const app = new App(root);
  const source = readJSON<Source>(SOURCE_ELEMENT_ID) ?? undefined;
  let graph = readJSON<GraphJSON>(GRAPH_ELEMENT_ID);
  const src = source ?? (graph ? undefined : DEFAULT_SOURCE);
  if (!graph) {
    const r = retrace(src!.expression, src!.at);
    if (!r.ok) throw new Error(`page: cannot trace ${JSON.stringify(src!.expression)}: ${r.message}`);
    graph = r.json;
  }
  app.load(graph, src);
  app.measureLater();
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
