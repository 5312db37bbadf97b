import { describe, expect, it, vi } from "vitest";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tensor, ValueError } from "../src/index.js";
import { compareModes, gradientByForward, gradientByReverse, modesLoss, modesPoint, modesSizes, timePerRun } from "../src/viz/modes.js";
import { MODES_HEADER, runModes } from "../src/cli/modes-command.js";
import { main } from "../src/cli/main.js";
import { makeStyle } from "../src/cli/style.js";
import { expectAllClose } from "./helpers/close.js";

/** ∂L/∂θᵢ = cos θᵢ·θᵢ + sin θᵢ + 2(Σⱼ tanh θⱼ)(1 − tanh² θᵢ), written out by hand. */
function handGradient(theta: number[]): number[] {
  const s = theta.reduce((a, t) => a + Math.tanh(t), 0);
  return theta.map((t) => Math.cos(t) * t + Math.sin(t) + 2 * s * (1 - Math.tanh(t) ** 2));
}

const plain = makeStyle(false);

describe("modes: the same gradient by n forward sweeps and by one reverse sweep", () => {
  it("sizes are powers of 4 up to --max", () => {
    expect(modesSizes(1)).toEqual([1]);
    expect(modesSizes(16)).toEqual([1, 4, 16]);
    expect(modesSizes(63)).toEqual([1, 4, 16]);
    expect(modesSizes(4096)).toEqual([1, 4, 16, 64, 256, 1024, 4096]);
    expect(() => modesSizes(0)).toThrow(/--max must be at least 1, got 0/);
  });

  it("the loss is L(θ) = Σ sin θ·θ + (Σ tanh θ)² at θ = linspace(-1, 1, n)", () => {
    const x = modesPoint(5);
    expect(Array.from(x.data)).toEqual([-1, -0.5, 0, 0.5, 1]);
    expect(x.dtype).toBe("float64");
    const want = [-1, -0.5, 0, 0.5, 1].reduce((a, t) => a + Math.sin(t) * t, 0); // Σ tanh θ is 0 by symmetry
    expectAllClose(modesLoss(x), want, 1e-14);
  });

  it("forward mode (one jvp per parameter) and reverse mode (one vjp) both match the hand gradient", () => {
    const theta = [0.3, -1.2, 2, 0.05, -0.7, 1.1, 0.4];
    const x = tensor(Float64Array.from(theta));
    const want = handGradient(theta);
    expectAllClose(tensor(gradientByForward(modesLoss, x)), want, 1e-13, 1e-14);
    expectAllClose(tensor(gradientByReverse(modesLoss, x)), want, 1e-13, 1e-14);
  });

  it("compareModes: n sweeps against 1, and agreement to float64 rounding", () => {
    const rows = compareModes([1, 4, 16], { repeats: 1 });
    expect(rows.map((r) => [r.n, r.forwardSweeps, r.reverseSweeps])).toEqual([[1, 1, 1], [4, 4, 1], [16, 16, 1]]);
    for (const r of rows) {
      expect(r.agree).toBe(true);
      expect(r.maxAbsDiff).toBeLessThan(1e-12);
      expect(r.forwardMs).toBeGreaterThanOrEqual(0);
      expect(r.reverseMs).toBeGreaterThanOrEqual(0);
      expect(r.ratio).toBeCloseTo(r.forwardMs / Math.max(r.reverseMs, 1e-6), 6);
    }
  });
});

describe("timePerRun: times below the clock's resolution are measured, not read as 0", () => {
  // A fake clock that, like a browser's performance.now, only moves in steps of 0.1 ms.
  const fake = (msPerCall: number) => {
    let t = 0, calls = 0;
    return { now: () => Math.floor(t / 0.1 + 1e-9) * 0.1, f: () => { t += msPerCall; return ++calls; }, calls: () => calls };
  };

  it("a 0.03 ms call measures 0.03 ms, after one warm-up call", () => {
    const c = fake(0.03);
    const [last, ms] = timePerRun(c.f, { now: c.now, minMs: 10 });
    expect(ms).toBeGreaterThan(0.029);
    expect(ms).toBeLessThan(0.031);
    expect(c.calls()).toBeGreaterThan(300); // ≥ 10 ms of 0.03 ms calls
    expect(last).toBe(c.calls());
  });

  it("repeats keep the fastest measurement; a long first call is the measurement", () => {
    const c = fake(0.05);
    expect(timePerRun(c.f, { now: c.now, minMs: 5, repeats: 3 })[1]).toBeCloseTo(0.05, 3);
    const slow = fake(300);
    expect(timePerRun(slow.f, { now: slow.now })[1]).toBeCloseTo(300, 6);
    expect(slow.calls()).toBe(1);
  });
});

