import type { Tensor } from "./tensor.js";

/**
 * A primitive op: the unit the engine records and differentiates. Everything else in chainrule
 * is composed from these. The JVP, VJP and batching rules are required fields, so a primitive without a rule does not compile.
 *
 * Conventions (see DESIGN.md): `x` inputs (primal values), `out` output, `t` tangents, `ct` cotangent.
 * `null` is a symbolic zero. Rules use public differentiable ops only, so higher order works by composition.
 */
export interface Primitive<P = unknown> {
  /** The op's public function name; used unchanged in errors, DOT and the page. */
  readonly name: string;
  /** Computes the output from concrete inputs (kernels); throws ShapeError/DTypeError on bad input. */
  impl(x: Tensor[], params: P): Tensor;
  /** Forward-mode rule: output tangent from input tangents. Broadcasting of tangents is handled by the ops used. */
  jvp(x: Tensor[], t: (Tensor | null)[], out: Tensor, params: P): Tensor | null;
  /**
   * Reverse-mode rule (pullback): one cotangent per input. A cotangent may have the broadcast (output)
   * shape; the engine sums it back to the input's shape and checks it. `needs[i]` is false when input i
   * is a constant at this trace, so the rule may skip it (return null).
   */
  vjp(ct: Tensor, x: Tensor[], out: Tensor, params: P, needs: readonly boolean[]): (Tensor | null)[];
  /**
   * Batching rule (for `vmap`): the op applied to a batch of examples at once. Batched inputs
   * (`batched[i]`) carry the batch axis, of length `size`, in front; the others are the same for every
   * example. Returns the output with the batch axis in front. Rules call ordinary ops (mostly the
   * primitive itself with moved axes or adjusted parameters), so other transforms see ordinary ops;
   * they never loop over the batch. `self` is the primitive, for the shared rule builders in
   * src/core/batching.ts.
   */
  batch(x: Tensor[], batched: readonly boolean[], params: P, size: number, self: Primitive<P>): Tensor;
  /**
   * Elementwise ops only: the local partial derivatives ∂out/∂xᵢ as tensors (null = zero) and as formulas
   * in terms of the input and output names, for the step-through explanations.
   */
  partials?(x: Tensor[], out: Tensor, params: P): (Tensor | number | null)[];
  formulas?(names: string[], outName: string, params: P): string[];
  /**
   * Which primal values the VJP reads (PyTorch's saved tensors, JAX's residuals): `residuals[i]` lists
   * what computing input i's cotangent needs — input indices and/or "out". Only what the inputs that
   * need cotangents ask for is kept on the recorded graph; any other input or output reaches `vjp` as
   * a stand-in with the right shape and dtype whose value cannot be read. Omitted: everything is kept.
   */
  readonly residuals?: readonly (readonly (number | "out")[])[];
  /** True for ops whose output carries no gradient (comparisons, argmax, …). */
  readonly nonDifferentiable?: boolean;
}
