// `import ... from "chainrule"` in a browser app: the package's "browser" export condition picks
// dist/browser.js, whose "#platform/*" imports (dist/package.json) pick the browser side of the FFI loader
// and page assets, so esbuild and Vite bundle it with no Node built-in and no stub. Each bundle runs in
// Chromium: gradients, and a model saved with io.toBytes/io.toBlob and restored with io.fromBytes. The types
// are checked too: under the browser condition io has no file functions; in Node it has them.
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import { haveChromium, launchChromium, requireChromium } from "./helpers/chromium.js";

const exec = promisify(execFile);
const root = fileURLToPath(new URL("..", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "chainrule-conditions-"));
const app = join(work, "app");

/** The app a new user would write: it imports the package by name only. */
const MAIN = `
import { grad, valueAndGrad, square, add, mul, scalar, tensor, nn, io, Rng, getThreads, availableBackends } from "chainrule";
const L = (a, b, c) => square(add(mul(a, b), c));
const [value, grads] = valueAndGrad(L, { argnums: [0, 1, 2] })(scalar(3), scalar(2), scalar(1));
const model = new nn.MLP([2, 3, 1], { rng: new Rng(1) });
const bytes = io.toBytes(model, { arch: "2-3-1" });
const copy = new nn.MLP([2, 3, 1], { rng: new Rng(2) });
const x = tensor([[0.5, -1]]);
const before = copy.forward(x).item();
const metadata = io.fromBytes(bytes, copy);
const blob = io.toBlob(model, { arch: "2-3-1" });
const blobBytes = new Uint8Array(await blob.arrayBuffer());
globalThis.__result = {
  value: value.item(),
  grads: grads.map((g) => g.item()),
  d2: grad(grad((t) => mul(square(t), t)))(scalar(2)).item(),
  same: copy.forward(x).item() === model.forward(x).item(),
  changed: before !== model.forward(x).item(),
  metadata,
  blob: { type: blob.type, equal: blobBytes.length === bytes.length && blobBytes.every((v, i) => v === bytes[i]) },
  fileFunctions: ["saveModule", "loadModule", "saveSafetensors", "loadSafetensors"].filter((k) => k in io),
  threads: getThreads(),
  backends: availableBackends(),
};
`;

const INDEX = `<!doctype html><meta charset=utf-8><title>app</title><script type="module" src="./main.js"></script>`;

requireChromium("Chromium (browser export conditions)");

/** Serves `dir` on loopback (module scripts need http). */
async function serve(dir: string): Promise<{ server: Server; base: string }> {
  const types: Record<string, string> = { ".js": "text/javascript", ".html": "text/html", ".map": "application/json" };
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0]!;
    if (path === "/favicon.ico") { res.writeHead(204).end(); return; }
    const file = join(dir, path === "/" ? "index.html" : path.replace(/^\/+/, ""));
    if (!file.startsWith(dir) || !existsSync(file)) { res.writeHead(404).end(); return; }
    res.writeHead(200, { "content-type": types[extname(file)] ?? "application/octet-stream" }).end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  return { server, base: `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}` };
}

