import { Tensor } from "../core/tensor.js";
import { Rng } from "../core/random.js";
import { fmtShape } from "../core/shape.js";
import { ShapeError, ValueError } from "../core/errors.js";
import type { DType } from "../core/dtype.js";
import { onDeviceOf } from "../core/device.js";
import { add, equal, matmul, mean, scalar, permute, reshape, slice, transpose, where, zeros } from "../ops/index.js";
import { nameScope } from "../autodiff/scope.js";
import { softmax } from "./activations.js";
import { linear } from "./linear.js";
import { Module } from "./module.js";
import { Linear } from "./layers.js";
import { glorotUniform } from "./init.js";

/** Options for `scaledDotProductAttention`. */
export interface AttentionOptions {
  /**
   * Which keys each query may attend to, broadcastable to [..., L, S]: a bool tensor (true = attend, as
   * PyTorch's boolean masks) or a float tensor added to the scores (e.g. −∞ to block).
   */
  mask?: Tensor | null;
  /**
   * Query i attends only to keys j ≤ i (a lower-triangular L×S mask, as PyTorch's `is_causal`). Default false.
   * Without a bool `mask` it is applied by adding −∞ above the diagonal, so a score of +∞ there (an
   * overflowed q·k) gives NaN, as it would below the diagonal.
   */
  causal?: boolean;
  /** Multiplies the scores; default 1/√E. */
  scale?: number;
}

/**
 * Scaled dot-product attention (Vaswani et al. 2017), as PyTorch's `F.scaled_dot_product_attention` without
 * dropout: softmax(q·kᵀ·scale + mask)·v, the softmax over the keys. Written with differentiable ops, so
 * gradients of every order work.
 * @param q queries [..., L, E]
 * @param k keys [..., S, E]
 * @param v values [..., S, Ev]; leading dimensions broadcast
 * @returns [..., L, Ev]
 * @throws ShapeError for mismatched shapes; ValueError when a bool mask (with `causal`) leaves a query with
 *   no key to attend to, which would give NaN (checked for a mask on the CPU; a mask on the GPU is not read back)
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions = {}): Tensor {
  const op = "scaledDotProductAttention";
  if (q.rank < 2 || k.rank < 2 || v.rank < 2) throw new ShapeError(`${op}: q, k and v need at least 2 dimensions [..., L or S, E]; got ${fmtShape(q.shape)}, ${fmtShape(k.shape)}, ${fmtShape(v.shape)}`);
  const e = q.shape[q.rank - 1]!, l = q.shape[q.rank - 2]!, s = k.shape[k.rank - 2]!;
  if (k.shape[k.rank - 1] !== e) throw new ShapeError(`${op}: q is ${fmtShape(q.shape)} and k is ${fmtShape(k.shape)}; their last dimensions (E) must agree`);
  if (v.shape[v.rank - 2] !== s) throw new ShapeError(`${op}: k is ${fmtShape(k.shape)} and v is ${fmtShape(v.shape)}; they need the same number of keys (S, second to last)`);
  const scale = options.scale ?? 1 / Math.sqrt(e);
  let scores = matmul(q, transpose(k, [...Array.from({ length: k.rank - 2 }, (_, i) => i), k.rank - 1, k.rank - 2]));
  scores = scores.mul(scale);
  let allowed: Tensor | null = null;
  const mask = options.mask ?? null;
  const boolMask = mask !== null && mask.dtype === "bool";
  if (options.causal && !boolMask) {
    // Causal alone: add 0 or −∞, which gives the same scores as selecting −∞ for finite scores and whose
    // VJP is the identity (a selection's VJP is a second selection, and both broadcast the mask).
    scores = add(scores, onDeviceOf(causalBias(l, s, scores.dtype), scores));
  } else if (options.causal) {
    const tri = new Uint8Array(l * s);
    for (let i = 0; i < l; i++) for (let j = 0; j <= Math.min(i, s - 1); j++) tri[i * s + j] = 1;
    allowed = Tensor._concrete(tri, [l, s], "bool");
  }
  if (mask !== null) {
    if (boolMask) {
      allowed = allowed === null ? mask : where(mask, allowed, mask); // logical and
    } else {
      scores = add(scores, mask);
    }
  }
  if (allowed !== null) {
    // A mask on the GPU is not read back, so only a CPU mask is checked (as GPU indices are not range-checked).
    if (allowed.device === "cpu") checkRows(op, allowed, scores.shape);
    scores = where(onDeviceOf(allowed, scores), scores, -Infinity);
  }
  return matmul(softmax(scores, -1), v);
}

/** The additive causal mask [L, S]: 0 where key j ≤ query i, −∞ above the diagonal (every row keeps key 0). */
function causalBias(l: number, s: number, dtype: DType): Tensor {
  const bias = dtype === "float64" ? new Float64Array(l * s) : new Float32Array(l * s);
  for (let i = 0; i < l; i++) for (let j = i + 1; j < s; j++) bias[i * s + j] = -Infinity;
  return Tensor._concrete(bias, [l, s], dtype);
}

