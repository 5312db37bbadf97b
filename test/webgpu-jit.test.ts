// jit with tensors on the GPU: the compiled programs are loops over host memory, so f runs op by op on the
// device instead (documented on jit). Before, the first call traced and the second ran a CPU loop on GPU
// buffers and crashed; the bench's chain-10k-jit and mlp-step-jit rows on webgpu found it.
import { afterAll, describe, expect, it } from "vitest";
import { Tensor, add, exp, grad, jit, mul, neg, scalar, sigmoid, square, sum, tanh, tensor, valueAndGrad } from "../src/index.js";
import { webgpuForTests } from "./helpers/webgpu.js";

const device = await webgpuForTests();
afterAll(() => device?.release());

const chain = (x: Tensor): Tensor => {
  for (let i = 0; i < 5; i++) x = add(mul(tanh(x), 1.0001), 0.001);
  return x;
};
const f = (v: Tensor): Tensor => sum(add(mul(tanh(v), sigmoid(v)), exp(neg(square(v)))));

describe.skipIf(device === null)("jit with GPU tensors", () => {
  it("jit(valueAndGrad(f)) gives the CPU's values on every call, and its results stay on the GPU", async () => {
    const vg = jit(valueAndGrad(chain));
    for (const x0 of [0.5, -1.2, 0.5]) {
      const [v, g] = vg(scalar(x0).to("webgpu"));
      expect(v.device).toBe("webgpu");
      const [vc, gc] = valueAndGrad(chain)(scalar(x0));
      expect(await v.itemAsync()).toBeCloseTo(vc.item(), 6);
      expect(await g.itemAsync()).toBeCloseTo(gc.item(), 6);
    }
  });

  it("a jitted function over a vector, called again, and grad of a jitted function", async () => {
    const x = tensor([0.1, -2, 3, 0.5]);
    const cpu = valueAndGrad(f)(x);
    const staged = jit(valueAndGrad(f));
    for (let call = 0; call < 2; call++) {
      const [v, g] = staged(x.to("webgpu"));
      expect(await v.itemAsync()).toBeCloseTo(cpu[0].item(), 5);
      const gv = await g.array() as number[];
      (cpu[1].toArray() as number[]).forEach((c, i) => expect(gv[i]).toBeCloseTo(c, 5));
    }
    const gj = grad(jit(f))(x.to("webgpu"));
    const gjv = await gj.array() as number[];
    (cpu[1].toArray() as number[]).forEach((c, i) => expect(gjv[i]).toBeCloseTo(c, 5));
  });
});
