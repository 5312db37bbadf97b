// Neural-network building blocks: activations, losses, convolution and pooling, modules, initialisers.
export * from "./activations.js";
export * from "./losses.js";
export * from "./conv.js";
export * from "./linear.js";
export * from "./init.js";
export * from "./module.js";
export * from "./layers.js";
export * from "./models.js";
export * from "./bigram.js";
export * from "./embedding.js";
export * from "./normalization.js";
export * from "./char-mlp.js";
export * from "./char-lm.js";
export * from "./attention.js";
export * from "./train.js";
export * from "./checkpoint.js";
