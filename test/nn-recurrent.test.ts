// GRU and LSTM against PyTorch (test/fixtures/pytorch-recurrent.json, written by tools/pytorch-layers.py):
// parameter names and order, outputs, final states, and the gradients of L = Σ out·W + Σ h_n·Wh (+ Σ c_n·Wc)
// with respect to the input, the initial states and every parameter, in float64 to 1e-6.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { grad, tensor, type Tensor } from "../src/index.js";
import { nn } from "../src/index.js";
import { expectAllClose } from "./helpers/close.js";

interface Flat { shape: number[]; data: number[] }
interface Case {
  name: string;
  layer: "GRU" | "LSTM";
  args: { inputSize: number; hiddenSize: number; numLayers: number; bias: boolean; batchFirst: boolean };
  state: Record<string, Flat>;
  input: Flat;
  h0: Flat | null;
  c0: Flat | null;
  output: Flat;
  h_n: Flat;
  c_n: Flat | null;
  weight: Flat;
  weight_h: Flat;
  weight_c: Flat | null;
  input_grad: Flat;
  h0_grad: Flat | null;
  c0_grad: Flat | null;
  param_grads: Record<string, Flat>;
}

const fixture = JSON.parse(readFileSync(new URL("./fixtures/pytorch-recurrent.json", import.meta.url), "utf8")) as { torch: string; cases: Case[] };
const f64 = (f: Flat): Tensor => tensor(Float64Array.from(f.data), { shape: f.shape });

describe(`GRU and LSTM against PyTorch ${fixture.torch}`, () => {
  it.each(fixture.cases.map((c) => [c.name, c] as const))("%s", (_, c) => {
    const { inputSize, hiddenSize, ...options } = c.args;
    const rnn = c.layer === "GRU" ? new nn.GRU(inputSize, hiddenSize, { ...options, dtype: "float64" }) : new nn.LSTM(inputSize, hiddenSize, { ...options, dtype: "float64" });
    const own = rnn.stateDict();
    expect(Object.keys(own)).toEqual(Object.keys(c.state));
    for (const [k, v] of Object.entries(c.state)) expect(own[k]!.shape, k).toEqual(v.shape);
    const state = Object.fromEntries(Object.entries(c.state).map(([k, v]) => [k, f64(v)]));
    rnn.loadStateDict(state);
    const x = f64(c.input);
    const h0 = c.h0 ? f64(c.h0) : undefined, c0 = c.c0 ? f64(c.c0) : undefined;
    const run = (xs: Tensor, h: Tensor | undefined, cs: Tensor | undefined) => (rnn instanceof nn.LSTM ? rnn.run(xs, h, cs) : rnn.run(xs, h));
    const r = run(x, h0, c0);
    expectAllClose(r.output, c.output.data);
    expectAllClose(r.h, c.h_n.data);
    if (c.c_n) expectAllClose(r.c!, c.c_n.data);
    if (!h0) expectAllClose(rnn.forward(x), c.output.data);

    const w = f64(c.weight), wh = f64(c.weight_h), wc = c.weight_c ? f64(c.weight_c) : null;
    const loss = (res: ReturnType<typeof run>): Tensor => {
      let l = res.output.mul(w).sum().add(res.h.mul(wh).sum());
      if (wc) l = l.add(res.c!.mul(wc).sum());
      return l;
    };
    expectAllClose(grad((xs: Tensor) => loss(run(xs, h0, c0)))(x), c.input_grad.data);
    if (h0) expectAllClose(grad((h: Tensor) => loss(run(x, h, c0)))(h0), c.h0_grad!.data);
    if (c0) expectAllClose(grad((cs: Tensor) => loss(run(x, h0, cs)))(c0), c.c0_grad!.data);
    // Parameter gradients in the imperative style: the parameters are requiresGrad leaves.
    loss(run(x, h0, c0)).backward();
    const gp = Object.fromEntries(Object.entries(rnn.parameters()).map(([k, p]) => [k, p.grad!]));
    for (const [k, g] of Object.entries(c.param_grads)) expectAllClose(gp[k]!, g.data);
  });

  it("checks its sizes and the shapes of inputs and states", () => {
    expect(() => new nn.GRU(0, 3)).toThrow(/GRU: inputSize must be a positive integer, got 0/);
    expect(() => new nn.LSTM(2, 3, { numLayers: 0 })).toThrow(/LSTM: numLayers must be a positive integer, got 0/);
    const gru = new nn.GRU(2, 3, { batchFirst: true, numLayers: 2 });
    expect(() => gru.forward(tensor([[1, 2]]))).toThrow(/GRU: input has shape \[1,2\], expected \[N, L, 2\]/);
    expect(() => gru.run(tensor([[[1, 2]]]), tensor([[[0, 0, 0]]]))).toThrow(/GRU: h0 has shape \[1,1,3\], expected \[numLayers, N, hiddenSize\] = \[2, 1, 3\]/);
    expect(gru.run(tensor([[[1, 2], [3, 4]]])).h.shape).toEqual([2, 1, 3]);
  });
});
