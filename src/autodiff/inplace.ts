import { Tensor, type TensorLike } from "../core/tensor.js";
import { DTypeError, GradientError, ShapeError, ValueError } from "../core/errors.js";
import { fmtShape, sameShape } from "../core/shape.js";
import { isFloat } from "../core/dtype.js";
import { IMPERATIVE_TRACE, Node, gradMode, pinned, storageWrites, writeClock } from "./trace.js";
import { add, div, mul, sub, toTensor } from "../ops/index.js";
import { operands } from "../ops/operands.js";
import { deviceState } from "../core/device.js";

// Updating tensors in place (PyTorch's `add_`/`copy_` under `no_grad`, tfjs's `variable.assign`) on the
// one engine. An update writes into the tensor's storage, so every tensor sharing that storage (detach(),
// reshape views, the value of a requiresGrad leaf) sees it, and it advances the storage's version. A
// recorded graph that saved the old value for its backward pass then refuses to run (see `checkSaved`),
// as PyTorch's version counter does, instead of silently using the new value.

/** The in-place arithmetic kinds, by method name. */
export type InPlaceOp = "assign" | "addInPlace" | "subInPlace" | "mulInPlace" | "divInPlace";

const ARITH = { addInPlace: add, subInPlace: sub, mulInPlace: mul, divInPlace: div } as const;

/**
 * The concrete tensor whose storage an in-place update of `target` writes, after checking that the
 * update is allowed there.
 * @throws GradientError for tracers of functional transforms, values computed from requiresGrad tensors,
 *   and requiresGrad leaves while gradients are recorded; ValueError for a shared constant
 */
function storageTarget(op: InPlaceOp, target: Tensor): Tensor {
  if (target._data !== null || target._device !== null) {
    if (pinned.constants.has(target)) {
      throw new ValueError(`${op}: this tensor is a constant shared by every op that was given the same plain number; update a tensor you created (tensor(…), zeros(…)) instead`);
    }
    return target;
  }
  if (target._trace === IMPERATIVE_TRACE) {
    const node = target._node;
    if (node === null || node.prim !== null || node.leaf !== target) {
      throw new GradientError(`${op}: this tensor is computed from requiresGrad tensors (it is not a leaf); only leaves and plain tensors can be updated in place. Use the out-of-place op (e.g. x.sub(y)), or update x.detach() (which shares storage)`);
    }
    if (gradMode.enabled) {
      throw new GradientError(`${op}: this leaf requires grad and gradients are being recorded; wrap the update in noGrad(() => …), as PyTorch's torch.no_grad()`);
    }
    return target._primal!;
  }
  if (target._primal === null && target._trace === null) {
    throw new GradientError(`${op}: this tensor is a placeholder for a value the recorded graph did not keep; it cannot be updated`);
  }
  throw new GradientError(`${op}: cannot update a tensor in place inside grad, vjp, jvp or another transform (its tensors are tracers, immutable); compute a new tensor with the out-of-place op instead`);
}

/**
 * The concrete value of an update's operand. Inside noGrad a requiresGrad tensor gives its value;
 * elsewhere an operand that requires grad is refused, since the target would have to join its graph.
 */
function operandValue(op: InPlaceOp, v: Tensor): Tensor {
  if (v._data !== null || v._device !== null) return v;
  if (v._trace === IMPERATIVE_TRACE) {
    if (!gradMode.enabled) return v._concreteValue();
    throw new GradientError(`${op}: the value requires grad, so the updated tensor would have to join its graph; pass value.detach(), or run the update inside noGrad(() => …)`);
  }
  throw new GradientError(`${op}: the value is a tracer of grad, vjp, jvp or another transform; an in-place update cannot take values out of a transform`);
}

/** Records that `data` (a typed array, or a device tensor's storage) was written now, so graphs that saved it before can tell. */
export function markWritten(data: object): void {
  writeClock.now++;
  storageWrites.set(data, writeClock.now);
}

/**
 * Implements `t.assign(v)` and `t.addInPlace(y)`, … (see their documentation on Tensor).
 * @returns `target`, for chaining
 */
