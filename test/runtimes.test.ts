// The core of the library on the other JavaScript runtimes, Bun and Deno (both installed from npm as dev
// dependencies), as an installed package: the seed's value and gradients in both modes, a second
// derivative, checkGrads, a 1000-step tanh chain and a short training run (MLP, Adam, cross-entropy).
// Each runtime's answers are compared with Node's on the same script: the seed exactly, the rest to
// float32 rounding (the engines' Math.tanh and Math.exp may differ in the last bit).
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const exec = promisify(execFile);
const root = fileURLToPath(new URL("..", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "chainrule-runtimes-"));
const project = join(work, "consumer");
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
const bin = (name: string): string => join(root, "node_modules", ".bin", name);

const CORE = `import { valueAndGrad, jvp, grad, vjp, checkGrads, square, add, mul, tanh, scalar, tensor, randn, nn, optim, getBackend } from "chainrule";
const L = (a, b, c) => square(add(mul(a, b), c));
const [v, [da, db, dc]] = valueAndGrad(L, { argnums: [0, 1, 2] })(scalar(3), scalar(2), scalar(1));
const [, tangent] = jvp((a) => L(a, scalar(2), scalar(1)), [scalar(3)], [scalar(1)]);
const d2 = grad(grad((x) => mul(x, mul(x, x))))(scalar(2)).item();
let checked = "ok";
try { checkGrads((x) => tanh(mul(x, x)), [randn([3], { seed: 1, dtype: "float64" })], { order: 2 }); } catch (e) { checked = String(e); }
const chain = (x) => { for (let i = 0; i < 1000; i++) x = add(mul(tanh(x), 1.0001), 0.001); return x; };
const [y, pull] = vjp(chain, scalar(0.5));
const dy = pull(scalar(1))[0].item();
const model = new nn.MLP([4, 16, 3], { activation: "tanh" });
const opt = new optim.Adam(model.parameters(), { lr: 0.05 });
const x = randn([32, 4], { seed: 7 });
const labels = tensor(Array.from({ length: 32 }, (_, i) => i % 3), { dtype: "int32" });
const losses = [];
for (let step = 0; step < 30; step++) {
  opt.zeroGrad();
  const loss = nn.crossEntropy(model.forward(x), labels);
  loss.backward();
  opt.step();
  losses.push(loss.item());
}
console.log(JSON.stringify({ seed: [v.item(), da.item(), db.item(), dc.item(), tangent.item()], d2, checked, chain: [y.item(), dy], first: losses[0], last: losses[29], backend: getBackend().name }));
`;

interface Answers { seed: number[]; d2: number; checked: string; chain: number[]; first: number; last: number; backend: string }

const runtimes: [string, string, string[]][] = [
  ["node", process.execPath, ["core.mjs"]],
  ["bun", bin("bun"), ["core.mjs"]],
  ["deno", bin("deno"), ["run", "--allow-read", "--allow-env", "--allow-ffi", "--allow-sys", "core.mjs"]],
];

beforeAll(async () => {
  if (!existsSync(join(root, "dist", "index.js"))) throw new Error("dist/ is missing: run `npm run build` first (npm test does)");
  const { stdout } = await exec(npm, ["pack", "--ignore-scripts", "--json", "--pack-destination", work], { cwd: root, timeout: 120_000 });
  const tarball = join(work, (JSON.parse(stdout) as { filename: string }[])[0]!.filename);
  await exec("mkdir", ["-p", project]);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", version: "1.0.0", private: true, type: "module" }, null, 2));
  await exec(npm, ["install", tarball, "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"], { cwd: project, timeout: 300_000 });
  writeFileSync(join(project, "core.mjs"), CORE);
}, 420_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

async function answers(name: string): Promise<Answers> {
  const [, file, args] = runtimes.find(([n]) => n === name)!;
  const env = { ...process.env, DENO_NO_UPDATE_CHECK: "1", DENO_DIR: join(work, "deno-cache"), NO_COLOR: "1" };
  const { stdout } = await exec(file, args, { cwd: project, timeout: 120_000, env });
  return JSON.parse(stdout.trim().split("\n").pop()!) as Answers;
}

describe("the core on Node, Bun and Deno", () => {
  let node: Answers;
  beforeAll(async () => { node = await answers("node"); }, 120_000);

  it("Node: the seed, a second derivative, checkGrads, the chain and a training run that learns", () => {
    expect(node.seed).toEqual([49, 28, 42, 14, 28]);
    expect(node.d2).toBe(12);
    expect(node.checked).toBe("ok");
    expect(node.last).toBeLessThan(0.5 * node.first);
  });

  it.each(["bun", "deno"])("%s gives Node's answers", async (name) => {
    expect(existsSync(bin(name)), `${name} is a dev dependency; run npm install`).toBe(true);
    const r = await answers(name);
    expect(r.seed).toEqual([49, 28, 42, 14, 28]);
    expect(r.d2).toBe(12);
    expect(r.checked).toBe("ok");
    expect(r.chain[0]).toBeCloseTo(node.chain[0]!, 5);
    expect(r.chain[1]).toBeCloseTo(node.chain[1]!, 5);
    expect(r.first).toBeCloseTo(node.first, 5);
    expect(r.last).toBeCloseTo(node.last, 4);
    expect(r.backend).toBe(node.backend);
  }, 120_000);
});
