// Descend: plain gradient descent on the page's expression, x ← x − lr·∂L/∂x for every input at once,
// with the library in the browser (valueAndGrad, float64). The run stops early when L stops being finite.
import { compileExpression } from "../../cli/expression.js";
import { bindVariables, parseBindings } from "../../cli/bindings.js";
import * as lib from "../../browser.js";
import type { Tensor } from "../../core/tensor.js";

/** Steps of one run. */
export interface DescentRun {
  names: string[];
  /** L at each step (steps + 1 values: before the first step and after each). */
  loss: number[];
  /** Each input's value at each step, by input. */
  path: number[][];
  /** Why the run stopped before `steps` (L not finite), if it did. */
  stopped?: string;
}

/**
 * Runs `steps` steps of gradient descent with learning rate `lr` on `expression` from the values in `at`.
 * @throws ParseError or ValueError from the expression or the values (the page shows the message)
 */
export function descend(expression: string, at: string, lr: number, steps: number): DescentRun {
  if (!Number.isFinite(lr) || lr <= 0) throw new RangeError(`descend: the learning rate must be a positive number, got ${lr}`);
  const bound = bindVariables(compileExpression(expression), parseBindings([at], "page"), "page");
  const argnums = bound.tensors.map((_, i) => i);
  const step = lib.valueAndGrad(bound.fn, { argnums });
  let xs: Tensor[] = bound.tensors;
  const loss: number[] = [];
  const path: number[][] = bound.names.map(() => []);
  let stopped: string | undefined;
  for (let k = 0; k <= steps; k++) {
    const [value, grads] = step(...xs) as unknown as [Tensor, Tensor[]];
    const L = value.item();
    loss.push(L);
    xs.forEach((x, i) => path[i]!.push(x.item()));
    if (!Number.isFinite(L)) {
      stopped = `L is ${L} at step ${k}`;
      break;
    }
    if (k === steps) break;
    xs = xs.map((x, i) => lib.sub(x, lib.mul(grads[i]!, lr)));
  }
  return { names: bound.names, loss, path, ...(stopped ? { stopped } : {}) };
}
