import { Tensor, type TensorLike } from "../core/tensor.js";
import { GradientError } from "../core/errors.js";
import { fmtShape, sameShape } from "../core/shape.js";
import { IMPERATIVE_TRACE, gradMode } from "./trace.js";
import { backwardPass } from "./reverse.js";
import { add, cast, onesLike, toTensor } from "../ops/index.js";

/**
 * `loss.backward()`: reverse mode on the imperative trace (PyTorch semantics). Adds each leaf's
 * gradient into its `.grad`, then releases the graph unless `retainGraph`.
 */
export function backward(y: Tensor, ctIn: TensorLike | undefined, retainGraph: boolean): void {
  if (y._trace !== IMPERATIVE_TRACE || y._node === null) {
    const hint = y._trace === null
      ? "it does not depend on any tensor created with { requiresGrad: true }"
      : "it is a tracer of a functional transform; use grad/vjp there instead";
    throw new GradientError(`backward: cannot differentiate this tensor: ${hint}`);
  }
  const root = y._node;
  if (root.freed) {
    throw new GradientError("backward: the graph behind this tensor was already released by an earlier backward(); pass { retainGraph: true } to the first call to go through it twice");
  }
  const primal = y._primal!;
  let ct: Tensor;
  if (ctIn === undefined) {
    if (primal.size !== 1) {
      throw new GradientError(`backward: output has shape ${fmtShape(primal.shape)}; an implicit cotangent of 1 needs a one-element output, so pass one of the same shape: y.backward(ct)`);
    }
    ct = onesLike(primal);
  } else {
    ct = ctIn instanceof Tensor ? ctIn._concreteValue() : toTensor(ctIn, primal.dtype);
    if (!sameShape(ct.shape, primal.shape)) {
      throw new GradientError(`backward: cotangent has shape ${fmtShape(ct.shape)}, expected ${fmtShape(primal.shape)} (the output's shape)`);
    }
    if (ct.dtype !== primal.dtype) ct = cast(ct, primal.dtype);
  }
  const order = backwardPass(root, ct);
  for (const node of order) {
    if (node.prim === null && node.leaf !== null && node.ct !== null) {
      const leaf = node.leaf;
      const g = node.ct;
      leaf.grad = leaf.grad === null ? g : add(leaf.grad, g);
    }
    node.ct = null;
  }
  if (!retainGraph) {
    // Drop saved values and edges so the intermediate tensors can be collected; leaves stay usable.
    for (const node of order) if (node.prim !== null) node.release();
  }
}

/** Sets `.grad` to null on each tensor (PyTorch's `zero_grad(set_to_none=True)`). */
export function zeroGrad(tensors: Iterable<Tensor>): void {
  for (const t of tensors) t.grad = null;
}

/**
 * @internal Replaces the value of a `requiresGrad` leaf in place (what `optimizer.step()` and
 * `module.loadStateDict()` need: the user keeps holding the same leaf). Graphs recorded earlier keep
 * the old value; `.grad` is left alone.
 * @throws GradientError when `leaf` is not a requiresGrad leaf, or `value` has another shape or dtype
 */
export function assignLeaf(leaf: Tensor, value: Tensor): void {
  const node = leaf._node;
  if (leaf._trace !== IMPERATIVE_TRACE || node === null || node.prim !== null || node.leaf !== leaf) {
    throw new GradientError("assignLeaf: the target is not a leaf created with { requiresGrad: true }");
  }
  const v = value._concreteValue();
  if (!sameShape(v.shape, leaf.shape) || v.dtype !== leaf.dtype) {
    throw new GradientError(`assignLeaf: new value has shape ${fmtShape(v.shape)} and dtype ${v.dtype}, expected ${fmtShape(leaf.shape)} and ${leaf.dtype}`);
  }
  leaf._primal = v;
  node.out = v;
}

/**
 * Runs `fn` without recording ops on `requiresGrad` tensors (PyTorch's `torch.no_grad()`): inside it they
 * act as plain constants, e.g. for an optimizer's parameter update or for evaluation. Functional
 * transforms (grad, jvp, …) still work inside. Restores the previous mode even if `fn` throws.
 */
export function noGrad<T>(fn: () => T): T {
  const prev = gradMode.enabled;
  gradMode.enabled = false;
  try {
    return fn();
  } finally {
    gradMode.enabled = prev;
  }
}
