// Error texts: every error names the op, the argument, the shapes/dtypes involved and what to do, and is
// one of chainrule's typed errors (so callers can catch ShapeError etc. without parsing text).
import { describe, expect, it } from "vitest";
import {
  ChainruleError, DTypeError, GradientError, ShapeError, ValueError, Tensor,
  add, broadcastTo, cast, customVjp, eye, full, grad, jvp, matmul, max, mean, mul, reshape, sum, tensor, transpose, valueAndGrad, vjp, where, zeros, dot, outer, arange, linspace,
} from "../src/index.js";
import type { Primitive } from "../src/core/primitive.js";
import { bind } from "../src/autodiff/bind.js";
import { broadcastingRule } from "../src/core/batching.js";

type ErrorClass = new (...args: never[]) => Error;

/** Runs fn, asserting it throws `cls` with exactly `message` (a string) or a message matching it (a RegExp). */
function expectError(fn: () => unknown, cls: ErrorClass, message: string | RegExp): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, "expected a throw").toBeInstanceOf(cls);
  expect(thrown).toBeInstanceOf(ChainruleError);
  const msg = (thrown as Error).message;
  if (typeof message === "string") expect(msg).toBe(message);
  else expect(msg).toMatch(message);
  expect((thrown as Error).name).toBe(cls.name);
}

const f32 = (shape: number[]) => zeros(shape);

describe("shape errors name the op and both shapes", () => {
  it.each([
    ["broadcasting mismatch", () => add(f32([2, 3]), f32([4, 3])),
      "add: shapes cannot be broadcast together: [2,3] and [4,3] (dimension -2 is 2 vs 4); make them equal or 1"],
    ["broadcasting through a method", () => f32([3]).mul(f32([4])),
      "mul: shapes cannot be broadcast together: [3] and [4] (dimension -1 is 3 vs 4); make them equal or 1"],
    ["where's three operands", () => where(tensor([true, false]), f32([2]), f32([3])),
      "where: shapes cannot be broadcast together: [2] and [3] (dimension -1 is 2 vs 3); make them equal or 1"],
    ["broadcastTo a smaller target", () => broadcastTo(f32([2, 3]), [3, 3]),
      "broadcastTo: shapes cannot be broadcast together: [2,3] and [3,3] (dimension -2 is 2 vs 3); make them equal or 1"],
    ["matmul inner dimensions", () => matmul(f32([2, 3]), f32([4, 5])),
      "matmul: inner dimensions differ: a is [2,3], b is [4,5]"],
    ["matmul of vectors", () => matmul(f32([3]), f32([4])),
      "matmul: inner dimensions differ: a is [3], b is [4]"],
    ["matmul batch dimensions", () => matmul(f32([2, 2, 3]), f32([3, 3, 4])),
      "matmul: batch dimensions cannot be broadcast together: a is [2,2,3], b is [3,3,4] (batch [2] vs [3]); make each pair equal or 1"],
    ["matmul of a scalar", () => matmul(f32([]), f32([3])),
      "matmul: operands must have at least 1 dimension: a is [], b is [3]; use mul for scalars"],
    ["dot lengths", () => dot(f32([3]), f32([4])), "dot: lengths differ: a is [3], b is [4]"],
    ["outer ranks", () => outer(f32([3, 2]), f32([4])), "outer: both operands must be 1-D: a is [3,2], b is [4]"],
    ["axis too large", () => sum(f32([2, 3]), 2),
      "sum: axis 2 is out of range for a tensor of rank 2; expected an integer in [-2, 1]"],
    ["negative axis too small", () => mean(f32([2, 3]), -3),
      "mean: axis -3 is out of range for a tensor of rank 2; expected an integer in [-2, 1]"],
    ["fractional axis", () => max(f32([2, 3]), 1.5),
      "max: axis must be an integer, got 1.5"],
    ["repeated axis", () => sum(f32([2, 3]), [0, 0]), "sum: axis 0 is repeated in [0,0]"],
    ["transpose perm", () => transpose(f32([2, 3]), [0, 2]), "transpose: perm [0,2] is not a permutation of the 2 axes of [2,3]"],
    ["reshape size mismatch", () => reshape(f32([2, 3]), [4, 2]),
      "reshape: cannot reshape [2,3] (6 elements) into [4,2] (8 elements)"],
    ["reshape with -1 that cannot divide", () => reshape(f32([2, 3]), [-1, 4]),
      "reshape: cannot reshape [2,3] (6 elements) into [-1,4]: 6 is not a multiple of 4, the product of the other dimensions"],
    ["reshape with two -1", () => reshape(f32([2, 3]), [-1, -1]), "reshape: only one dimension can be -1, got [-1,-1]"],
    ["negative dimension", () => zeros([2, -1]), "full: shape [2,-1] must contain non-negative integers"],
    ["eye with a negative size", () => eye(-1), "eye: sizes must be non-negative integers, got n = -1, m = -1"],
  ] as const)("%s", (_name, fn, message) => expectError(fn, ShapeError, message));
});

