// What the README's commands leave behind: every file they write in the repository root is ignored by git
// (so trying the README never dirties a clone), and `train` without --out says that nothing was saved.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { runTrain } from "../src/cli/train-command.js";

const exec = promisify(execFile);
const root = fileURLToPath(new URL("..", import.meta.url));

describe("the README's output files", () => {
  it("every file a README command writes (-o, --out, --plot, the example's model) is in .gitignore", async () => {
    const readme = readFileSync(join(root, "README.md"), "utf8");
    const names = new Set<string>();
    for (const m of readme.matchAll(/(?:^|[\s[])(?:-o|--out|--plot)\s+([\w.-]+\.\w+)/gm)) names.add(m[1]!);
    for (const m of readme.matchAll(/(?:^|\s)>\s*([\w.-]+\.(?:svg|html|json|dot|txt))/gm)) names.add(m[1]!);
    names.add("mnist-mlp.safetensors"); // examples/train-mnist.ts's default output
    expect([...names]).toEqual(expect.arrayContaining(["seed.html", "cnn.safetensors", "curves.svg", "modes.svg"]));
    // git check-ignore prints the ignored ones; every name must be among them.
    const r = await exec("git", ["check-ignore", "--no-index", ...names], { cwd: root }).catch((e: { stdout: string }) => e);
    const ignored = new Set(r.stdout.trim().split("\n"));
    expect([...names].filter((n) => !ignored.has(n))).toEqual([]);
  });

  it("train without --out says the model was not saved and how to keep it", async () => {
    let text = "";
    await runTrain("mnist", { model: "mlp", epochs: "1", batch: "64", optimizer: "adam", hidden: "8", seed: "0" }, { write: (s) => void (text += s), isTTY: false }, { train: 128, test: 64 });
    expect(text).toContain("the model was not saved: add --out mlp.safetensors to keep it for chainrule predict");
  });
});
