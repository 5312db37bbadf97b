import { writeFile } from "node:fs/promises";
import { extname } from "node:path";
import { ValueError } from "../core/errors.js";
import { FULL_VALUE_LIMIT, trace, type GraphTrace } from "../viz/capture.js";
import type { HTMLOptions } from "../viz/html.js";
import { loadExpression } from "./explain-command.js";
import { mlpStepTrace } from "./viz-mlp.js";
import { namesStepTrace } from "./viz-names.js";

/** Export formats of `chainrule viz`. */
export const VIZ_FORMATS = ["html", "dot", "json", "text"] as const;
export type VizFormat = (typeof VIZ_FORMATS)[number];

/** Options of `chainrule viz`. */
export interface VizCommandOptions {
  at?: string[];
  output?: string;
  format?: VizFormat;
  /** Trace one training step of a small MLP on MNIST digits instead of an expression. */
  mlp?: boolean;
  /** Trace one training step of the names MLP on a few names instead of an expression. */
  names?: boolean;
}

/** Where `viz --mlp` writes the page when no `-o` is given. */
export const MLP_DEFAULT_OUTPUT = "graph.html";

const BY_EXTENSION: Record<string, VizFormat> = { ".html": "html", ".htm": "html", ".dot": "dot", ".gv": "dot", ".json": "json", ".txt": "text" };

/**
 * The format for `-o file` from its extension, or undefined without `-o`.
 * @throws ValueError for an extension that names no format (e.g. graph.svg), rather than writing text into it
 */
function formatOf(output: string | undefined, format: VizFormat | undefined): VizFormat | undefined {
  if (format !== undefined || output === undefined) return format;
  const ext = extname(output).toLowerCase();
  const found = BY_EXTENSION[ext];
  if (found) return found;
  const svg = ext === ".svg" ? "; for an SVG picture: chainrule viz --format dot | dot -Tsvg > graph.svg" : "";
  throw new ValueError(`viz: cannot tell the format of ${output} from its extension ${ext ? `"${ext}"` : "(none)"}; `
    + `use one of ${Object.keys(BY_EXTENSION).join(" ")}, or pass --format ${VIZ_FORMATS.join("|")}${svg}`);
}

function render(g: GraphTrace, format: VizFormat, html: HTMLOptions): string {
  switch (format) {
    case "text": return g.toText() + "\n";
    case "dot": return g.toDot() + "\n";
    case "json": return JSON.stringify(g.toJSON(), null, 2) + "\n";
    case "html": return g.toHTML(html);
  }
}

async function write(path: string, text: string): Promise<void> {
  try {
    await writeFile(path, text);
  } catch (err) {
    throw new ValueError(`viz: cannot write ${path}: ${(err as Error).message.replace(/^\w+: /, "")}`);
  }
}

/**
 * `chainrule viz [expr] --at … [-o file] [--format html|dot|json|text]`: captures the graph (the seed
 * when no expression is given) and prints or writes it. The format defaults to the output file's
 * extension (.html .htm .dot .gv .json .txt; any other extension is an error unless --format is
 * given), else text.
 *
 * `chainrule viz --mlp [-o file] [--format …]`: one training step of a 784-16-10 MLP on 8 MNIST digits
 * (see `mlpStepTrace`), scoped by module. The format defaults to the file's extension, else html; html
 * goes to graph.html when no `-o` is given, the other formats to stdout. Writing a file prints one line.
 * @returns what to print on stdout
 * @throws ValueError when --mlp is combined with an expression or --at, the file's extension names no
 *   format and no --format is given, or the file cannot be written
 */
export async function runViz(expression: string | undefined, options: VizCommandOptions): Promise<string> {
  const fromExtension = formatOf(options.output, options.format);
  if (options.mlp && options.names) throw new ValueError("viz: --mlp and --names each trace their own model; expected one of them");
  if (options.mlp || options.names) {
    const flag = options.mlp ? "--mlp" : "--names";
    if (expression !== undefined || (options.at && options.at.length > 0)) {
      throw new ValueError(`viz: ${flag} traces its own model; got an expression or --at as well, expected one or the other`);
    }
    const format = options.format ?? fromExtension ?? "html";
    const limit = format === "html" || format === "json" ? undefined : FULL_VALUE_LIMIT;
    const step = options.mlp ? mlpStepTrace(limit) : await namesStepTrace(limit);
    const output = options.output ?? (format === "html" ? MLP_DEFAULT_OUTPUT : undefined);
    const text = render(step.graph, format, { title: options.mlp ? "chainrule: MLP training step" : "chainrule: names MLP training step" });
    if (!output) return text;
    await write(output, text);
    return `wrote ${output} (${format}, ${step.graph.nodes.length} nodes): ${step.description}\n`;
  }
  const e = loadExpression(expression, options.at);
  const format = options.format ?? fromExtension ?? "text";
  const g = trace(e.fn, e.tensors, { outputName: "L" });
  const text = render(g, format, { source: { expression: e.source, at: e.names.map((n, i) => `${n}=${e.tensors[i]!.item()}`).join(", ") } });
  if (!options.output) return text;
  await write(options.output, text);
  return `wrote ${options.output} (${format}, ${g.nodes.length} nodes)\n`;
}
