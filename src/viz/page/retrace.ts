// Re-tracing in the browser: the expression box is parsed by the CLI's own parser (jsep, whitelisted
// functions, no JavaScript evaluation) and traced by the bundled library, exactly as `chainrule viz` does.
import { compileExpression } from "../../cli/expression.js";
import { bindVariables, parseBindings } from "../../cli/bindings.js";
import { trace } from "../capture.js";
import type { GraphJSON } from "../export-json.js";

/** The source of a page's graph, when it came from an expression. */
export interface Source { expression: string; at: string }

/** A traced expression, or the error to show (with the 0-based position of a parse error, when known). */
export type RetraceResult = { ok: true; json: GraphJSON } | { ok: false; message: string; position?: number };

/** Parses `expression`, binds `at` (`x=0, y=2`), and traces it with the library in this page. */
export function retrace(expression: string, at: string): RetraceResult {
  try {
    const compiled = compileExpression(expression);
    const bound = bindVariables(compiled, parseBindings([at], "page"), "page");
    return { ok: true, json: trace(bound.fn, bound.tensors).toJSON() };
  } catch (e) {
    const err = e as Error & { position?: number };
    return { ok: false, message: err.message, ...(typeof err.position === "number" ? { position: err.position } : {}) };
  }
}
