import type { Tensor } from "../core/tensor.js";
import type { Primitive } from "../core/primitive.js";
import { ValueError } from "../core/errors.js";
import { deviceState, onDeviceOf } from "../core/device.js";
import { moveAxis, withBatch } from "../core/batching.js";
import { bind } from "../autodiff/bind.js";
import { arange } from "./creation.js";
import { reshape } from "./layout.js";
import { where } from "./select.js";
import { add, less, mul } from "./elementwise.js";

// Batching rules of gather and scatterAdd. With batched indices, example b's indices must select from
// example b's rows: the batch axis is folded into the indexed axis (length B·n) and example b's indices
// are offset by b·n, so one gather or scatter serves the whole batch (JAX's batched gather does the
// same with an extra index dimension).

/**
 * Indices of every example shifted into the folded axis: index i of example b becomes b·n + (i mod n).
 * @throws ValueError for an index outside [−n, n): folded, it would silently pick another example's row
 */
function foldedIndices(op: string, idx: Tensor, n: number, axis: number, size: number): Tensor {
  const concrete = idx._concreteValue(true);
  // Indices on the GPU are checked there; one out of range makes the next read-back throw this message.
  if (concrete._device !== null) deviceState.backend!.checkRange(op, concrete, -n, n, `for axis ${axis} of length ${n}`, "");
  const data = concrete._device !== null ? new Int32Array(0) : concrete.data;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v < -n || v >= n) throw new ValueError(`${op}: index ${v} is out of range for axis ${axis} of length ${n}; expected an integer in [${-n}, ${n - 1}]`);
  }
  const wrapped = where(less(idx, 0), add(idx, n), idx);
  const offsets = reshape(mul(arange(0, size, 1, "int32"), n), [size, ...new Array<number>(idx.rank - 1).fill(1)]);
  return add(wrapped, onDeviceOf(offsets, idx));
}

/** x batched at 0: [B, pre, n, post] → [pre, B·n, post]. */
function foldInto(x: Tensor, axis: number): Tensor {
  const moved = moveAxis(x, 0, axis);
  const s = [...moved.shape];
  s.splice(axis, 2, s[axis]! * s[axis + 1]!);
  return reshape(moved, s);
}

/** Batching rule of gather (x, indices; params: the axis of x). */
export function gatherBatch(x: Tensor[], batched: readonly boolean[], p: { readonly axis: number }, size: number, self: Primitive<{ readonly axis: number }>): Tensor {
  const [t, idx] = x as [Tensor, Tensor];
  const [bx, bi] = batched;
  if (!bi) return bind(self, [t, idx], { axis: p.axis + 1 });
  // Unbatched x: the batch axis of the indices lands at `axis` of the result.
  if (!bx) return moveAxis(bind(self, [t, idx], p), p.axis, 0);
  const n = t.shape[p.axis + 1]!;
  return moveAxis(bind(self, [foldInto(t, p.axis), foldedIndices("gather", idx, n, p.axis, size)], p), p.axis, 0);
}

interface ScatterParams {
  readonly axis: number;
  readonly shape: readonly number[];
}

/** Batching rule of scatterAdd (updates, indices; params: the axis and the result's shape). */
export function scatterBatch(x: Tensor[], batched: readonly boolean[], p: ScatterParams, size: number, self: Primitive<ScatterParams>): Tensor {
  const [upd, idx] = x as [Tensor, Tensor];
  const [bu, bi] = batched;
  if (!bi) return bind(self, [upd, idx], { axis: p.axis + 1, shape: [size, ...p.shape] });
  const n = p.shape[p.axis]!;
  const folded = [...p.shape];
  folded[p.axis] = size * n;
  const out = bind(self, [moveAxis(withBatch(upd, bu!, size), 0, p.axis), foldedIndices("scatterAdd", idx, n, p.axis, size)], { axis: p.axis, shape: folded });
  const split = [...p.shape];
  split.splice(p.axis, 1, size, n);
  return moveAxis(reshape(out, split), p.axis, 0);
}
