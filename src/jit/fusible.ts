import type { Primitive } from "../core/primitive.js";
import { jsFusible } from "../kernels/fused-loop.js";
import { prims as elementwisePrims } from "../ops/elementwise.js";
import { mathPrims } from "../ops/math.js";
import { fusedGradPrims } from "../ops/fused-grad.js";
import { castPrim, stopPrim, wherePrim } from "../ops/select.js";
import { broadcastPrim, reshapePrim } from "../ops/layout.js";
import { sumPrim } from "../ops/reduce.js";

let fusible: Set<Primitive> | null = null;

/**
 * Whether `prim` is one of the library's elementwise primitives that fused loops implement. Decided by the
 * primitive object, never its name: a user's customVjp may be called "exp" too.
 */
export function isFusiblePrim(prim: Primitive): boolean {
  if (fusible === null) {
    const all = [
      ...Object.values(elementwisePrims), ...Object.values(mathPrims), ...Object.values(fusedGradPrims),
      castPrim, stopPrim, wherePrim, broadcastPrim, reshapePrim,
    ] as Primitive[];
    fusible = new Set(all.filter((p) => jsFusible(p.name)));
  }
  return fusible.has(prim);
}

/** Whether `prim` is the library's sum (by object, as above). */
export function isSumPrim(prim: Primitive): boolean {
  return prim === sumPrim;
}
