import type { Primitive } from "./primitive.js";
import type { Tensor } from "./tensor.js";
import { bind } from "../autodiff/bind.js";
import { broadcastTo, reshape, transpose } from "../ops/index.js";

// Shared batching rules (JAX's `batching.defbroadcasting`, `defreducer`, … in spirit). Every batched
// value reaching a rule has its batch axis in front, so most primitives batch by calling themselves
// with the batch axis lined up (broadcasting ops) or their axis parameters shifted by one. None loops
// over the batch: each rule is one or a few calls of ordinary ops on the whole batch.

/** A batching rule, as `Primitive.batch`. */
export type BatchRule<P> = (x: Tensor[], batched: readonly boolean[], params: P, size: number, self: Primitive<P>) => Tensor;

const ones = (n: number): number[] => new Array<number>(Math.max(n, 0)).fill(1);

/** `x` with the batch axis in front: itself when batched, else repeated `size` times along a new axis 0. */
export function withBatch(x: Tensor, batched: boolean, size: number): Tensor {
  return batched ? x : broadcastTo(reshape(x, [1, ...x.shape]), [size, ...x.shape]);
}

/** Moves axis `from` of `x` to position `to` (NumPy's moveaxis), as one transpose. */
export function moveAxis(x: Tensor, from: number, to: number): Tensor {
  if (from === to) return x;
  const perm = Array.from({ length: x.rank }, (_, i) => i).filter((i) => i !== from);
  perm.splice(to, 0, from);
  return transpose(x, perm);
}

/**
 * For ops that broadcast their operands NumPy-style over leading dimensions around a core of `core`
 * trailing dimensions (elementwise ops: 0; matmul: 2). Batched operands get 1s inserted after the batch
 * axis so that every operand's example dimensions line up; unbatched ones broadcast against the batch
 * axis by the op's own rule. Then the primitive itself runs once on the whole batch.
 */
export function broadcastingRule<P>(core = 0): BatchRule<P> {
  return (x, batched, params, size, self) => {
    let lead = 0;
    x.forEach((xi, i) => (lead = Math.max(lead, xi.rank - (batched[i] ? 1 : 0) - core)));
    const xs = x.map((xi, i) => {
      if (!batched[i]) return xi;
      const have = xi.rank - 1 - core;
      return have < lead ? reshape(xi, [size, ...ones(lead - have), ...xi.shape.slice(1)]) : xi;
    });
    return bind(self, xs, params);
  };
}

/**
 * For ops whose operands must agree in shape (or whose axis parameters say where to work): every
 * operand gets the batch axis in front (unbatched ones repeated), and `shift` rewrites the
 * parameters for inputs one rank higher (axes + 1, shapes with the batch size in front).
 */
export function leadingRule<P>(shift: (params: P, size: number) => P = (p) => p): BatchRule<P> {
  return (x, batched, params, size, self) => bind(self, x.map((xi, i) => withBatch(xi, batched[i]!, size)), shift(params, size));
}

/** Reductions and scans: parameters naming axes of the input, shifted past the batch axis. */
export const shiftAxes = <P extends { readonly axes: readonly number[] }>(p: P): P => ({ ...p, axes: p.axes.map((a) => a + 1) });
export const shiftAxis = <P extends { readonly axis: number }>(p: P): P => ({ ...p, axis: p.axis + 1 });

/**
 * For ops on an "examples" axis N at position `axis` of some inputs (conv, pooling: NCHW): the vmap
 * batch axis is merged into N (B·N examples), the primitive runs once with `merge` adjusting its
 * parameters, and the output's N axis (at `outAxis`) is split into B and N again, B moved to the front.
 * `carriers` lists the inputs with an N axis (default all); the others must be unbatched and pass unchanged.
 */
export function mergedRule<P>(axis: number, outAxis: number, merge: (params: P, size: number) => P, carriers?: readonly number[]): BatchRule<P> {
  return (x, batched, params, size, self) => {
    const carries = (i: number): boolean => carriers === undefined || carriers.includes(i);
    const first = carriers?.[0] ?? 0;
    const n = x[first]!.shape[batched[first] ? axis + 1 : axis]!;
    const xs = x.map((xi, i) => {
      if (!carries(i)) return xi;
      const b = moveAxis(withBatch(xi, batched[i]!, size), 0, axis);
      const s = [...b.shape];
      s.splice(axis, 2, s[axis]! * s[axis + 1]!);
      return reshape(b, s);
    });
    const out = bind(self, xs, merge(params, size));
    const s = [...out.shape];
    s.splice(outAxis, 1, size, n);
    return moveAxis(reshape(out, s), outAxis, 0);
  };
}