/** A query row with no allowed key makes softmax 0/0: refuse it with the row's place. */
function checkRows(op: string, allowed: Tensor, scoresShape: readonly number[]): void {
  const a = allowed.data, s = allowed.shape[allowed.rank - 1]!;
  if (s !== scoresShape[scoresShape.length - 1] && s !== 1) return; // the broadcast itself will report the mismatch
  for (let r = 0; r * s < a.length; r++) {
    let any = false;
    for (let j = 0; j < s && !any; j++) any = a[r * s + j] !== 0;
    if (!any) throw new ValueError(`${op}: the mask leaves query row ${r} (of the mask's flattened rows) with no key to attend to; softmax would be NaN`);
  }
}

/** Options for `MultiheadAttention`. */
export interface MultiheadAttentionOptions {
  /** Learn the input and output projection biases. Default true. */
  bias?: boolean;
  /** Inputs and outputs are [N, L, E] (true) or [L, N, E] (false, PyTorch's default). Default false. */
  batchFirst?: boolean;
  /** `forward(x)` is causal self-attention (query i sees keys j ≤ i), as a decoder needs. Default false. */
  causal?: boolean;
  rng?: Rng;
  dtype?: DType;
}

/** Options of one `MultiheadAttention.attend` call. */
export interface MultiheadCallOptions {
  /**
   * Mask for the scores, [L, S] or [N·heads, L, S], with nn.MultiheadAttention's convention: bool true marks
   * a key the query may NOT attend to; a float mask is added to the scores.
   */
  attnMask?: Tensor | null;
  /** Causal self-attention: query i sees keys j ≤ i. */
  causal?: boolean;
}

/**
 * Multi-head attention as PyTorch's `nn.MultiheadAttention` (Vaswani et al. 2017) with equal query, key and
 * value sizes and no dropout: the inputs are projected by one packed `in_proj_weight` [3E, E] (rows: query,
 * key, value) and `in_proj_bias` [3E], split into `numHeads` heads of E/numHeads, attended with
 * `scaledDotProductAttention`, joined and projected by `out_proj` (Linear E → E). Parameter names and shapes
 * are PyTorch's, so state dicts interchange. `forward(x)` is self-attention; `attend` takes separate
 * query, key and value and returns the head-averaged attention weights too.
 */
export class MultiheadAttention extends Module {
  readonly headDim: number;
  readonly batchFirst: boolean;
  readonly hasBias: boolean;
  readonly causal: boolean;
  readonly outProj: Linear;
  /**
   * @param embedDim E, the model width
   * @param numHeads must divide E
   * @throws ValueError for non-positive sizes or a numHeads that does not divide embedDim
   */
  constructor(readonly embedDim: number, readonly numHeads: number, options: MultiheadAttentionOptions = {}) {
    super();
    for (const [what, n] of [["embedDim", embedDim], ["numHeads", numHeads]] as const) {
      if (!Number.isInteger(n) || n < 1) throw new ValueError(`MultiheadAttention: ${what} must be a positive integer, got ${n}`);
    }
    if (embedDim % numHeads !== 0) throw new ValueError(`MultiheadAttention: embedDim ${embedDim} must be divisible by numHeads ${numHeads}`);
    this.headDim = embedDim / numHeads;
    this.batchFirst = options.batchFirst ?? false;
    this.hasBias = options.bias ?? true;
    this.causal = options.causal ?? false;
    const rng = options.rng ?? new Rng(0x3a77);
    const dtype = options.dtype ?? "float32";
    // PyTorch: xavier_uniform_ on the packed [3E, E] matrix, zero biases.
    this.registerParameter("in_proj_weight", glorotUniform([3 * embedDim, embedDim], embedDim, 3 * embedDim, { rng, dtype }));
    if (this.hasBias) this.registerParameter("in_proj_bias", zeros([3 * embedDim], dtype));
    this.outProj = this.registerModule("out_proj", new Linear(embedDim, embedDim, { rng, dtype, bias: this.hasBias }));
  }

