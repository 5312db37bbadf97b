import { readFileSync } from "node:fs";
import { Command, CommanderError, Option } from "commander";
import { ChainruleError, ParseError, ValueError } from "../core/errors.js";
import { runExplain } from "./explain-command.js";
import { runGrad } from "./grad-command.js";
import { runViz, VIZ_FORMATS, type VizFormat } from "./viz-command.js";
import { registerModesCommand } from "./modes-command.js";
import { registerExportCommand } from "./export-command.js";
import { registerTrainCommands } from "./train-command.js";
import { registerNamesCommands } from "./names-command.js";
import { registerInfoCommand } from "./info-command.js";
import { colorFor, makeStyle, type Style } from "./style.js";

/** Exit status for bad input of any kind (syntax, unknown names, bad options), as is usual for CLIs. */
const USAGE = 2;

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version?: string };
    return pkg.version ?? "0.0.0";
  } catch {
    return "0.0.0";
  }
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** Commander's messages as one line: `chainrule: unknown command 'gard' (did you mean grad?)`. */
function commanderLine(text: string): string {
  let s = text.trim().replace(/^error:\s*/, "").replace(/\n\(Did you mean (.*)\?\)/, " (did you mean $1?)").replace(/\s*\n\s*/g, " ").replace(/\.$/, "");
  const flag = /^unknown option '(.*)'/.exec(s)?.[1];
  // An expression such as -x^2 looks like an option to any argument parser.
  if (flag && /[^A-Za-z-]/.test(flag)) return `chainrule: unknown option '${flag}'; to pass an expression that starts with -, wrap it in parentheses: "(${flag})"`;
  return `chainrule: ${s}; see chainrule --help`;
}

/** What the commands tell `main` besides their output: the expression (for carets) and a non-zero exit status. */
interface ProgramState { expression?: string; exitCode?: number }

function buildProgram(style: Style, write: (s: string) => void, state: ProgramState): Command {
  const program = new Command("chainrule")
    .description("Automatic differentiation for TypeScript. With no command: the step-by-step walkthrough of L = (a·b + c)².")
    .version(version(), "-V, --version")
    .exitOverride()
    .configureOutput({
      writeOut: (s) => process.stdout.write(s),
      writeErr: (s) => process.stderr.write(s),
      outputError: (s, w) => w(commanderLine(s) + "\n"),
    })
    .addHelpText("after", [
      "",
      "Expressions: numbers, variables, + - * / ^ (power, binds tightest, right-associative), unary -, parentheses,",
      "and sqrt exp log sin cos tan tanh sigmoid relu abs square neg. Values with --at a=3,b=2 (float64).",
      "",
      "Examples:",
      "  chainrule                                        walkthrough of L = (a·b + c)² at a=3, b=2, c=1",
      "  chainrule grad \"(a*b + c)^2\" --at a=3,b=2,c=1 --json",
      "  chainrule grad \"sin(x)*y\" --at x=0,y=2 --mode forward",
      "  chainrule explain \"x*x + x\" --at x=3            walkthrough of your own expression",
      "  chainrule viz --format dot -o seed.dot           the graph for Graphviz (also: text, json, html)",
      "  chainrule viz -o seed.html                       the step-through page (open it in a browser, works offline)",
      "  chainrule viz --mlp                              one MLP training step on MNIST digits -> graph.html (collapse modules)",
      "  chainrule viz --names                            one training step of the names MLP on 3 names -> graph.html",
      "  chainrule modes --max 1024 --plot modes.svg      reverse vs forward mode: sweeps and time for n parameters",
      "  chainrule train mnist --model cnn --out m.safetensors   train on MNIST digits (also --plot curves.svg, --json)",
      "  chainrule predict m.safetensors --index 17       classify a held-out digit and draw it",
      "  chainrule train names --model mlp --out n.safetensors   character-level model of first names (NLL in nats)",
      "  chainrule sample n.safetensors -n 20             new names from it, training names marked",
      "  chainrule info                                   the compute backend (blas, wasm, js), BLAS library, threads",
    ].join("\n"));

  program
    .command("explain")
    .description("step-by-step walkthrough: forward values, backward chain rule, finite-difference check (default: the seed)")
    .argument("[expr]", "expression, e.g. \"x*x + x\"")
    .option("--at <values>", "variable values, e.g. a=3,b=2,c=1 (repeatable)", collect)
    .action((expr: string | undefined, opts: { at?: string[] }) => {
      state.expression = expr;
      const r = runExplain(expr, opts, style);
      write(r.text);
      if (r.mismatches.length > 0) {
        // The walkthrough is still worth reading, but a failed check must not look like success.
        process.stderr.write(`chainrule: explain: gradient check failed: ${r.mismatches.join("; ")} (at a kink such as relu at 0 the derivative is a convention and the two differ)\n`);
        state.exitCode = 1;
      }
    });

  program
    .command("grad")
    .description("value and gradient of an expression")
    .argument("<expr>", "expression, e.g. \"(a*b + c)^2\"")
    .option("--at <values>", "variable values, e.g. a=3,b=2,c=1 (repeatable)", collect)
    .option("--json", "print {\"value\":…,\"grads\":{…}} only")
    .addOption(new Option("--mode <mode>", "reverse: one backward sweep (grad); forward: one jvp sweep per variable").choices(["reverse", "forward"]).default("reverse"))
    .action((expr: string, opts: { at?: string[]; json?: boolean; mode: "forward" | "reverse" }) => {
      state.expression = expr;
      write(runGrad(expr, opts, style));
    });

  program
    .command("viz")
    .description("export the computation graph (default: the seed) as text, Graphviz dot, JSON or an HTML page")
    .argument("[expr]", "expression, e.g. \"(a*b + c)^2\"")
    .option("--at <values>", "variable values, e.g. a=3,b=2,c=1 (repeatable)", collect)
    .option("-o, --output <file>", "write to a file instead of stdout (format from its extension: .html .dot .gv .json .txt, or give --format)")
    .addOption(new Option("--format <format>", "output format (default: from the file extension, else text; html for --mlp)").choices(VIZ_FORMATS))
    .option("--mlp", "one training step of a 784-16-10 MLP on 8 MNIST digits, modules collapsible on the page (html to graph.html unless -o)")
    .option("--names", "one training step of the names MLP on the windows of 3 real names, modules collapsible (html to graph.html unless -o)")
    .action(async (expr: string | undefined, opts: { at?: string[]; output?: string; format?: VizFormat; mlp?: boolean; names?: boolean }) => {
      state.expression = expr;
      write(await runViz(expr, opts));
    });

  registerTrainCommands(program);
  registerNamesCommands(program);
  registerModesCommand(program, style, write);
  registerInfoCommand(program, version(), write);
  registerExportCommand(program);
  return program;
}