describe("chainrule modes", () => {
  it("prints a header and one row per n with sweeps, milliseconds and the ratio, then the agreement", async () => {
    const out: string[] = [];
    const rows = await runModes({ max: "16" }, plain, (s) => out.push(s));
    expect(rows.map((r) => r.n)).toEqual([1, 4, 16]);
    const lines = out.join("").split("\n");
    const header = lines.findIndex((l) => l.trim().startsWith("n "));
    expect(lines[header]!.trim().split(/\s{2,}/)).toEqual(MODES_HEADER);
    const table = lines.slice(header + 1, header + 4).map((l) => l.trim().split(/\s+/));
    expect(table.map((r) => [r[0], r[1], r[3]])).toEqual([["1", "1", "1"], ["4", "4", "1"], ["16", "16", "1"]]);
    for (const r of table) {
      expect(r).toHaveLength(7);
      expect(Number(r[2])).toBeGreaterThanOrEqual(0); // forward ms
      expect(Number(r[4])).toBeGreaterThanOrEqual(0); // reverse ms
      expect(r[5]).toMatch(/^[\d.e+-]+×$/);
      expect(Number(r[6])).toBeLessThan(1e-12); // max |forward − reverse|
    }
    expect(out.join("")).toMatch(/✓ forward and reverse gradients agree at every n/);
  });

  it("--plot writes an SVG of time and sweeps against n (vega-lite)", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "chainrule-modes-")), "modes.svg");
    const out: string[] = [];
    await runModes({ max: 4, plot: file }, plain, (s) => out.push(s));
    const svg = readFileSync(file, "utf8");
    expect(svg.startsWith("<svg")).toBe(true);
    for (const text of ["n parameters", "milliseconds", "sweeps", "forward (one jvp per parameter)", "reverse (one vjp)"]) expect(svg).toContain(text);
    expect(out.join("")).toContain(`wrote ${file}`);
  });

  it("a --max that is not a power of 4 is accepted and says where n stops; a power of 4 needs no note", async () => {
    const out: string[] = [];
    const rows = await runModes({ max: "5" }, plain, (s) => out.push(s));
    expect(rows.map((r) => r.n)).toEqual([1, 4]);
    expect(out.join("")).toContain("n goes up by ×4: 1, 4; stopping at 4, the largest power of 4 ≤ --max 5\n");
    const big: string[] = [];
    expect(modesSizes(100)).toEqual([1, 4, 16, 64]);
    await runModes({ max: "16" }, plain, (s) => big.push(s));
    expect(big.join("")).not.toContain("stopping at");
  });

  it("--plot into a missing directory fails before measuring, as one line", async () => {
    const out: string[] = [];
    await expect(runModes({ max: "4", plot: "/nonexist/modes.svg" }, plain, (s) => out.push(s))).rejects.toThrow(/^modes: --plot: cannot write \/nonexist\/modes\.svg: its directory does not exist$/);
    expect(out).toEqual([]); // nothing measured or printed
  });

  it("rejects a bad --max with a one-line message and exit status 2", async () => {
    await expect(runModes({ max: "lots" }, plain, () => {})).rejects.toThrow(ValueError);
    const err = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    const out = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    try {
      expect(await main(["modes", "--max", "0"])).toBe(2);
      expect(String(err.mock.calls[0]![0])).toBe('chainrule: modes: --max must be a whole number from 1 to 1048576, got "0"\n');
      expect(await main(["modes", "--max", "4"])).toBe(0);
      expect(out.mock.calls.map((c) => String(c[0])).join("")).toMatch(/agree at every n/);
    } finally {
      err.mockRestore();
      out.mockRestore();
    }
  });
});
