// Module scopes end to end: nn modules record their nodes under a nested nameScope path, and trace()
// keeps it per node in the GraphTrace and its JSON (docs/graph-schema.md).
import { describe, expect, it } from "vitest";
import { currentScope, nameScope, nn, Rng, tensor, trace, type Tensor } from "../src/index.js";

/** The op nodes of a trace as `op@scope`, in execution order. */
const scoped = (g: ReturnType<typeof trace>): string[] => g.nodes.filter((n) => n.kind === "op").map((n) => `${n.op}@${n.scope ?? "-"}`);

describe("nn modules record their scope", () => {
  it("an MLP's layers become MLP/Linear0, MLP/ReLU1, MLP/Linear2 (forward)", () => {
    const model = new nn.MLP([3, 4, 2], { rng: new Rng(1) });
    const x = tensor([[1, 2, 3], [-1, 0, 1]], { name: "x" });
    const g = trace((xx: Tensor) => model.forward(xx), [x]);
    expect(scoped(g)).toEqual([
      "matmul@MLP/Linear0", "add@MLP/Linear0",
      "relu@MLP/ReLU1",
      "matmul@MLP/Linear2", "add@MLP/Linear2",
    ]);
    expect(g.nodes.filter((n) => n.kind !== "op").every((n) => n.scope === null)).toBe(true);
    expect(currentScope()).toBeUndefined(); // restored after every forward
  });

  it("apply (functional call) records the same scopes, nested inside the caller's nameScope", () => {
    const model = new nn.MLP([3, 2], { rng: new Rng(2) });
    const p = model.stateDict();
    const names = Object.keys(p);
    const g = trace((...ts: Tensor[]) => nameScope("step", () => model.apply(Object.fromEntries(names.map((n, i) => [n, ts[i]!])), tensor([[1, 0, -1]]))), names.map((n) => p[n]!));
    expect(scoped(g)).toEqual(["matmul@step/MLP/Linear0", "add@step/MLP/Linear0"]);
    // the inputs are the parameters; the gradient still reaches them through the scoped ops
    expect(g.nodes[g.inputs[0]!]!.grad).not.toBeNull();
  });

  it("nesting: children registered under names keep them; Sequential children are class + index", () => {
    class Block extends nn.Module {
      readonly body = this.registerModule("body", new nn.Sequential(new nn.Linear(2, 2, { rng: new Rng(3) }), new nn.Tanh()));
      readonly head = this.registerModule("head/out", new nn.Linear(2, 1, { rng: new Rng(4) }));
      forward(x: Tensor): Tensor {
        return this.head.forward(this.body.forward(x));
      }
    }
    const outer = new nn.Sequential(new Block());
    const g = trace((x: Tensor) => outer.forward(x), [tensor([[0.5, -0.5]])]);
    expect(scoped(g)).toEqual([
      "matmul@Sequential/Block0/body/Linear0", "add@Sequential/Block0/body/Linear0",
      "tanh@Sequential/Block0/body/Tanh1",
      // "/" inside a registered name would read as nesting, so it becomes "_"
      "matmul@Sequential/Block0/head_out", "add@Sequential/Block0/head_out",
    ]);
  });

  it("the scope wrapper leaves values, parameters and the module's own properties unchanged", () => {
    const a = new nn.Linear(2, 2, { rng: new Rng(5) });
    const b = new nn.Linear(2, 2, { rng: new Rng(5) });
    expect(Object.keys(a)).not.toContain("forward");
    const x = tensor([[1, 2]]);
    expect(Array.from(a.forward(x).data)).toEqual(Array.from(b.forward(x).data));
    expect(Object.keys(a.parameters())).toEqual(["weight", "bias"]);
  });
});

describe("trace keeps scopes, full values up to a limit, and named constants", () => {
  it("scope appears in the JSON document of every node (null at top level)", () => {
    const g = trace((x: Tensor) => nameScope("outer", () => nameScope("inner", () => x.mul(2)).add(1)).square(), [tensor(3, { name: "x" })]);
    const json = g.toJSON();
    expect(json.nodes.map((n) => [n.name, n.scope])).toEqual([
      ["x", null], ["2", null], ["u", "outer/inner"], ["1", null], ["v", "outer"], ["L", null],
    ]);
    expect(JSON.parse(JSON.stringify(g)).nodes[2].scope).toBe("outer/inner");
  });

  it("fullValueLimit keeps larger tensors in full; the default stays 64", () => {
    const f = (w: Tensor) => w.square().sum();
    const w = tensor(Array.from({ length: 80 }, (_, i) => i / 10), { name: "w" });
    expect(trace(f, [w]).node("w").value.data).toBeNull();
    const g = trace(f, [w], { fullValueLimit: 100 });
    expect(g.node("w").value.data).toHaveLength(80);
    expect(g.node("w").grad!.data![79]).toBeCloseTo(2 * 7.9, 5);
    expect(() => trace(f, [w], { fullValueLimit: -1 })).toThrow(/fullValueLimit must be a non-negative integer, got -1/);
  });

  it("a named tensor used as a constant keeps its name unless it is taken", () => {
    const data = tensor([1, 2], { name: "batch" });
    const clash = tensor([3, 4], { name: "w" });
    const g = trace((w: Tensor) => w.mul(data).add(clash).sum(), [tensor([0.5, 0.5], { name: "w" })]);
    expect(g.nodes.filter((n) => n.kind === "const").map((n) => n.name)).toEqual(["batch", "k0"]);
  });
});
