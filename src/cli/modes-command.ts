import { writeFile } from "node:fs/promises";
import type { Command } from "commander";
import { GradientError, ValueError } from "../core/errors.js";
import { compareModes, modesSizes, type ModesRow } from "../viz/modes.js";
import { fmtNumber } from "../viz/export-text.js";
import type { Style } from "./style.js";
import { checkSvgName, checkWritable, writeError } from "./output-file.js";
import { vegaLiteSvg } from "./vega-svg.js";

/** Options of `chainrule modes`. */
export interface ModesCommandOptions {
  /** Largest n (default 4096); sizes are the powers of 4 (1, 4, 16, …) up to it, and a --max between two of them is said so. */
  max?: string | number;
  /** Write an SVG plot to this file. */
  plot?: string;
}

const ms = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

/** The table's rows as text cells. */
function cells(r: ModesRow): string[] {
  return [String(r.n), String(r.forwardSweeps), ms(r.forwardMs), String(r.reverseSweeps), ms(r.reverseMs), `${fmtNumber(Number(r.ratio.toPrecision(3)))}×`, r.maxAbsDiff.toExponential(1)];
}

/** The table's column titles, in order. */
export const MODES_HEADER = ["n", "fwd sweeps", "fwd ms", "rev sweeps", "rev ms", "fwd/rev", "max |fwd−rev|"];

/**
 * The plot as SVG: time for a full gradient against n, both axes logarithmic, one line per mode, and the
 * sweeps needed beside it. A Vega-Lite spec compiled to Vega and rendered headless; vega and vega-lite
 * are imported only when a plot is asked for.
 */
export async function modesSvg(rows: readonly ModesRow[]): Promise<string> {
  const values = rows.flatMap((r) => [
    { n: r.n, mode: "forward (one jvp per parameter)", ms: Math.max(r.forwardMs, 1e-3), sweeps: r.forwardSweeps },
    { n: r.n, mode: "reverse (one vjp)", ms: Math.max(r.reverseMs, 1e-3), sweeps: r.reverseSweeps },
  ]);
  const color = { field: "mode", type: "nominal", title: null, scale: { range: ["#047857", "#c2410c"] }, legend: { orient: "bottom", labelLimit: 400 } };
  const x = { field: "n", type: "quantitative", scale: { type: "log", base: 4 }, axis: { values: rows.map((r) => r.n), format: "d" }, title: "n parameters" };
  const panel = (field: "ms" | "sweeps", title: string) => ({
    width: 300,
    height: 220,
    title,
    mark: { type: "line", point: true },
    encoding: { x, y: { field, type: "quantitative", scale: { type: "log" }, title: field === "ms" ? "milliseconds" : "sweeps" }, color },
  });
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: "Full gradient of one scalar loss with n parameters", subtitle: "L(θ) = Σ sin(θᵢ)·θᵢ + (Σ tanh θᵢ)²; reverse stays flat, forward grows with n" },
    data: { values },
    hconcat: [panel("ms", "time"), panel("sweeps", "sweeps")],
    config: { font: "Helvetica, Arial, sans-serif" },
  };
  return vegaLiteSvg(spec);
}

function parseMax(max: string | number | undefined): number {
  if (max === undefined) return 4096;
  const n = typeof max === "number" ? max : Number(max);
  if (!Number.isInteger(n) || n < 1 || n > 1 << 20) throw new ValueError(`modes: --max must be a whole number from 1 to 1048576, got ${JSON.stringify(String(max))}`);
  return n;
}

/**
 * `chainrule modes [--max 4096] [--plot modes.svg]`: the full gradient of one scalar loss of n parameters
 * by forward mode (n jvp sweeps) and by reverse mode (one vjp sweep) for n = 1, 4, 16, … up to --max;
 * checks that the two agree and prints sweeps and milliseconds per size as they are measured. n goes up
 * by ×4; a --max that is not a power of 4 is accepted, and a line says where the sizes stop (--max 5: at 4).
 * @param write receives the output line by line
 * @throws ValueError for a bad --max or an unwritable plot file; GradientError when the modes disagree
 */
export async function runModes(options: ModesCommandOptions, style: Style, write: (s: string) => void): Promise<ModesRow[]> {
  const max = parseMax(options.max);
  if (options.plot !== undefined) { // before the measurement, not after
    checkSvgName("modes: --plot", options.plot);
    checkWritable("modes: --plot", options.plot);
  }
  const sizes = modesSizes(max);
  write(`  ${style.bold("reverse vs forward mode")} ${style.dim("· full gradient of L(θ) = Σ sin(θᵢ)·θᵢ + (Σ tanh θᵢ)², θ ∈ ℝⁿ, float64")}\n\n`);
  const top = sizes[sizes.length - 1]!;
  if (top !== max) write(`  ${style.dim(`n goes up by ×4: ${sizes.slice(0, 3).join(", ")}${sizes.length > 3 ? ", …" : ""}; stopping at ${top}, the largest power of 4 ≤ --max ${max}`)}\n\n`);
  // Fixed column widths, so that rows print as they are measured.
  const widths = MODES_HEADER.map((h) => Math.max(h.length, 8));
  const line = (row: string[]): string => "  " + row.map((c, i) => c.padStart(widths[i]!)).join("  ");
  write(style.dim(line(MODES_HEADER)) + "\n");
  const rows = compareModes(sizes, { onRow: (r) => write(line(cells(r)) + "\n") });
  const worst = rows.reduce((a, r) => Math.max(a, r.maxAbsDiff), 0);
  const bad = rows.find((r) => !r.agree);
  if (bad) throw new GradientError(`modes: forward and reverse gradients differ at n = ${bad.n}: max |difference| ${bad.maxAbsDiff}`);
  const last = rows[rows.length - 1]!;
  write(`\n  ${style.green("✓")} forward and reverse gradients agree at every n (max |difference| ${worst.toExponential(1)})\n`);
  write(`  at n = ${last.n}: forward mode ${last.forwardSweeps} sweeps, ${ms(last.forwardMs)} ms; reverse mode 1 sweep, ${ms(last.reverseMs)} ms\n`);
  if (options.plot) {
    const svg = await modesSvg(rows);
    try {
      await writeFile(options.plot, svg);
    } catch (err) {
      throw writeError("modes: --plot", options.plot, err);
    }
    write(`  wrote ${options.plot}\n`);
  }
  return rows;
}

/** Adds `modes` to the program. */
export function registerModesCommand(program: Command, style: Style, write: (s: string) => void): void {
  program
    .command("modes")
    .description("reverse vs forward mode: the full gradient of a loss with n parameters both ways (n = 1, 4, 16, … up to --max)")
    .option("--max <n>", "largest number of parameters (n = 1, 4, 16, …: powers of 4 up to it)", "4096")
    .option("--plot <file>", "also write an SVG plot of time and sweeps against n")
    .action(async (opts: ModesCommandOptions) => {
      await runModes(opts, style, write);
    });
}