export function updateInPlace(op: InPlaceOp, target: Tensor, y: TensorLike): Tensor {
  const dst = storageTarget(op, target);
  let value: Tensor;
  if (op === "assign") {
    if (typeof y === "number") value = toTensor(y, dst.dtype);
    else if (y instanceof Tensor) {
      value = operandValue(op, y);
      if (!sameShape(value.shape, dst.shape) || value.dtype !== dst.dtype) {
        throw new ShapeError(`assign: the value has shape ${fmtShape(value.shape)} and dtype ${value.dtype}, expected the target's ${fmtShape(dst.shape)} and ${dst.dtype} (assign neither broadcasts nor casts; use .astype(…) or broadcastTo(…) first)`);
      }
    } else throw new ValueError(`assign: the value must be a tensor or a number, got ${y === null ? "null" : typeof y}`);
  } else {
    const [a, b] = operands(op, dst, typeof y === "number" ? y : y instanceof Tensor ? operandValue(op, y) : (y as never));
    value = ARITH[op](a, b);
    if (!sameShape(value.shape, dst.shape)) {
      throw new ShapeError(`${op}: the result has shape ${fmtShape(value.shape)}, but the target has shape ${fmtShape(dst.shape)}; an in-place update cannot change the target's shape (the operand must broadcast to it)`);
    }
    if (value.dtype !== dst.dtype) {
      throw new DTypeError(`${op}: the result has dtype ${value.dtype}, which cannot be stored in the target's ${dst.dtype}; cast the target first (x = x.astype("${value.dtype}")) or use the out-of-place op`);
    }
  }
  if (dst._device !== null) {
    // On the GPU the device writes the values (a one-element value fills the target).
    deviceState.backend!.writeInto(dst, value);
    markWritten(dst._device);
    return target;
  }
  const data = dst._data!;
  const src = value.data;
  if (src.length === 1 && data.length !== 1) data.fill(src[0]!);
  else if (src !== data) data.set(src);
  markWritten(data);
  return target;
}

/**
 * Implements the `requiresGrad` setter: turns a plain float tensor into a requiresGrad leaf in place
 * (the object the user holds becomes the leaf), or a leaf back into a plain tensor. Values computed
 * from requiresGrad tensors can only keep requiring grad (as PyTorch).
 * @throws DTypeError for int/bool tensors; GradientError for non-leaves and tracers of transforms
 */
export function setRequiresGrad(t: Tensor, flag: boolean): void {
  if (typeof flag !== "boolean") throw new ValueError(`requiresGrad: expected true or false, got ${typeof flag}`);
  if ((t._data !== null || t._device !== null) && t._trace === null) {
    if (!flag) return;
    if (!isFloat(t.dtype)) {
      throw new DTypeError(`requiresGrad: only float tensors can require grad; this one has dtype ${t.dtype} (make a float copy with .astype("float32"))`);
    }
    if (pinned.constants.has(t) || pinned.leafValues.has(t)) {
      throw new GradientError("requiresGrad: this tensor is the value of a requiresGrad leaf or a shared constant, which must stay a plain tensor; use x.detach() for a new tensor sharing its storage, or tensor(x.toArray()) for a copy");
    }
    const value = Tensor._sameStorage(t);
    value.name = t.name;
    t._data = null;
    t._device = null;
    t._primal = value;
    t._trace = IMPERATIVE_TRACE;
    t._node = Node.leaf(value, t);
    pinned.leafValues.add(value);
    return;
  }
  if (t._trace === IMPERATIVE_TRACE) {
    const node = t._node;
    const isLeaf = node !== null && node.prim === null && node.leaf === t;
    if (flag) return;
    if (!isLeaf) {
      throw new GradientError("requiresGrad: only leaves can stop requiring grad; this tensor is computed from requiresGrad tensors. Use x.detach() for a tensor outside the graph");
    }
    const value = t._primal!;
    t._data = value._data;
    t._device = value._device;
    t._primal = null;
    t._trace = null;
    t._node = null;
    return;
  }
  throw new GradientError("requiresGrad: cannot change it on a tracer of grad, vjp, jvp or another transform; it is set by the transform");
}

/** The storage array under a saved value, or null for a number or a value-less placeholder. */
function storageOf(v: Tensor | number | null): object | null {
  if (v === null || typeof v === "number") return null;
  let t: Tensor | null = v;
  while (t !== null && t._data === null && t._device === null) t = t._primal;
  return t === null ? null : t._data ?? t._device;
}

/**
 * Before `node`'s VJP rule runs: throws if a value the rule reads (per `Primitive.residuals`) was
 * written in place after the node was recorded. Called only when some in-place write happened since
 * then, so programs that never update in place pay one comparison per node.
 * @throws GradientError naming the op, the input and its shape
 */
export function checkSaved(node: Node): void {
  const prim = node.prim!;
  const residuals = prim.residuals;
  const reads = new Set<number | "out">();
  for (let i = 0; i < node.arity; i++) {
    if (!(node.input(i) instanceof Node)) continue;
    const r = residuals?.[i];
    if (r === undefined) {
      for (let j = 0; j < node.arity; j++) reads.add(j);
      reads.add("out");
    } else for (const w of r) reads.add(w);
  }
  for (const r of reads) {
    let v: Tensor | number | null;
    if (r === "out") v = node.out;
    else {
      const p = node.input(r);
      v = p instanceof Node ? p.out : p;
    }
    const data = storageOf(v);
    if (data === null) continue;
    const written = storageWrites.get(data);
    if (written !== undefined && written > node.stamp) {
      const what = r === "out" ? "its output" : `its input ${r}`;
      const shape = r === "out" ? node.shape : v instanceof Tensor ? v.shape : [];
      throw new GradientError(`backward: ${prim.name} saved ${what} (shape ${fmtShape(shape)}) for its gradient, and that tensor was then modified in place (assign, subInPlace, …); the gradient would be wrong. Do the update after backward(), or update a copy instead`);
    }
  }
}
