// Integer indices that live on the GPU (gather, scatterAdd, crossEntropy labels, Embedding ids) are range-checked
// there: an index out of range makes the next read-back throw a ValueError naming the op, the value and the
// valid range, instead of values computed from whatever the GPU read. In-range indices (negative ones wrap for
// gather) give the CPU's values, and the device keeps working after an error was reported.
import { afterAll, describe, expect, it } from "vitest";
import { Tensor, gather, scatterAdd, tensor, grad, sum, mul, nn, ValueError } from "../src/index.js";
import { webgpuForTests } from "./helpers/webgpu.js";

const device = await webgpuForTests();
afterAll(() => device?.release());

const gpu = (t: Tensor): Tensor => t.to("webgpu");
const ids = (v: number[]): Tensor => gpu(tensor(v, { dtype: "int32" }));
const table = (): Tensor => tensor([[1, 2], [3, 4], [5, 6], [7, 8]]); // 4 rows

/** The error that reading `t` back raises (fails the test when the read succeeds). */
async function readError(t: Tensor): Promise<Error> {
  try {
    await t.dataAsync();
  } catch (e) {
    return e as Error;
  }
  return expect.fail("the read succeeded; expected an out-of-range error");
}

describe.skipIf(device === null)("webgpu: indices on the GPU are range-checked", () => {
  it("gather with in-range GPU indices (negative ones wrap) gives the CPU's rows, and no error", async () => {
    const rows = [3, -1, 0, -4, 2];
    const onGpu = gather(gpu(table()), ids(rows), 0);
    expect(await onGpu.array()).toEqual(gather(table(), tensor(rows, { dtype: "int32" }), 0).toArray());
    expect(await onGpu.array()).toEqual([[7, 8], [7, 8], [1, 2], [1, 2], [5, 6]]);
  });

  it("gather: an index ≥ the axis length throws at the next read, naming the op, the value and the range", async () => {
    const e = await readError(gather(gpu(table()), ids([1, 4, 0]), 0));
    expect(e).toBeInstanceOf(ValueError);
    expect(e.message).toMatch(/^gather: index 4 is out of range for axis 0 of length 4; expected an integer in \[-4, 3\] \(checked on the GPU and reported at this read; values computed from it are wrong\)\. Check the indices/);
  });

  it("gather: an index below −length throws too, also when another tensor is read and after in-range gathers", async () => {
    const good = gather(gpu(table()), ids([0, 1]), 0);
    const bad = gather(gpu(table()), ids([2, -5]), 0); // -5 < -4
    const other = mul(gpu(table()), 2);
    void bad;
    const e = await readError(other); // the next read of any tensor on the device reports it
    expect(e.message).toMatch(/^gather: index -5 is out of range for axis 0 of length 4; expected an integer in \[-4, 3\]/);
    // Reported once: the device keeps working, and earlier results stay readable.
    expect(await good.array()).toEqual([[1, 2], [3, 4]]);
    expect(await other.array()).toEqual([[2, 4], [6, 8], [10, 12], [14, 16]]);
  });

  it("gather along axis 1 checks against that axis's length", async () => {
    const x = gpu(table()); // [4, 2]
    expect(await gather(x, ids([1, 0, -2]), 1).array()).toEqual([[2, 1, 1], [4, 3, 3], [6, 5, 5], [8, 7, 7]]);
    const e = await readError(gather(x, ids([2]), 1));
    expect(e.message).toMatch(/^gather: index 2 is out of range for axis 1 of length 2; expected an integer in \[-2, 1\]/);
  });

  it("the first failing check of several is the one reported", async () => {
    const x = gpu(table());
    gather(x, ids([9]), 0);
    gather(x, ids([-7]), 0);
    const e = await readError(gather(x, ids([0]), 0));
    expect(e.message).toMatch(/^gather: index 9 is out of range/);
  });

  it("scatterAdd with GPU indices: in range as on the CPU, out of range an error naming scatterAdd", async () => {
    const upd = tensor([[1, 1], [2, 2], [3, 3]]);
    const cpu = scatterAdd(tensor([[0, 0], [0, 0], [0, 0], [0, 0]]), tensor([3, 3, -4], { dtype: "int32" }), upd, 0);
    const onGpu = scatterAdd(gpu(tensor([[0, 0], [0, 0], [0, 0], [0, 0]])), ids([3, 3, -4]), gpu(upd), 0);
    expect(await onGpu.array()).toEqual(cpu.toArray());
    expect(cpu.toArray()).toEqual([[3, 3], [0, 0], [0, 0], [3, 3]]);
    const e = await readError(scatterAdd(gpu(tensor([[0, 0], [0, 0], [0, 0], [0, 0]])), ids([0, 8, 1]), gpu(upd), 0));
    expect(e.message).toMatch(/^scatterAdd: index 8 is out of range for axis 0 of length 4; expected an integer in \[-4, 3\]/);
  });

  it("the gradient of a gather with a bad GPU index cannot be read either", async () => {
    const g = grad((w: Tensor) => sum(gather(w, ids([0, 6]), 0)))(gpu(table()));
    expect((await readError(g)).message).toMatch(/^gather: index 6 is out of range for axis 0 of length 4/);
    // In range: each gathered row gets gradient 1 (row 0 twice).
    const ok = grad((w: Tensor) => sum(gather(w, ids([0, 0, 3]), 0)))(gpu(table()));
    expect(await ok.array()).toEqual([[2, 2], [0, 0], [0, 0], [1, 1]]);
  });

  it("crossEntropy with GPU labels: the CPU's loss in range, an error naming the label out of range (ignoreIndex allowed)", async () => {
    const logits = tensor([[2, 0, -1], [0.5, 1.5, 0], [0, 0, 3]]);
    const labels = [0, 2, 1];
    const cpu = nn.crossEntropy(logits, tensor(labels, { dtype: "int32" })).item();
    expect(await nn.crossEntropy(gpu(logits), ids(labels)).itemAsync()).toBeCloseTo(cpu, 6);
    // Label 3 of 3 classes: on the GPU it would give an all-zero target row, silently dropping the example.
    const e = await readError(nn.crossEntropy(gpu(logits), ids([0, 3, 1])));
    expect(e.message).toMatch(/^crossEntropy: label 3 is out of range for 3 classes; expected an integer in \[0, 2\] \(checked on the GPU/);
    const neg = await readError(nn.crossEntropy(gpu(logits), ids([0, -1, 1])));
    expect(neg.message).toMatch(/^crossEntropy: label -1 is out of range for 3 classes; expected an integer in \[0, 2\] \(/);
    // −1 as ignoreIndex is allowed: the mean over the two other rows, as on the CPU.
    const ignored = nn.crossEntropy(logits, tensor([0, -1, 1], { dtype: "int32" }), { ignoreIndex: -1 }).item();
    expect(await nn.crossEntropy(gpu(logits), ids([0, -1, 1]), { ignoreIndex: -1 }).itemAsync()).toBeCloseTo(ignored, 6);
  });

  it("Embedding with GPU token ids: the CPU's vectors in range, an error naming Embedding out of range", async () => {
    const emb = new nn.Embedding(5, 3);
    const w = emb.parameters()["weight"]!;
    const params = { weight: gpu(w) };
    const cpu = emb.forward(tensor([4, 0, 2], { dtype: "int32" })).toArray();
    expect(await emb.apply(params, ids([4, 0, 2])).array()).toEqual(cpu);
    // Negative ids are refused by Embedding (as PyTorch), though gather alone would wrap them.
    const e = await readError(emb.apply(params, ids([1, -1])));
    expect(e.message).toMatch(/^Embedding: token id -1 is out of range for 5 embeddings; expected an integer in \[0, 4\] \(checked on the GPU/);
    const big = await readError(emb.apply(params, ids([5])));
    expect(big.message).toMatch(/^Embedding: token id 5 is out of range for 5 embeddings/);
  });
});
