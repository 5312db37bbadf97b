import { Tensor, type TensorLike } from "../core/tensor.js";
import { GradientError } from "../core/errors.js";
import { fmtShape, sameShape } from "../core/shape.js";
import { IMPERATIVE_TRACE, Node, gradMode, pinned } from "./trace.js";
import { backwardPass } from "./reverse.js";
import { seedZeros } from "./strong-zeros.js";
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
  // The rules run on concrete values, with recording off: a tensor saved as a constant may have become a
  // requiresGrad leaf since (the requiresGrad setter), and must act as the constant it was.
  const prevMode = gradMode.enabled;
  gradMode.enabled = false;
  let order: Node[];
  try {
    order = backwardPass(root, seedZeros(ct));
  } finally {
    gradMode.enabled = prevMode;
  }
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
 * @internal Replaces the value of a `requiresGrad` leaf (what `optimizer.step()` and
 * `module.loadStateDict()` need: the user keeps holding the same leaf) with new storage, not by writing
 * into the old one, so tensors that shared the old storage (a state dict taken before) keep the old
 * values. The leaf gets a fresh graph node: graphs recorded earlier keep their node and the old value,
 * so a retained graph still gives the gradient at the values it was recorded with. `.grad` is left alone.
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
  // A tensor object of our own (over the same storage), so the caller's object stays theirs.
  const own = Tensor._sameStorage(v);
  own.name = leaf._primal!.name;
  leaf._primal = own;
  leaf._node = Node.leaf(own, leaf);
  pinned.leafValues.add(own);
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
