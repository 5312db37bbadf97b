import type { GraphTrace } from "./capture.js";
import type { GraphJSON } from "./export-json.js";
import { formulaOf } from "../cli/infix.js";
// The page bundle in Node; empty under the "browser" import condition (src/package.json).
import { pageScript, PAGE_STYLE } from "#platform/page-assets";

/** Options for `toHTML`. */
export interface HTMLOptions {
  /**
   * The page title; default "chainrule: (a*b + c)^2 at a=3, b=2, c=1" from the source when given, else
   * "chainrule: L = (a·b + c)²" from the graph (its name only when the graph is too big for one formula).
   */
  title?: string;
  /** The expression and values the graph came from, prefilled in the page's input box (as `chainrule viz` passes them). */
  source?: { expression: string; at: string };
}

const escapeHTML = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

/** JSON inside `<script>`: `<` is escaped so no `</script>` or `<!--` can end the element early. */
const scriptJSON = (v: unknown): string => JSON.stringify(v).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");

/**
 * The interactive step-through page for a captured graph, as one self-contained HTML document: the
 * graph JSON (docs/graph-schema.md), the page's script (the page, dagre and chainrule itself, bundled by
 * scripts/build-page.mjs) and its style are inlined; it makes no network requests and works offline
 * from a file:// URL. The page re-traces new expressions in the browser with the bundled library.
 * Also available as `trace(...).toHTML(options)`.
 * @param graph a `trace(...)` result or its `toJSON()` document
 * @returns the HTML text (about 500 KB, mostly the bundled script)
 * @throws Error when the page bundle was not built (run `npm run build`), or in the browser build of chainrule, which leaves it out
 */
export function toHTML(graph: GraphTrace | GraphJSON, options: HTMLOptions = {}): string {
  const script = pageScript();
  if (script === "") throw new Error("toHTML: the page bundle is not here: the browser build of chainrule leaves it out (make the page in Node: `chainrule viz`, or toHTML in a script), and a source checkout builds it with `npm run build`");
  const json = "toJSON" in graph ? graph.toJSON() : graph;
  const out = json.nodes[json.output];
  const formula = out ? formulaOf({ nodes: json.nodes, output: json.output } as unknown as Parameters<typeof formulaOf>[0], 80) : null;
  const title = options.title ?? (options.source
    ? `chainrule: ${options.source.expression} at ${options.source.at}`
    : `chainrule: ${out ? `${out.name}${formula ? ` = ${formula}` : ""}` : "graph"}`);
  const source = options.source ? `\n<script type="application/json" id="chainrule-source">${scriptJSON(options.source)}</script>` : "";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeHTML(title)}</title>
<style>${PAGE_STYLE}</style>
</head>
<body>
<div id="app"><noscript>This page needs JavaScript to step through the graph.</noscript></div>
<script type="application/json" id="chainrule-graph">${scriptJSON(json)}</script>${source}
<script>${script.replace(/<\/(script)/gi, "<\\/$1")}</script>
</body>
</html>
`;
}