/** The error as what the user sees on stderr: one line, plus the expression and a caret for parse errors. */
function describe(e: unknown, expression: string | undefined): { text: string; code: number } {
  if (e instanceof CommanderError) return { text: "", code: e.exitCode === 0 ? 0 : USAGE }; // commander printed it already
  if (e instanceof ChainruleError) {
    const lines = [`chainrule: ${e.message}`];
    if (e instanceof ParseError && e.position !== undefined && expression !== undefined) {
      const shown = expression.replace(/[\t\n\r]/g, " ");
      lines.push(`  ${shown}`, `  ${" ".repeat(Math.min(e.position, shown.length))}^`);
    }
    return { text: lines.join("\n") + "\n", code: USAGE };
  }
  const err = e as { message?: string; code?: string; stack?: string };
  if (process.env.CHAINRULE_DEBUG) return { text: `${err.stack ?? String(e)}\n`, code: 1 };
  const what = err.code ? `${err.message ?? String(e)}` : `internal error: ${err.message ?? String(e)} (set CHAINRULE_DEBUG=1 for details)`;
  return { text: `chainrule: ${what}\n`, code: 1 };
}

function onStdoutError(err: NodeJS.ErrnoException): void {
  if (err.code === "EPIPE") return;
  process.stderr.write(`chainrule: cannot write output: ${err.message}\n`);
  process.exitCode = 1;
}

/**
 * The command line. Returns the exit status: 0 on success, 2 for bad input (unknown command or option,
 * malformed expression, unknown function or variable, bad --at value), 1 for other failures (e.g.
 * explain's finite-difference check failing). Messages are one line on stderr, never a stack trace.
 */
export async function main(argv: string[]): Promise<number> {
  // `chainrule viz | head` closes the pipe early: stop quietly instead of crashing with EPIPE.
  // Installed once per process (tests call main many times).
  if (!process.stdout.listeners("error").includes(onStdoutError)) process.stdout.on("error", onStdoutError);
  const style = makeStyle(colorFor(process.stdout));
  const write = (s: string): void => { process.stdout.write(s); };
  const state: ProgramState = {};
  try {
    if (argv.length === 0) {
      write(runExplain(undefined, {}, style).text);
      return 0;
    }
    const program = buildProgram(style, write, state);
    // commander answers `help <unknown>` with the full help on stdout; say what is wrong instead.
    if (argv[0] === "help" && argv[1] !== undefined && !argv[1].startsWith("-")) {
      const known = program.commands.map((c) => c.name());
      if (!known.includes(argv[1])) throw new ValueError(`help: unknown command '${argv[1]}'; expected one of ${known.join(", ")}`);
    }
    await program.parseAsync(argv, { from: "user" });
    return state.exitCode ?? 0;
  } catch (e) {
    const { text, code } = describe(e, state.expression);
    if (text) process.stderr.write(text);
    return code;
  }
}