  /**
   * Self-attention, `attend(x, x, x, { causal })[0]` with the constructor's `causal`, without computing the
   * attention weights. @param x [L, N, E], or [N, L, E] with batchFirst
   */
  forward(x: Tensor): Tensor {
    return this._attend(x, x, x, { causal: this.causal }, false)[0];
  }

  /**
   * Attention of `query` over `key`/`value`.
   * @param query [L, N, E] ([N, L, E] with batchFirst)
   * @param key [S, N, E] ([N, S, E])
   * @param value [S, N, E] ([N, S, E])
   * @returns the output, shaped like query, and the attention weights averaged over heads [N, L, S]
   * @throws ShapeError for mismatched shapes
   */
  attend(query: Tensor, key: Tensor, value: Tensor, options: MultiheadCallOptions = {}): [Tensor, Tensor] {
    return nameScope("MultiheadAttention", () => this._attend(query, key, value, options, true) as [Tensor, Tensor]);
  }

  private _attend(query: Tensor, key: Tensor, value: Tensor, options: MultiheadCallOptions, withWeights: boolean): [Tensor, Tensor | null] {
    const e = this.embedDim, h = this.numHeads, d = this.headDim;
    for (const [what, t] of [["query", query], ["key", key], ["value", value]] as const) {
      if (t.rank !== 3 || t.shape[2] !== e) throw new ShapeError(`MultiheadAttention: ${what} has shape ${fmtShape(t.shape)}, expected ${this.batchFirst ? "[N, L, E]" : "[L, N, E]"} with E = ${e}`);
    }
    // Work batch-first: [N, L, E].
    const [q0, k0, v0] = this.batchFirst ? [query, key, value] : [query, key, value].map((t) => permute(t, [1, 0, 2])) as [Tensor, Tensor, Tensor];
    const n = q0.shape[0]!, l = q0.shape[1]!, s = k0.shape[1]!;
    if (k0.shape[0] !== n || v0.shape[0] !== n || v0.shape[1] !== s) {
      throw new ShapeError(`MultiheadAttention: query ${fmtShape(query.shape)}, key ${fmtShape(key.shape)} and value ${fmtShape(value.shape)} disagree in batch size or key count`);
    }
    const w = this.param("in_proj_weight");
    const b = this.hasBias ? this.param("in_proj_bias") : null;
    const part = (i: number, x: Tensor): Tensor => {
      const wi = slice(w, [i * e, 0], [(i + 1) * e, e]);
      const bi = b === null ? null : slice(b, [i * e], [(i + 1) * e]);
      // [N, T, E] → [N, heads, T, d]
      return permute(reshape(linear(x, wi, bi), [n, x.shape[1]!, h, d]), [0, 2, 1, 3]);
    };
    const q = part(0, q0), k = part(1, k0), v = part(2, v0);
    const mask = options.attnMask ?? null;
    let m = mask !== null && mask.rank === 3 ? reshape(mask, [n, h, l, s]) : mask;
    if (m !== null && m.dtype === "bool") m = equal(m, scalar(false)); // true = blocked here, true = attend in scaledDotProductAttention
    const heads = scaledDotProductAttention(q, k, v, { mask: m, causal: options.causal });
    const joined = reshape(permute(heads, [0, 2, 1, 3]), [n, l, e]);
    let out = this.outProj.forward(joined);
    if (!this.batchFirst) out = permute(out, [1, 0, 2]);
    if (!withWeights) return [out, null];
    // The weights for inspection, averaged over heads as PyTorch returns them: attention applied to the
    // identity in place of the values gives the softmax matrix itself.
    const weights = scaledDotProductAttention(q, k, onDeviceOf(eyeLike(s, q.dtype), q), { mask: m, causal: options.causal });
    return [out, mean(weights, 1)];
  }

  override describe(): string {
    return `MultiheadAttention(${this.embedDim}, heads ${this.numHeads}${this.batchFirst ? ", batch first" : ""}${this.causal ? ", causal" : ""})`;
  }
}

/** The S×S identity: attention applied to it gives the attention weights themselves. */
function eyeLike(s: number, dtype: DType): Tensor {
  const data = dtype === "float64" ? new Float64Array(s * s) : new Float32Array(s * s);
  for (let i = 0; i < s; i++) data[i * s + i] = 1;
  return Tensor._concrete(data, [s, s], dtype);
}
