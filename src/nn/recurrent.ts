import { Tensor } from "../core/tensor.js";
import { Rng } from "../core/random.js";
import { fmtShape } from "../core/shape.js";
import { ShapeError, ValueError } from "../core/errors.js";
import type { DType } from "../core/dtype.js";
import { add, mul, permute, sigmoid, split, squeeze, stack, sub, tanh, zeros } from "../ops/index.js";
import { linear } from "./linear.js";
import { Module } from "./module.js";
import { uniformInit } from "./init.js";
import { onDeviceOf } from "../core/device.js";

/** Options for `GRU` and `LSTM`. */
export interface RecurrentOptions {
  /** Stacked layers; layer k > 0 reads layer k − 1's outputs. Default 1. */
  numLayers?: number;
  /** Learn the biases `bias_ih_lk` and `bias_hh_lk`. Default true. */
  bias?: boolean;
  /** Inputs and outputs are [N, L, features] (true) or [L, N, features] (false, PyTorch's default). Default false. */
  batchFirst?: boolean;
  /** Generator for the initial weights, drawn U(−1/√H, 1/√H) as PyTorch. */
  rng?: Rng;
  /** float32 (default) or float64. */
  dtype?: DType;
}

/** What `GRU.run` and `LSTM.run` return. */
export interface RecurrentResult {
  /** The last layer's hidden state at every step: [N, L, H] with batchFirst, else [L, N, H]. */
  output: Tensor;
  /** Each layer's hidden state after the last step: [numLayers, N, H] (PyTorch's h_n). */
  h: Tensor;
  /** LSTM only: each layer's cell state after the last step, [numLayers, N, H] (PyTorch's c_n). */
  c?: Tensor;
}

/**
 * The part GRU and LSTM share: PyTorch's parameters `weight_ih_lk` [G·H, in], `weight_hh_lk` [G·H, H],
 * `bias_ih_lk`, `bias_hh_lk` [G·H] per layer k (G gates stacked in PyTorch's order), shape checks, the
 * input projection of all steps at once, and the loop over steps, layer by layer.
 */
abstract class RecurrentBase extends Module {
  readonly numLayers: number;
  readonly hasBias: boolean;
  readonly batchFirst: boolean;

  constructor(readonly inputSize: number, readonly hiddenSize: number, gates: number, options: RecurrentOptions) {
    super();
    const name = new.target.name;
    this.numLayers = options.numLayers ?? 1;
    for (const [what, v] of [["inputSize", inputSize], ["hiddenSize", hiddenSize], ["numLayers", this.numLayers]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new ValueError(`${name}: ${what} must be a positive integer, got ${v}`);
    }
    this.hasBias = options.bias ?? true;
    this.batchFirst = options.batchFirst ?? false;
    const rng = options.rng ?? new Rng(0x9e11);
    const dtype = options.dtype ?? "float32";
    const bound = 1 / Math.sqrt(hiddenSize);
    const u = (shape: number[]): Tensor => uniformInit(shape, -bound, bound, { rng, dtype });
    // PyTorch's order: for each layer, weight_ih, weight_hh, bias_ih, bias_hh.
    for (let k = 0; k < this.numLayers; k++) {
      this.registerParameter(`weight_ih_l${k}`, u([gates * hiddenSize, k === 0 ? inputSize : hiddenSize]));
      this.registerParameter(`weight_hh_l${k}`, u([gates * hiddenSize, hiddenSize]));
      if (this.hasBias) {
        this.registerParameter(`bias_ih_l${k}`, u([gates * hiddenSize]));
        this.registerParameter(`bias_hh_l${k}`, u([gates * hiddenSize]));
      }
    }
  }

  /** One step of layer k: the new states from the projected input xi [N, G·H] and the states. */
  protected abstract cell(xi: Tensor, h: Tensor, c: Tensor | null, k: number): [Tensor, Tensor | null];

  /** W_hh·h + b_hh of layer k for all gates: [N, G·H]. */
  protected recurrentPart(h: Tensor, k: number): Tensor {
    return linear(h, this.param(`weight_hh_l${k}`), this.hasBias ? this.param(`bias_hh_l${k}`) : null);
  }

  /** Checks x and an initial state, and returns x batch-first with [N, L]. */
  protected checkInput(x: Tensor, state: Tensor | undefined, what: string): Tensor {
    const name = this.constructor.name;
    if (x.rank !== 3 || x.shape[2] !== this.inputSize) {
      throw new ShapeError(`${name}: input has shape ${fmtShape(x.shape)}, expected ${this.batchFirst ? "[N, L, " : "[L, N, "}${this.inputSize}]`);
    }
    const xb = this.batchFirst ? x : permute(x, [1, 0, 2]);
    if (xb.shape[1] === 0) throw new ShapeError(`${name}: input has shape ${fmtShape(x.shape)}: a sequence needs at least one step`);
    const n = xb.shape[0]!;
    if (state !== undefined && (state.rank !== 3 || state.shape[0] !== this.numLayers || state.shape[1] !== n || state.shape[2] !== this.hiddenSize)) {
      throw new ShapeError(`${name}: ${what} has shape ${fmtShape(state.shape)}, expected [numLayers, N, hiddenSize] = [${this.numLayers}, ${n}, ${this.hiddenSize}]`);
    }
    return xb;
  }

  /** Runs every layer over every step from the given (or zero) states. */
  protected loop(x: Tensor, h0: Tensor | undefined, c0: Tensor | undefined, withCell: boolean): RecurrentResult {
    let seq = this.checkInput(x, h0, "h0");
    if (withCell) this.checkInput(x, c0, "c0");
    const n = seq.shape[0]!, l = seq.shape[1]!, hs = this.hiddenSize;
    const layerState = (s: Tensor | undefined, k: number): Tensor => (s === undefined ? onDeviceOf(zeros([n, hs], seq.dtype), seq) : squeeze(split(s, this.numLayers, 0)[k]!, 0));
    const lastH: Tensor[] = [], lastC: Tensor[] = [];
    for (let k = 0; k < this.numLayers; k++) {
      // The input part of every gate for all steps in one product: [N, L, G·H].
      const proj = linear(seq, this.param(`weight_ih_l${k}`), this.hasBias ? this.param(`bias_ih_l${k}`) : null);
      const steps = split(proj, l, 1).map((t) => squeeze(t, 1));
      let h = layerState(h0, k);
      let c: Tensor | null = withCell ? layerState(c0, k) : null;
      const outs: Tensor[] = [];
      for (const xi of steps) {
        [h, c] = this.cell(xi, h, c, k);
        outs.push(h);
      }
      seq = stack(outs, 1);
      lastH.push(h);
      if (c !== null) lastC.push(c);
    }
    const output = this.batchFirst ? seq : permute(seq, [1, 0, 2]);
    const result: RecurrentResult = { output, h: stack(lastH, 0) };
    if (withCell) result.c = stack(lastC, 0);
    return result;
  }

  override describe(): string {
    return `${this.constructor.name}(${this.inputSize} → ${this.hiddenSize}, layers ${this.numLayers}${this.batchFirst ? ", batch first" : ""})`;
  }
}

/**
 * Gated recurrent unit (Cho et al. 2014) with PyTorch's `nn.GRU` equations, parameter names and shapes
 * (no dropout, one direction): gates stacked r, z, n in `weight_ih_lk` [3H, in] and `weight_hh_lk` [3H, H],
 *   r = σ(W_ir x + b_ir + W_hr h + b_hr),  z = σ(W_iz x + b_iz + W_hz h + b_hz),
 *   n = tanh(W_in x + b_in + r ∘ (W_hn h + b_hn)),  h' = (1 − z) ∘ n + z ∘ h.
 * Written with differentiable ops (backpropagation through time by the engine).
 */
export class GRU extends RecurrentBase {
  /**
   * @param inputSize features of each step's input
   * @param hiddenSize H, the state size
   * @throws ValueError for non-positive sizes
   */
  constructor(inputSize: number, hiddenSize: number, options: RecurrentOptions = {}) {
    super(inputSize, hiddenSize, 3, options);
  }

