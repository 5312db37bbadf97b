import { Tensor } from "../core/tensor.js";
import { ValueError } from "../core/errors.js";
import { noGrad } from "../autodiff/imperative.js";
import { leaves, rebuild, type Pytree } from "../autodiff/tree.js";
import { abs, mul } from "../ops/elementwise.js";
import { max, sum } from "../ops/reduce.js";
import { norm } from "../ops/reduce-extra.js";
import { pow } from "../ops/elementwise.js";

/** Options of `clipGradNorm` and `clipGrads`. */
export interface ClipGradNormOptions {
  /** The p of the p-norm: a positive number or Infinity (max |g|). Default 2. */
  normType?: number;
  /** Throw when the total norm is NaN or infinite, instead of scaling by NaN (PyTorch's error_if_nonfinite). Default false. */
  errorIfNonfinite?: boolean;
}

/** ‖v‖_p of all elements, in float64. */
function pNorm(g: Tensor, p: number): number {
  const x = g.dtype === "float64" ? g : g.astype("float64");
  if (p === Infinity) return x.size === 0 ? 0 : max(abs(x)).item();
  if (p === 2) return norm(x).item();
  return Math.pow(sum(pow(abs(x), p)).item(), 1 / p);
}

function totalNorm(op: string, grads: readonly Tensor[], maxNorm: number, options: ClipGradNormOptions): [number, number] {
  const p = options.normType ?? 2;
  if (!(p > 0)) throw new ValueError(`${op}: normType must be a positive number or Infinity, got ${p}`);
  if (!(maxNorm >= 0)) throw new ValueError(`${op}: maxNorm must be a number ≥ 0, got ${maxNorm}`);
  const onGpu = grads.findIndex((g) => g.device !== "cpu");
  if (onGpu >= 0) {
    throw new ValueError(`${op}: gradient ${onGpu} (shape [${grads[onGpu]!.shape.join(",")}]) lives on the GPU, where the total norm that ${op} returns as a number cannot be read synchronously; clip with ops instead (scale each gradient by minimum(maxNorm / (total + 1e-6), 1), total = the norm of the gradients' norms), or move the gradients with await g.to("cpu")`);
  }
  const norms = grads.map((g) => pNorm(g, p));
  const total = p === Infinity ? Math.max(0, ...norms) : Math.pow(norms.reduce((acc, n) => acc + Math.pow(n, p), 0), 1 / p);
  if (options.errorIfNonfinite && !Number.isFinite(total)) {
    throw new ValueError(`${op}: the total ${p}-norm of the gradients is ${total}; pass errorIfNonfinite: false to scale anyway`);
  }
  // PyTorch's coefficient: maxNorm / (total + 1e-6), never above 1 (gradients are only ever shrunk).
  return [total, Math.min(maxNorm / (total + 1e-6), 1)];
}

/**
 * Rescales the `.grad` of `params` in place so that their total p-norm (the norm of the per-tensor
 * norms, all gradients as one vector) is at most `maxNorm`, as PyTorch's `clip_grad_norm_`: every
 * gradient is multiplied by min(maxNorm / (total + 1e-6), 1). Parameters with no gradient are skipped.
 * Call it between `loss.backward()` and `optimizer.step()`.
 * @param params tensors (e.g. `model.parameters()`, an object or array)
 * @returns the total norm before clipping
 * @throws ValueError for maxNorm < 0 or normType ≤ 0, for a non-finite total with `errorIfNonfinite`, and for
 *   gradients on the GPU (the norm it returns could not be read synchronously)
 */
export function clipGradNorm(params: Record<string, Tensor> | readonly Tensor[], maxNorm: number, options: ClipGradNormOptions = {}): number {
  const ps = (Array.isArray(params) ? [...params] : Object.values(params)) as Tensor[];
  const withGrad = ps.filter((p) => p.grad !== null);
  return noGrad(() => {
    const [total, coef] = totalNorm("clipGradNorm", withGrad.map((p) => p.grad!), maxNorm, options);
    if (coef < 1) for (const p of withGrad) p.grad = mul(p.grad!, coef);
    return total;
  });
}

/**
 * The functional form of `clipGradNorm`: a gradient pytree (as `grad` returns it) scaled so its total
 * p-norm is at most `maxNorm`, and that norm before clipping (Optax's clip_by_global_norm, with
 * PyTorch's coefficient min(maxNorm / (total + 1e-6), 1)).
 * @throws as `clipGradNorm`
 */
export function clipGrads<G extends Pytree>(grads: G, maxNorm: number, options: ClipGradNormOptions = {}): { grads: G; totalNorm: number } {
  const gs = leaves(grads).filter((g): g is Tensor => g instanceof Tensor);
  const [total, coef] = totalNorm("clipGrads", gs, maxNorm, options);
  if (coef >= 1) return { grads, totalNorm: total };
  return { grads: rebuild(grads, leaves(grads).map((g) => (g instanceof Tensor ? mul(g, coef) : typeof g === "number" ? g * coef : g))) as G, totalNorm: total };
}
