import { Tensor } from "../core/tensor.js";
import { GradientError } from "../core/errors.js";
import { isFloat } from "../core/dtype.js";
import { customVjp } from "./custom.js";
import { IMPERATIVE_TRACE, gradMode } from "./trace.js";
import { leaves, rebuild, type Pytree } from "./tree.js";
import { vjp } from "./transforms.js";

// Rematerialisation (Griewank & Walther, "Evaluating Derivatives", 2nd ed., ch. 12; Chen et al. 2016,
// "Training Deep Nets with Sublinear Memory Cost"), as JAX's `jax.checkpoint` and PyTorch's
// `torch.utils.checkpoint`. Built on customVjp: the forward pass runs f one level down, so nothing inside it
// is recorded and only f's inputs and output are kept; the backward pass records f again from those inputs
// (vjp) and pulls the cotangent back through the fresh record. The recomputation runs the same kernels on the
// same values, so gradients are equal to the bit.

/** Options for `checkpoint`. */
export interface CheckpointOptions {
  /** Name used in errors and the graph viewer; defaults to f's name, then "checkpoint". */
  name?: string;
}

/** The trace id an argument is recorded at (−1 for none), as `bind` decides it. */
function traceIdOf(t: Tensor): number {
  const tr = t._trace;
  if (tr === null || (tr === IMPERATIVE_TRACE && !gradMode.enabled)) return -1;
  return tr.id;
}

function closureError(name: string): GradientError {
  return new GradientError(
    `${name}: f read a tensor that is being differentiated from its closure, not from its arguments; ` +
      "checkpoint differentiates only through its arguments: pass that tensor as an argument (for a module, " +
      "nn.checkpointModule(module, x) passes its parameters)",
  );
}

/**
 * Wraps `f` so that reverse-mode differentiation recomputes its intermediates during the backward pass
 * instead of keeping them (rematerialisation, `jax.checkpoint` / `torch.utils.checkpoint`): the graph keeps
 * only f's arguments and result, and f runs twice per backward pass (once forward, once when its cotangent
 * arrives). Forward mode (`jvp`) keeps no intermediates and runs f once, as do plain calls and `noGrad`. Use it on the blocks of a deep network to trade about one extra forward pass for the memory of
 * the blocks' intermediates.
 *
 * Gradients are equal to the bit to those without checkpointing (the same kernels on the same values), at
 * every order: higher-order reverse mode differentiates the recomputation as ordinary code.
 *
 * @param f a function of pytrees (tensors, numbers, arrays and objects of them) returning one tensor. What f
 *   is differentiated with respect to must reach it through its arguments: a tensor being differentiated that
 *   f reads from its closure (a module's parameters, say) is refused, because its gradient would have to flow
 *   through the recomputation. For a module use `nn.checkpointModule(module, x)` (or
 *   `nn.checkpointSequential`), which passes its parameters as arguments.
 * @returns a function with f's signature
 * @throws GradientError (when differentiated) if f reads a differentiated tensor from its closure, naming f
 */
export function checkpoint<Args extends Pytree[]>(f: (...args: Args) => Tensor, options: CheckpointOptions = {}): (...args: Args) => Tensor {
  const name = options.name ?? (f.name !== "" ? `checkpoint(${f.name})` : "checkpoint");
  const call = (...args: Args): Tensor => {
    const flat = leaves(args);
    // Tensors go through the custom rule; plain numbers stay numbers (f may use them as JS values).
    const at = flat.flatMap((l, i) => (l instanceof Tensor ? [i] : []));
    let top = -1, topIsForward = false;
    for (const i of at) {
      const t = flat[i] as Tensor, id = traceIdOf(t);
      if (id > top) { top = id; topIsForward = t._trace!.kind === "forward" || t._trace!.kind === "stage"; }
    }
    if (top < 0 || topIsForward) {
      // Nothing to drop: no reverse trace records the arguments (or the newest is forward mode, which keeps no
      // intermediates). A result recorded anyway came from a differentiated tensor in f's closure.
      const out = f(...args);
      if (top < 0 && out instanceof Tensor && traceIdOf(out) >= 0) throw closureError(name);
      return out;
    }
    const withTensors = (ts: readonly Tensor[]): Tensor => {
      const full = [...flat];
      at.forEach((i, k) => (full[i] = ts[k]!));
      return f(...rebuild(args, full));
    };
    const remat = customVjp(
      (...ts: Tensor[]) => withTensors(ts),
      (...ts: Tensor[]) => {
        const out = withTensors(ts);
        // One level down, f's result can only be recorded at the level being differentiated if f read a
        // tensor of that level from somewhere other than its arguments.
        if (out instanceof Tensor && traceIdOf(out) >= top) throw closureError(name);
        return [out, ts] as [Tensor, Tensor[]];
      },
      (ts, ct) => {
        // Differentiate only the float tensors; ints and bools get no cotangent (null).
        const floats = ts.flatMap((t, i) => (isFloat(t.dtype) ? [i] : []));
        const partial = (...xs: Tensor[]): Tensor => {
          const full = [...ts];
          floats.forEach((i, k) => (full[i] = xs[k]!));
          return withTensors(full);
        };
        const [, pullback] = vjp(partial, ...floats.map((i) => ts[i]!));
        const grads = pullback(ct);
        const res: (Tensor | null)[] = ts.map(() => null);
        floats.forEach((i, k) => (res[i] = grads[k]!));
        return res;
      },
      { name },
    );
    return remat(...at.map((i) => flat[i] as Tensor));
  };
  Object.defineProperty(call, "name", { value: name });
  return call;
}
