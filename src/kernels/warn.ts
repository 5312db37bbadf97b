/** Whether this is Node (or a runtime that sets process.versions.node, as Bun and Deno do). */
export const isNode = typeof process === "object" && typeof process.versions?.node === "string";

/**
 * One line on stderr, written at once: Node's emitWarning would print it after the program's own output
 * and add a second line of its own. NODE_NO_WARNINGS=1 and --no-warnings silence it, as they do Node's.
 * Outside Node it goes to console.warn.
 */
export function warn(message: string): void {
  if (!isNode) {
    console.warn(`ChainruleWarning: ${message}`);
    return;
  }
  if (process.env["NODE_NO_WARNINGS"] === "1" || process.execArgv.includes("--no-warnings")) return;
  process.stderr.write(`ChainruleWarning: ${message}\n`);
}