beforeAll(() => {
  if (!existsSync(join(root, "dist", "browser.js")) || !existsSync(join(root, "dist", "package.json"))) {
    throw new Error("dist/ is missing or stale: run `npm run build` first (npm test does)");
  }
  mkdirSync(join(app, "node_modules"), { recursive: true });
  // The package as a dependency by name (its package.json "exports" decide what the app can reach).
  symlinkSync(root, join(app, "node_modules", "chainrule"), "dir");
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
  writeFileSync(join(app, "main.js"), MAIN);
  writeFileSync(join(app, "index.html"), INDEX);
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

const EXPECTED = {
  value: 49,
  grads: [28, 42, 14],
  d2: 12,
  same: true,
  changed: true,
  metadata: { format: "chainrule", arch: "2-3-1", layout: "pytorch" },
  blob: { type: "application/octet-stream", equal: true },
  fileFunctions: [],
  threads: 1,
  backends: ["wasm", "js"],
};

describe.runIf(haveChromium)('a browser app importing "chainrule", bundled and run in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => { browser = await launchChromium(); });
  afterAll(async () => { await browser?.close(); });

  async function run(dir: string): Promise<unknown> {
    const { server, base } = await serve(dir);
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
    try {
      await page.goto(`${base}/`);
      // A module script runs after load; wait for its result (or give up and report the page's errors).
      await page.waitForFunction("globalThis.__result !== undefined", undefined, { timeout: 30_000 }).catch(() => undefined);
      const result = await page.evaluate("globalThis.__result");
      expect(errors).toEqual([]);
      return result;
    } finally {
      await page.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  it("esbuild --platform=browser bundles it (no Node built-ins reached) and it runs", async () => {
    const { build } = await import("esbuild");
    const out = join(work, "esbuild");
    mkdirSync(out, { recursive: true });
    const result = await build({
      entryPoints: [join(app, "main.js")], outfile: join(out, "main.js"), bundle: true, format: "esm",
      platform: "browser", target: "es2022", metafile: true, logLevel: "silent", absWorkingDir: app,
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((p) => /(^|[/:])node:|worker_threads|koffi|assets\.generated/.test(p))).toEqual([]);
    expect(inputs.some((p) => p.endsWith("dist/platform/require.browser.js"))).toBe(true);
    expect(inputs.some((p) => p.endsWith("dist/browser.js"))).toBe(true);
    writeFileSync(join(out, "index.html"), INDEX);
    expect(await run(out)).toEqual(EXPECTED);
  }, 120_000);

  it("vite build bundles it and it runs", async () => {
    const { build } = await import("vite");
    const out = join(work, "vite");
    await build({ root: app, logLevel: "silent", configFile: false, build: { outDir: out, emptyOutDir: true, target: "es2022", minify: false } });
    const js = readFileSync(join(out, "assets", (await import("node:fs")).readdirSync(join(out, "assets")).find((f) => f.endsWith(".js"))!), "utf8");
    // No import of a Node built-in (names passed to process.getBuiltinModule are only strings).
    expect(js).not.toMatch(/from\s*["']node:|import\(\s*["']node:|createRequire/);
    expect(await run(out)).toEqual(EXPECTED);
  }, 180_000);

  it('the prebuilt module is exported as "chainrule/browser" and runs without a bundler', async () => {
    const url = await exec(process.execPath, ["--input-type=module", "-e", 'console.log(import.meta.resolve("chainrule/browser")); console.log(import.meta.resolve("chainrule/dist/browser/chainrule.js"))'], { cwd: app });
    const [a, b] = url.stdout.trim().split("\n");
    expect(a).toBe(b);
    expect(a).toMatch(/\/dist\/browser\/chainrule\.js$/);
    const out = join(work, "plain");
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, "chainrule.js"), readFileSync(fileURLToPath(a!)));
    writeFileSync(join(out, "main.js"), MAIN.replace('from "chainrule"', 'from "./chainrule.js"'));
    writeFileSync(join(out, "index.html"), INDEX);
    expect(await run(out)).toEqual(EXPECTED);
  }, 60_000);
});

describe("the package's types under each condition", () => {
  it("browser: io has toBytes/fromBytes/toBlob and no file functions; node: io has both", async () => {
    const browserSource = `
import { io, nn } from "chainrule";
const m = new nn.MLP([2, 1]);
const bytes: Uint8Array = io.toBytes(m);
const meta: Record<string, string> = io.fromBytes(bytes, m);
const blob: Blob = io.toBlob(m);
// @ts-expect-error Node's file functions are absent from the browser types
io.saveModule("m.safetensors", m);
// @ts-expect-error
io.loadSafetensors("m.safetensors");
export const used = [meta, blob];
`;
    const nodeSource = `
import { io, nn, toHTML } from "chainrule";
const m = new nn.MLP([2, 1]);
io.saveModule("m.safetensors", m);
const meta: Record<string, string> = io.fromBytes(io.toBytes(m), m);
export const used = [meta, toHTML];
`;
    writeFileSync(join(app, "browser-types.ts"), browserSource);
    writeFileSync(join(app, "node-types.ts"), nodeSource);
    const base = { strict: true, noEmit: true, skipLibCheck: false, target: "ES2022", lib: ["ES2022", "DOM"], types: [] as string[] };
    writeFileSync(join(app, "tsconfig.browser.json"), JSON.stringify({ compilerOptions: { ...base, module: "ESNext", moduleResolution: "bundler", customConditions: ["browser"] }, files: ["browser-types.ts"] }));
    writeFileSync(join(app, "tsconfig.node.json"), JSON.stringify({
      compilerOptions: { ...base, module: "NodeNext", moduleResolution: "NodeNext", types: ["node"], typeRoots: [join(root, "node_modules", "@types")] },
      files: ["node-types.ts"],
    }));
    const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
    for (const config of ["tsconfig.browser.json", "tsconfig.node.json"]) {
      const r = await exec(process.execPath, [tsc, "-p", config], { cwd: app, timeout: 120_000 }).catch((err: { stdout: string; stderr: string }) => err);
      expect(r.stdout + r.stderr, config).toBe("");
    }
  }, 240_000);
});
