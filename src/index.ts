// chainrule's public surface: re-exports only.
export { Tensor, type TensorLike, type NestedArray } from "./core/tensor.js";
export type { DType, TypedArray } from "./core/dtype.js";
export type { Shape } from "./core/shape.js";
export { ChainruleError, ShapeError, DTypeError, GradientError, ParseError, ValueError, AnomalyError } from "./core/errors.js";
export { Rng } from "./core/random.js";
export * from "./ops/index.js";
export { grad, valueAndGrad, vjp, jvp, type GradOptions } from "./autodiff/transforms.js";
export { zeroGrad } from "./autodiff/imperative.js";
export type { Pytree, TensorTree } from "./autodiff/tree.js";
