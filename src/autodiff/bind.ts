import type { Primitive } from "../core/primitive.js";
import { Tensor } from "../core/tensor.js";
import { IMPERATIVE_TRACE, gradMode, type Trace } from "./trace.js";
import { recordNode } from "./record.js";
import { checkForward, anomalyState } from "./anomaly.js";
import { ShapeError } from "../core/errors.js";
import { fmtShape } from "../core/shape.js";
import type { StageTrace } from "../jit/stage.js";
import { deviceState } from "../core/device.js";

/** Whether any input lives on a device (only asked once a device tensor has existed). */
function onDevice(x: Tensor[]): boolean {
  for (let i = 0; i < x.length; i++) if (x[i]!._device !== null) return true;
  return false;
}

/**
 * Applies a primitive: the single entry point every op goes through.
 *
 * With no tracer among the inputs it calls the kernel directly, so there is no recording cost outside
 * transforms. Otherwise the newest trace among the inputs handles the op: it unboxes its own tracers,
 * applies the primitive one level down (which may itself be traced by an older transform), and boxes
 * the result — recording a node (reverse) or pushing tangents through the JVP rule (forward).
 */
export function bind<P>(prim: Primitive<P>, x: Tensor[], params: P): Tensor {
  let top: Trace | null = null;
  let skipped = false;
  for (let i = 0; i < x.length; i++) {
    const tr = x[i]!._trace;
    if (tr === null) continue;
    if (tr === IMPERATIVE_TRACE && !gradMode.enabled) {
      skipped = true;
      continue;
    }
    if (top === null || tr.id > top.id) top = tr;
  }
  if (top === null) {
    // Inside noGrad, requiresGrad tensors act as the constants they box.
    if (skipped) x = x.map((xi) => (xi._trace === IMPERATIVE_TRACE ? xi._primal! : xi));
    // Device tensors run the device's kernel of this primitive; CPU programs pay the one boolean test.
    const out = deviceState.active && onDevice(x) ? deviceState.backend!.apply(prim, x, params) : prim.impl(x, params);
    if (anomalyState.enabled) checkForward(prim.name, x, out);
    return out;
  }
  const primals = new Array<Tensor>(x.length);
  for (let i = 0; i < x.length; i++) {
    const xi = x[i]!;
    primals[i] = xi._trace === top ? xi._primal! : xi;
  }
  if (top.kind === "batch") return bindBatched(prim, x, primals, params, top);
  if (top.kind === "stage") return (top as StageTrace).apply(prim, x, primals, params);
  const outPrimal = bind(prim, primals, params);
  if (prim.nonDifferentiable) return outPrimal;
  const out = Tensor._box(outPrimal, top);
  if (top.kind === "reverse") {
    out._node = recordNode(prim as Primitive, params, x, primals, outPrimal, top);
  } else {
    const tangents = new Array<Tensor | null>(x.length);
    let any = false;
    for (let i = 0; i < x.length; i++) {
      const xi = x[i]!;
      const t = xi._trace === top ? xi._tangent : null;
      tangents[i] = t;
      if (t !== null) any = true;
    }
    out._tangent = any ? prim.jvp(primals, tangents, outPrimal, params) : null;
    if (anomalyState.enabled && out._tangent !== null) {
      checkForward(prim.name, tangents.filter((t): t is Tensor => t !== null), out._tangent, "jvp", undefined, primals);
    }
  }
  return out;
}

/**
 * Applies a primitive at a batch trace (vmap): the batching rule computes every example at once on
 * the unboxed values (one level down, so older transforms record or differentiate the ops it uses).
 */
function bindBatched<P>(prim: Primitive<P>, x: Tensor[], primals: Tensor[], params: P, top: Trace): Tensor {
  const batched = x.map((xi) => xi._trace === top);
  const out = prim.batch(primals, batched, params, top.size, prim);
  if (out.shape[0] !== top.size) {
    throw new ShapeError(`${prim.name}: internal error: the batching rule returned shape ${fmtShape(out.shape)}, expected the batch axis (size ${top.size}) in front; please report this`);
  }
  return Tensor._boxBatch(out, top);
}
