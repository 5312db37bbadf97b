// Differential test against PyTorch (issue 19): the random programs of test/fixtures/pytorch-differential.json.gz,
// written by tools/pytorch-differential.py with PyTorch's float64 values, gradients and forward-mode tangents,
// half of them on edge inputs (0, −0, ties, ±∞, NaN, 1e±300, ±750, …), are replayed through chainrule.
// Every program must agree with PyTorch, or differ in one of the documented ways (KINDS in
// test/helpers/differential.ts, the README's edge conventions), each of which is checked by its own
// predicate; chainrule's own forward and reverse modes must agree (or differ only as documented there).
// A program that differs in no documented way fails the test and prints the program cut down to the
// registers the first difference depends on, with the values where the libraries part, and the first such
// program shrunk (test/helpers/shrink.ts: fewer instructions, inputs, elements, simpler values, each
// candidate re-run through PyTorch by `tools/pytorch-differential.py --eval`; unshrunk without PyTorch).
import { describe, expect, it } from "vitest";
import { judge, KINDS, loadFixture, type Kind } from "./helpers/differential.js";
import { describe as describeProgram, shrinkAgainstTorch } from "./helpers/shrink.js";

const fixture = loadFixture();

describe(`PyTorch differential (torch ${fixture.torch}, ${fixture.programs.length} programs, seed ${fixture.seed})`, () => {
  it("every program agrees with PyTorch or differs only in a documented way", () => {
    const counts = new Map<Kind | "agree" | "unexplained", number>();
    const modes = new Map<string, number>();
    const failures: string[] = [];
    let firstFailing = -1;
    fixture.programs.forEach((p, k) => {
      const v = judge(p);
      counts.set(v.kind ?? "agree", (counts.get(v.kind ?? "agree") ?? 0) + 1);
      modes.set(v.ownModes, (modes.get(v.ownModes) ?? 0) + 1);
      if (v.kind === "unexplained") failures.push(`program #${k} differs from PyTorch in no documented way:\n${v.detail}`);
      else if (v.ownModes === "disagree") failures.push(`program #${k}: chainrule's forward and reverse mode disagree:\n${v.detail}`);
      if (failures.length > 0 && firstFailing < 0) firstFailing = k;
    });
    if (firstFailing >= 0) {
      const s = shrinkAgainstTorch(fixture.programs[firstFailing]!);
      failures.unshift(s === null
        ? `program #${firstFailing} is not shrunk: no PyTorch (set PYTORCH_PYTHON to a python3 with torch, or apt-get install python3-torch)`
        : `program #${firstFailing} shrunk (${s.steps} steps, ${s.tried} programs re-run through PyTorch):\n${describeProgram(s.program)}\n` +
          `  PyTorch: out ${s.stored.out}, gradients ${s.stored.grads.map((g) => `[${g}]`).join(" ")}, tangent ${s.stored.tangent}\n${judge(s.stored).detail}`);
    }
    const lines = [...counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => `  ${String(n).padStart(5)}  ${k === "agree" ? "agree with PyTorch" : k === "unexplained" ? "unexplained (failures)" : `${k}: ${KINDS[k]}`}`);
    console.log(`pytorch-differential: ${fixture.programs.length} programs replayed\n${lines.join("\n")}\n` +
      `  chainrule's own modes: ${[...modes].map(([m, n]) => `${n} ${m}`).join(", ")}`);
    expect(failures.slice(0, 3).join("\n\n")).toBe("");
    // The fixture keeps its teeth: most programs agree outright, and the edge half produces differences.
    expect(counts.get("agree") ?? 0).toBeGreaterThan(fixture.programs.length * 0.7);
    expect(counts.get("torchNaN") ?? 0).toBeGreaterThan(0);
  }, 120_000);
});
