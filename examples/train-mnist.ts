// Train a 784-256-10 MLP on MNIST digits with chainrule's public API, in the functional style:
// valueAndGrad over the parameter object, then Adam's pure update. Run: npx tsx examples/train-mnist.ts
import { argmax, data, io, nn, noGrad, optim, Rng, valueAndGrad, type Tensor } from "../src/index.js";

const EPOCHS = 5;
const { train, test } = data.mnistSplit({ seed: 0 }); // 8,000 training and 2,000 held-out digits

const model = new nn.MLP([784, 256, 10], { rng: new Rng(0) });
const adam = optim.adam({ lr: 1e-3 });
let params = model.stateDict(); // { "0.weight": [256,784], "0.bias": [256], "2.weight": [10,256], "2.bias": [10] } (PyTorch's layout)
let state = adam.init(params);

// The loss as a function of the parameters; valueAndGrad differentiates with respect to its first argument.
const step = valueAndGrad((p: nn.StateDict, x: Tensor, y: Tensor) => nn.crossEntropy(model.apply(p, x), y));

const shuffle = new Rng(0);
for (let epoch = 1; epoch <= EPOCHS; epoch++) {
  let total = 0;
  for (const [x, y] of data.batches(train, 128, { rng: shuffle })) {
    const [loss, grads] = step(params, x, y);
    ({ params, state } = adam.update(params, grads, state));
    total += loss.item() * y.size;
  }
  const { accuracy } = nn.evaluate(model, params, test);
  console.log(`epoch ${epoch}: train loss ${(total / train.labels.size).toFixed(4)}, test accuracy ${(100 * accuracy).toFixed(2)}%`);
}

// Put the trained values into the model, save them, and classify a few held-out digits.
model.loadStateDict(params);
io.saveModule("mnist-mlp.safetensors", model, { model: "mlp" });
const first = data.subset(test, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
const predicted = noGrad(() => argmax(model.forward(first.images), -1));
console.log("predicted", Array.from(predicted.data).join(" "));
console.log("true     ", Array.from(first.labels.data).join(" "));