describe("tensors from bad nested arrays", () => {
  it("a ragged array names the element path, its length and the expected shape", () => {
    expectError(() => tensor([[1, 2], [3]]), ShapeError,
      "tensor: ragged nested array: element at [1] has length 1, expected an array of length 2 (shape [2,2])");
    expectError(() => tensor([[1, 2], 3] as never), ShapeError,
      "tensor: ragged nested array: element at [1] has a number, expected an array of length 2 (shape [2,2])");
    expectError(() => tensor([1, [2, 3]] as never), ShapeError,
      "tensor: ragged nested array: element at [1] is an array, expected a number (shape so far [2])");
    expectError(() => tensor([[[1], [2]], [[3], [4, 5]]]), ShapeError,
      "tensor: ragged nested array: element at [1][1] has length 2, expected an array of length 1 (shape [2,2,1])");
  });

  it.each([
    ["a string", [1, "a"], `tensor: element at [1] is "a" (string); expected a number or boolean`],
    ["null", [[1, 2], [null, 3]], "tensor: element at [1][0] is null (object); expected a number or boolean"],
    ["undefined", [1, undefined], "tensor: element at [1] is undefined (undefined); expected a number or boolean"],
    ["an object", [{}], "tensor: element at [0] is {} (object); expected a number or boolean"],
    ["a bigint", [1n], "tensor: element at [0] is 1n (bigint); expected a number or boolean"],
    ["a cyclic object", (() => { const o: Record<string, unknown> = {}; o.self = o; return [o]; })(), "tensor: element at [0] is [object Object] (object); expected a number or boolean"],
    ["a symbol", [Symbol("s")], "tensor: element at [0] is Symbol(s) (symbol); expected a number or boolean"],
  ])("non-numbers: %s", (_name, value, message) => expectError(() => tensor(value as never), ValueError, message));

  it("flat data that does not fill the requested shape", () => {
    expectError(() => tensor([1, 2, 3], { shape: [2, 2] }), ShapeError, "tensor: shape [2,2] needs 4 elements, got 3");
    expectError(() => tensor(new Float64Array(5), { shape: [2, 2] }), ShapeError, "tensor: shape [2,2] needs 4 elements, got 5");
  });

  it("an unknown dtype string from JavaScript", () => {
    expectError(() => tensor([1], { dtype: "float16" as never }), DTypeError, `tensor: unknown dtype "float16"; expected one of float32, float64, int32, bool`);
    expectError(() => cast(f32([2]), "double" as never), DTypeError, `cast: unknown dtype "double"; expected one of float32, float64, int32, bool`);
    expectError(() => full([2], 0, "i8" as never), DTypeError, `full: unknown dtype "i8"; expected one of float32, float64, int32, bool`);
  });

  it("a non-number operand", () => {
    expectError(() => add(f32([1]), "x" as never), ValueError, "add: second argument must be a tensor or a number, got string");
  });

  it("bad ranges", () => {
    expectError(() => arange(0, 10, 0), ValueError, "arange: start 0, stop 10, step 0: need finite bounds and a non-zero step");
    expectError(() => linspace(0, 1, -1), ValueError, "linspace: num must be a non-negative integer, got -1");
    expectError(() => f32([2]).item(), ValueError, "item: tensor has 2 elements (shape [2]); item() needs exactly one");
  });
});

