import { writeFile } from "node:fs/promises";
import { extname } from "node:path";
import { ValueError } from "../core/errors.js";
import { trace, type GraphTrace } from "../viz/capture.js";
import type { HTMLOptions } from "../viz/html.js";
import { loadExpression } from "./explain-command.js";

/** Export formats of `chainrule viz`. */
export const VIZ_FORMATS = ["html", "dot", "json", "text"] as const;
export type VizFormat = (typeof VIZ_FORMATS)[number];

/** Options of `chainrule viz`. */
export interface VizCommandOptions {
  at?: string[];
  output?: string;
  format?: VizFormat;
}

const BY_EXTENSION: Record<string, VizFormat> = { ".html": "html", ".htm": "html", ".dot": "dot", ".gv": "dot", ".json": "json", ".txt": "text" };

function render(g: GraphTrace, format: VizFormat, source: HTMLOptions["source"]): string {
  switch (format) {
    case "text": return g.toText() + "\n";
    case "dot": return g.toDot() + "\n";
    case "json": return JSON.stringify(g.toJSON(), null, 2) + "\n";
    case "html": return g.toHTML({ source });
  }
}

/**
 * `chainrule viz [expr] --at … [-o file] [--format html|dot|json|text]`: captures the graph (the seed
 * when no expression is given) and prints or writes it. The format defaults to the output file's
 * extension, else text.
 * @returns what to print on stdout
 */
export async function runViz(expression: string | undefined, options: VizCommandOptions): Promise<string> {
  const e = loadExpression(expression, options.at);
  const format = options.format ?? (options.output ? BY_EXTENSION[extname(options.output).toLowerCase()] : undefined) ?? "text";
  const g = trace(e.fn, e.tensors, { outputName: "L" });
  const text = render(g, format, { expression: e.source, at: e.names.map((n, i) => `${n}=${e.tensors[i]!.item()}`).join(", ") });
  if (!options.output) return text;
  try {
    await writeFile(options.output, text);
  } catch (err) {
    throw new ValueError(`viz: cannot write ${options.output}: ${(err as Error).message.replace(/^\w+: /, "")}`);
  }
  return `wrote ${options.output} (${format}, ${g.nodes.length} nodes)\n`;
}
