// Memory of one training step of a deep tanh MLP with and without checkpointing (issue 15's measurement):
// 64 layers of 1024 → 1024, batch 64, float32, imperative backward(). Each mode runs in its own process:
//   node --expose-gc --import tsx bench/checkpoint-memory.ts            (all modes, one child process each)
//   node --expose-gc --import tsx bench/checkpoint-memory.ts <mode>     (one mode: plain, layer, seg8)
// "Live" bytes are ArrayBuffer bytes after a full collection (gc()), sampled after the forward pass, inside
// every layer's forward call (under checkpointing that includes the recomputation during backward), and when
// the backward sweep reaches the input (an identity with a custom VJP on x): at that point every gradient
// exists and the graph is not yet released, the step's peak.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { customVjp, nn, Rng, sum, tensor, type Tensor } from "../dist/index.js";

const DEPTH = 64, WIDTH = 1024, BATCH = 64;
type Mode = "plain" | "layer" | "seg8";

function live(): number {
  (globalThis as { gc?: () => void }).gc!();
  return process.memoryUsage().arrayBuffers;
}

function run(mode: Mode): { peak: number; afterForward: number; base: number; gradBytes: number; ms: number } {
  const rng = new Rng(0);
  let peak = 0;
  const sample = () => { peak = Math.max(peak, live()); };
  class Probe extends nn.Module { forward(h: Tensor) { sample(); return h; } }
  const layers: nn.Module[] = [];
  for (let i = 0; i < DEPTH; i++) layers.push(new nn.Linear(WIDTH, WIDTH, { rng, init: "glorot" }), new nn.Tanh(), new Probe());
  const x = tensor(Array.from({ length: BATCH }, (_, i) => Array.from({ length: WIDTH }, (_, j) => Math.sin(i * 0.37 + j * 0.011))), { requiresGrad: true });
  const atInput = customVjp((v: Tensor) => v, (v: Tensor) => [v, null] as [Tensor, null], (_r: null, ct: Tensor) => { sample(); return [ct]; });
  const paramBytes = DEPTH * (WIDTH * WIDTH + WIDTH) * 4;
  const base = live();
  const t0 = performance.now();
  let h = atInput(x);
  if (mode === "plain") h = layers.reduce((y, l) => l.forward(y), h);
  else if (mode === "layer") for (let i = 0; i < layers.length; i += 3) h = nn.checkpointSequential(layers.slice(i, i + 3), 1, h);
  else h = nn.checkpointSequential(layers, 8, h);
  const loss = sum(h.square());
  const afterForward = live();
  peak = Math.max(peak, afterForward);
  loss.backward();
  const ms = performance.now() - t0;
  sample();
  return { peak: peak - base, afterForward: afterForward - base, base, gradBytes: paramBytes, ms };
}

const mode = process.argv[2] as Mode | undefined;
if (mode !== undefined) {
  console.log(JSON.stringify({ mode, ...run(mode) }));
} else {
  const here = fileURLToPath(import.meta.url);
  const rows: Record<string, { peak: number; afterForward: number; gradBytes: number; ms: number }> = {};
  for (const m of ["plain", "layer", "seg8"] as const) {
    const r = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", here, m], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`checkpoint-memory ${m} failed: ${r.stderr}`);
    rows[m] = JSON.parse(r.stdout.trim().split("\n").pop()!);
  }
  const mb = (b: number) => (b / 2 ** 20).toFixed(1);
  const plain = rows.plain!;
  console.log(`${DEPTH}-layer ${WIDTH}-wide tanh MLP, batch ${BATCH}, float32, one backward() step (parameters ${mb(plain.gradBytes)} MB, gradients as much)`);
  console.log("| mode | graph kept after forward | ratio | peak live above parameters | ratio | step time |");
  console.log("|---|---|---|---|---|---|");
  const names: Record<string, string> = { plain: "plain", layer: "every layer checkpointed", seg8: "8 segments of 8 layers" };
  for (const m of ["plain", "layer", "seg8"]) {
    const r = rows[m]!;
    console.log(`| ${names[m]} | ${mb(r.afterForward)} MB | ${(r.afterForward / plain.afterForward).toFixed(2)} | ${mb(r.peak)} MB | ${(r.peak / plain.peak).toFixed(2)} | ${(r.ms / 1000).toFixed(1)} s |`);
  }
}