describe("differentiation errors", () => {
  const intX = tensor([1, 2], { dtype: "int32" });

  it("differentiating with respect to an int or bool tensor says how to fix it", () => {
    const hint = `only float32/float64 inputs have gradients (cast with .astype("float32"), or leave it out of argnums)`;
    expectError(() => grad((x: Tensor) => sum(x))(intX), DTypeError, `grad: cannot differentiate with respect to argument 0: it has dtype int32; ${hint}`);
    expectError(() => grad((x: Tensor) => sum(x))(tensor([true, false])), DTypeError, `grad: cannot differentiate with respect to argument 0: it has dtype bool; ${hint}`);
    expectError(() => grad((_a: Tensor, x: Tensor) => sum(x), { argnums: 1 })(f32([1]), intX), DTypeError, `grad: cannot differentiate with respect to argument 1: it has dtype int32; ${hint}`);
    expectError(() => grad((p: { w: Tensor; n: Tensor }) => sum(p.w))({ w: f32([2]), n: intX }), DTypeError, `grad: cannot differentiate with respect to leaf 1 of argument 0: it has dtype int32; ${hint}`);
    expectError(() => jvp((x: Tensor) => x, [intX], [f32([2])]), DTypeError, `jvp: cannot differentiate with respect to primal 0: it has dtype int32; ${hint}`);
    expectError(() => tensor([1, 2], { dtype: "int32", requiresGrad: true }), DTypeError, `tensor: requiresGrad needs a float dtype, got int32; create it with { dtype: "float32" }`);
  });

  it("an int argument not being differentiated is fine", () => {
    const g = grad((x: Tensor, n: Tensor) => sum(mul(x, n)))(tensor([1, 1]), intX);
    expect(Array.from(g.data)).toEqual([1, 2]);
  });

  it("grad of a non-scalar output points to vjp", () => {
    expectError(() => grad((x: Tensor) => mul(x, 2))(f32([3])), GradientError, "grad: f must return a scalar (shape []), got shape [3]; use vjp with an explicit cotangent");
    expectError(() => valueAndGrad((x: Tensor) => mul(x, 2))(f32([2, 2])), GradientError, "valueAndGrad: f must return a scalar (shape []), got shape [2,2]; use vjp with an explicit cotangent");
    expectError(() => mul(tensor([1, 2], { requiresGrad: true }), 2).backward(), GradientError,
      "backward: output has shape [2]; an implicit cotangent of 1 needs a one-element output, so pass one of the same shape: y.backward(ct)");
  });

  it("wrong cotangent and tangent shapes", () => {
    expectError(() => vjp((x: Tensor) => mul(x, 2), f32([2]))[1](f32([3])), ShapeError, "vjp: cotangent 0 has shape [3], expected [2] (the output's shape)");
    expectError(() => jvp((x: Tensor) => x, [f32([2])], [f32([3])]), ShapeError, "jvp: tangent 0 has shape [3], expected [2] (its primal's shape)");
    expectError(() => mul(tensor([1, 2], { requiresGrad: true }), 2).backward(f32([3])), GradientError, "backward: cotangent has shape [3], expected [2] (the output's shape)");
  });

  it("misused transforms", () => {
    expectError(() => grad((x: Tensor) => sum(x), { argnums: 3 as 0 })(f32([2])), ValueError, "grad: argnums 3 is out of range: the function was called with 1 argument(s)");
    expectError(() => grad((() => "oops") as unknown as (x: Tensor) => Tensor)(f32([2])), ValueError, "grad: the function's output must be a tensor or a number, got string");
    expectError(() => sum(f32([2])).backward(), GradientError, "backward: cannot differentiate this tensor: it does not depend on any tensor created with { requiresGrad: true }");
    const y = sum(tensor([1, 2], { requiresGrad: true }));
    y.backward();
    expectError(() => y.backward(), GradientError, /^backward: the graph behind this tensor was already released by an earlier backward\(\); pass \{ retainGraph: true \}/);
  });

  it("a customVjp rule returning the wrong number of cotangents names the op and the count", () => {
    const myMul = customVjp(
      (x: Tensor, y: Tensor) => mul(x, y),
      (x: Tensor, y: Tensor): [Tensor, Tensor] => [mul(x, y), y],
      (y: Tensor, ct: Tensor) => [mul(ct, y)],
      { name: "myMul" },
    );
    const f = (x: Tensor) => sum(myMul(x, tensor([1, 2])));
    expectError(() => grad(f)(tensor([3, 4])), GradientError, "myMul: the custom VJP rule returned 1 cotangent(s), expected 2 (one per input)");
  });

  it("a customVjp rule returning a wrongly shaped cotangent names the op, the input and both shapes", () => {
    const twice = customVjp(
      (x: Tensor) => mul(x, 2),
      (x: Tensor): [Tensor, null] => [mul(x, 2), null],
      (_r: null, ct: Tensor) => [sum(ct)],
      { name: "twice" },
    );
    const message = "twice: the custom VJP rule returned a cotangent of shape [] for input 0, expected [2] (the input's shape)";
    expectError(() => grad((x: Tensor) => sum(twice(x)))(tensor([3, 4])), GradientError, message);
    const x = tensor([3, 4], { requiresGrad: true });
    expectError(() => sum(twice(x)).backward(), GradientError, message);
  });

  it("the engine checks every primitive's VJP output: count and shape", () => {
    // A deliberately broken primitive, as a library author might write one.
    const broken = (cts: (x: Tensor) => (Tensor | null)[]): Primitive<null> => ({
      name: "brokenOp",
      batch: broadcastingRule(),
      impl: ([x]) => mul(x!, 2),
      jvp: (_x, [t]) => (t ? mul(t, 2) : null),
      vjp: (_ct, [x]) => cts(x!),
    });
    const run = (p: Primitive<null>) => grad((x: Tensor) => sum(bind(p, [x], null)))(tensor([1, 2]));
    expectError(() => run(broken((x) => [x, x])), GradientError, "brokenOp: the VJP rule returned 2 cotangents, expected 1 (one per input)");
    expectError(() => run(broken(() => [f32([3])])), GradientError, "brokenOp: the VJP rule returned a cotangent of shape [3] for input 0, whose shape is [2]");
    // A cotangent of the broadcast (output) shape is summed back by the engine: not an error.
    expect(Array.from(run(broken(() => [full([3, 2], 1)])).data)).toEqual([3, 3]);
  });
});