  /** The outputs at every step. @param x [N, L, in] with batchFirst, else [L, N, in] */
  forward(x: Tensor): Tensor {
    return this.loop(x, undefined, undefined, false).output;
  }

  /**
   * Outputs and final states, from an initial state (PyTorch's `gru(x, h0)`).
   * @param x [N, L, in] with batchFirst, else [L, N, in]
   * @param h0 [numLayers, N, H]; default zeros
   * @throws ShapeError for mismatched shapes or an empty sequence
   */
  run(x: Tensor, h0?: Tensor): RecurrentResult {
    return this.loop(x, h0, undefined, false);
  }

  /** One GRU step of layer k (the equations above); GRU has no cell state. */
  protected cell(xi: Tensor, h: Tensor, _c: Tensor | null, k: number): [Tensor, null] {
    const [xr, xz, xn] = split(xi, 3, 1) as [Tensor, Tensor, Tensor];
    const [hr, hz, hn] = split(this.recurrentPart(h, k), 3, 1) as [Tensor, Tensor, Tensor];
    const r = sigmoid(add(xr, hr));
    const z = sigmoid(add(xz, hz));
    const n = tanh(add(xn, mul(r, hn)));
    return [add(n, mul(z, sub(h, n))), null]; // (1 − z)·n + z·h
  }
}

/**
 * Long short-term memory (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al. 2000) with
 * PyTorch's `nn.LSTM` equations, parameter names and shapes (no projection, no dropout, one direction):
 * gates stacked i, f, g, o in `weight_ih_lk` [4H, in] and `weight_hh_lk` [4H, H],
 *   i = σ(·), f = σ(·), g = tanh(·), o = σ(·) of W_i· x + b_i· + W_h· h + b_h·,
 *   c' = f ∘ c + i ∘ g,  h' = o ∘ tanh(c').
 */
export class LSTM extends RecurrentBase {
  /**
   * @param inputSize features of each step's input
   * @param hiddenSize H, the state size
   * @throws ValueError for non-positive sizes
   */
  constructor(inputSize: number, hiddenSize: number, options: RecurrentOptions = {}) {
    super(inputSize, hiddenSize, 4, options);
  }

  /** The outputs at every step. @param x [N, L, in] with batchFirst, else [L, N, in] */
  forward(x: Tensor): Tensor {
    return this.loop(x, undefined, undefined, true).output;
  }

  /**
   * Outputs and final states from initial states (PyTorch's `lstm(x, (h0, c0))`).
   * @param x [N, L, in] with batchFirst, else [L, N, in]
   * @param h0 [numLayers, N, H]; default zeros
   * @param c0 [numLayers, N, H]; default zeros
   * @throws ShapeError for mismatched shapes or an empty sequence
   */
  run(x: Tensor, h0?: Tensor, c0?: Tensor): RecurrentResult {
    return this.loop(x, h0, c0, true);
  }

  /** One LSTM step of layer k (the equations above): the new hidden and cell states. */
  protected cell(xi: Tensor, h: Tensor, c: Tensor | null, k: number): [Tensor, Tensor] {
    const [i, f, g, o] = split(add(xi, this.recurrentPart(h, k)), 4, 1) as [Tensor, Tensor, Tensor, Tensor];
    const c1 = add(mul(sigmoid(f), c!), mul(sigmoid(i), tanh(g)));
    return [mul(sigmoid(o), tanh(c1)), c1];
  }
}
