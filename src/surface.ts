// The public surface shared by the Node entry (index.ts) and the browser entry (browser.ts): re-exports only.
// Add new exports here unless they need Node (files, threads, FFI), which go in index.ts alone.
export { Tensor, type TensorLike, type NestedArray } from "./core/tensor.js";
export type { DType, TypedArray } from "./core/dtype.js";
export type { Shape } from "./core/shape.js";
export { ChainruleError, ShapeError, DTypeError, GradientError, ParseError, ValueError, AnomalyError } from "./core/errors.js";
export { Rng } from "./core/random.js";
export { setThreads, getThreads, setBackend, getBackend, availableBackends } from "./kernels/registry.js";
export type { BackendName, BackendInfo } from "./kernels/backend.js";
export type { Device } from "./core/device.js";
export { initWebGPU, type WebGPUDevice } from "./kernels/webgpu/index.js";
export * from "./ops/index.js";
export { grad, valueAndGrad, vjp, jvp, type GradOptions } from "./autodiff/transforms.js";
export { zeroGrad, noGrad } from "./autodiff/imperative.js";
export { nameScope, currentScope } from "./autodiff/scope.js";
export { vmap, type VmapOptions, type AxisTree } from "./autodiff/vmap.js";
export { jacfwd, jacrev, hessian, hvp, type JacobianOptions } from "./autodiff/jacobian.js";
export { customVjp, customJvp, type CustomRuleOptions, type CustomVjpOptions, type CustomJvpOptions, type CustomJvpPrimals, type CustomJvpTangents } from "./autodiff/custom.js";
export { checkpoint, type CheckpointOptions } from "./autodiff/checkpoint.js";
export { jit, type JitOptions, type Jitted, type Lowered } from "./jit/jit.js";
export { checkGrads, type CheckGradsOptions } from "./autodiff/check-grads.js";
export { detectAnomaly } from "./autodiff/anomaly.js";
export type { Pytree, TensorTree } from "./autodiff/tree.js";
export { treeMap, treeLeaves, treeFlatten, treeUnflatten, TreeDef } from "./autodiff/tree.js";
/** Neural networks: activations, losses, layers and modules (`Linear`, `Conv2d`, `MLP`, …), initialisers, training helpers. */
export * as nn from "./nn/index.js";
/** Optimizers: SGD, Adam, AdamW, RMSprop and Adagrad as functional update rules and imperative classes; gradient clipping (clipGradNorm, clipGrads); learning-rate schedules. */
export * as optim from "./optim/index.js";
export { trace, type GraphTrace, type GraphNode, type BackwardStep, type BackwardEdge, type ForwardSweep, type ValueSummary, type TraceOptions } from "./viz/capture.js";
export type { GraphJSON, ValueJSON, JsonNumber } from "./viz/export-json.js";
export type { DotOptions } from "./viz/export-dot.js";
export type { HTMLOptions } from "./viz/html.js";