describe("misuse from plain JavaScript gets a chainrule error, not a TypeError", () => {
  it("options objects where an axis goes, string axes, non-functions, bare strings", async () => {
    const lib = await import("../src/index.js");
    const t = lib.tensor([[1, 2], [3, 5]], { dtype: "float64" });
    // variance/std accept their options object in place of axis, as PyTorch users write it
    expect(lib.variance(t, { correction: 1 }).item()).toBeCloseTo(
      [1, 2, 3, 5].reduce((a, v) => a + (v - 2.75) ** 2, 0) / 3, 12);
    expect(Array.from(lib.std(t, { axis: 0, correction: 0 }).data)).toEqual([1, 1.5]);
    expect(() => lib.sum(t, { axis: 0 } as never)).toThrow(/^sum: axis must be a number or an array of numbers, got \{"axis":0\}/);
    expect(() => lib.mean(t, "0" as never)).toThrow(/^mean: axis must be a number or an array of numbers, got "0"/);
    expect(() => lib.sum(t, [0.5])).toThrow(/^sum: axis must be an integer, got 0.5/);
    expect(lib.sum(t, null as never).item()).toBe(11);
    expect(() => lib.grad(5 as never)).toThrow(/^grad: f must be a function, got number/);
    expect(() => lib.valueAndGrad("f" as never)).toThrow(/^valueAndGrad: f must be a function, got string/);
    expect(() => lib.tensor("abc" as never)).toThrow(/^tensor: element at the top level is "abc"/);
  });
});
