import type { Tensor } from "../core/tensor.js";
import { ValueError } from "../core/errors.js";
import { checkpoint } from "../autodiff/checkpoint.js";
import type { Module, StateDict } from "./module.js";

// Checkpointing for modules, whose parameters live inside them: `checkpoint` differentiates only through its
// arguments, so these helpers pass each module's parameters in explicitly and run it with `module.apply`.

/**
 * `module.forward(x)` with its intermediates recomputed in the backward pass instead of kept (see
 * `checkpoint`): gradients reach the module's parameters (imperative `backward()` and, inside
 * `model.apply(params, x)`, the functional transforms alike) and x, equal to the bit to the plain call.
 * Buffers updated in training mode (BatchNorm's running statistics) are updated on the recomputation too,
 * as in PyTorch's `torch.utils.checkpoint`; put such layers outside checkpointed segments.
 * @param module any module
 * @param x its input
 * @returns module.forward(x)
 */
export function checkpointModule(module: Module, x: Tensor): Tensor {
  const run = checkpoint((params: StateDict, input: Tensor) => module.apply(params, input), { name: `checkpoint(${module.constructor.name})` });
  return run(module.parameters(), x);
}

/**
 * Runs `layers` in order on x, cut into `segments` runs of consecutive layers each checkpointed as one
 * (PyTorch's `checkpoint_sequential`): the graph keeps only each segment's input and output, and the
 * backward pass recomputes one segment at a time. With n layers, √n segments keep about 2√n layers' worth of
 * activations instead of n (Chen et al. 2016).
 * @param layers the modules (or a `Sequential`'s `layers`)
 * @param segments how many segments, 1 to layers.length
 * @throws ValueError if segments is not an integer in [1, layers.length]
 */
export function checkpointSequential(layers: readonly Module[], segments: number, x: Tensor): Tensor {
  if (!Number.isInteger(segments) || segments < 1 || segments > layers.length) {
    throw new ValueError(`checkpointSequential: segments must be an integer from 1 to ${layers.length} (the number of layers), got ${segments}`);
  }
  let h = x;
  for (let k = 0; k < segments; k++) {
    // Segment k holds layers [⌊k·n/s⌋, ⌊(k+1)·n/s⌋): sizes differ by at most one.
    const start = Math.floor((k * layers.length) / segments);
    const part = layers.slice(start, Math.floor(((k + 1) * layers.length) / segments));
    const run = checkpoint(
      (params: StateDict[], input: Tensor) => part.reduce((y, m, j) => m.apply(params[j]!, y), input),
      { name: `checkpoint(layers ${start}–${start + part.length - 1})` },
    );
    h = run(part.map((m) => m.parameters()), h);
  }
  return h;
}
