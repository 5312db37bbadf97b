// Optimizers in functional form (sgd, adam, adamw: init/update over a params pytree) and imperative
// form (SGD, Adam, AdamW classes: step/zeroGrad on requiresGrad leaves), and learning-rate schedules.
export * from "./rules.js";
export * from "./optimizer.js";
export * from "./schedules.js";
export * from "./more-rules.js";
export * from "./clip.js";
