import { describe, expect, it } from "vitest";
import {
  DTypeError, GradientError, ShapeError, ValueError,
  cast, grad, noGrad, reshape, stopGradient, sum, tensor, zeroGrad, optim, type Tensor,
} from "../src/index.js";

const f64 = (v: number[] | number[][], requiresGrad = false) => tensor(v, { dtype: "float64", requiresGrad });

describe("updating a leaf in place (PyTorch's a -= lr * a.grad under no_grad)", () => {
  it("gradient descent on (w − 3)² by hand: the leaf keeps requiresGrad and the same object", () => {
    // w ← w − 0.25·2(w − 3) from 0 halves the distance to 3 each step: 1.5, 2.25, 2.625.
    const w = f64([0], true);
    const seen: number[] = [];
    for (let step = 0; step < 3; step++) {
      sum(w.sub(3).square()).backward();
      noGrad(() => w.subInPlace(w.grad!.mul(0.25)));
      zeroGrad([w]);
      seen.push(w.item());
    }
    expect(seen).toEqual([1.5, 2.25, 2.625]);
    expect(w.requiresGrad).toBe(true);
  });

  it("the ops return the tensor itself, and mul/div/add/assign compute what they say", () => {
    const w = f64([1, 2, 3], true);
    noGrad(() => {
      expect(w.addInPlace(1)).toBe(w); // [2, 3, 4]
      w.mulInPlace(f64([2, 0.5, 1])); //   [4, 1.5, 4]
      w.divInPlace(4); //                 [1, 0.375, 1]
    });
    expect(w.toArray()).toEqual([1, 0.375, 1]);
    noGrad(() => w.assign(f64([7, 8, 9])));
    expect(w.toArray()).toEqual([7, 8, 9]);
    noGrad(() => w.assign(0.5)); // a number fills
    expect(w.toArray()).toEqual([0.5, 0.5, 0.5]);
  });

  it("the operand broadcasts to the target, never the other way", () => {
    const t = tensor([[1, 2, 3], [4, 5, 6]]);
    t.addInPlace(tensor([10, 20, 30]));
    expect(t.toArray()).toEqual([[11, 22, 33], [14, 25, 36]]);
    const row = tensor([1, 2, 3]);
    expect(() => row.addInPlace(tensor([[1, 2, 3], [4, 5, 6]]))).toThrow(ShapeError);
    expect(() => row.addInPlace(tensor([[1, 2, 3], [4, 5, 6]]))).toThrow(/addInPlace: the result has shape \[2,3\], but the target has shape \[3\]/);
  });

  it("an optimizer holding the leaf keeps working after a manual update", () => {
    // SGD lr 0.5 on sum(w²): w ← w − w = 0 from wherever the manual update put it.
    const w = f64([4, -2], true);
    const opt = new optim.SGD([w], { lr: 0.25 });
    noGrad(() => w.assign(f64([2, 6])));
    sum(w.square()).backward(); // grad 2w = [4, 12]
    opt.step(); // w − 0.25·[4, 12] = [1, 3]
    expect(w.toArray()).toEqual([1, 3]);
    noGrad(() => w.subInPlace(1)); // [0, 2]
    opt.zeroGrad();
    sum(w.square()).backward(); // [0, 4]
    opt.step(); // [0, 1]
    expect(w.toArray()).toEqual([0, 1]);
    expect(w.requiresGrad).toBe(true);
  });

  it("a graph retained across optimizer.step() keeps the values it was recorded with", () => {
    const w = f64([2], true);
    const y = sum(w.square());
    y.backward(undefined, { retainGraph: true });
    new optim.SGD([w], { lr: 0.5 }).step(); // w = 2 − 0.5·4 = 0
    expect(w.item()).toBe(0);
    w.grad = null;
    y.backward(); // d(w²)/dw at the recorded w = 2
    expect(w.grad!.item()).toBe(4);
  });
});

describe("in-place updates refused where they would be wrong", () => {
  it("a leaf that requires grad, outside noGrad", () => {
    const w = f64([1], true);
    expect(() => w.subInPlace(1)).toThrow(GradientError);
    expect(() => w.subInPlace(1)).toThrow(/subInPlace: this leaf requires grad and gradients are being recorded; wrap the update in noGrad/);
    expect(w.item()).toBe(1);
  });

  it("a value computed from requiresGrad tensors (not a leaf), even under noGrad", () => {
    const w = f64([1], true);
    const y = w.mul(2);
    expect(() => noGrad(() => y.addInPlace(1))).toThrow(/addInPlace: this tensor is computed from requiresGrad tensors \(it is not a leaf\)/);
  });

  it("a tracer inside grad", () => {
    const f = (x: Tensor) => sum(x.assign(f64([5])));
    expect(() => grad(f)(f64([1]))).toThrow(/assign: cannot update a tensor in place inside grad, vjp, jvp or another transform/);
  });

  it("a value that requires grad, while recording", () => {
    const w = f64([1], true);
    const buf = f64([0]);
    expect(() => buf.assign(w)).toThrow(/assign: the value requires grad/);
    noGrad(() => buf.assign(w)); // inside noGrad it is the value
    expect(buf.item()).toBe(1);
  });

  it("shape and dtype are checked", () => {
    const t = tensor([1, 2, 3]);
    expect(() => t.assign(tensor([1, 2]))).toThrow(/assign: the value has shape \[2\] and dtype float32, expected the target's \[3\] and float32/);
    expect(() => t.assign(tensor([1, 2, 3], { dtype: "float64" }))).toThrow(ShapeError);
    const i = tensor([1, 2], { dtype: "int32" });
    expect(() => i.divInPlace(2)).toThrow(DTypeError);
    expect(() => i.divInPlace(2)).toThrow(/divInPlace: the result has dtype float32, which cannot be stored in the target's int32/);
    expect(() => i.addInPlace(0.5)).toThrow(DTypeError);
    expect(i.addInPlace(3).toArray()).toEqual([4, 5]);
  });

  it("the shared constant made for a plain number", () => {
    const two = cast(2, "float32"); // the cached scalar behind every x.mul(2)
    expect(() => two.assign(3)).toThrow(ValueError);
    expect(tensor([1]).mul(2).item()).toBe(2);
  });
});

describe("the version counter: a value saved for backward and then updated in place", () => {
  it("a leaf's value saved by mul: backward refuses, naming the op", () => {
    const w = f64([1, 2], true);
    const y = sum(w.mul(w));
    noGrad(() => w.assign(f64([5, 5])));
    expect(() => y.backward()).toThrow(GradientError);
    expect(() => y.backward()).toThrow(/backward: mul saved its input \d \(shape \[2\]\) for its gradient, and that tensor was then modified in place/);
  });

  it("a plain tensor saved as a constant", () => {
    const w = f64([1, 2], true);
    const c = f64([3, 4]);
    const y = sum(w.mul(c));
    c.mulInPlace(10);
    expect(() => y.backward()).toThrow(/backward: mul saved its input 1/);
  });

  it("the same inside a functional transform", () => {
    const c = f64([3, 4]);
    const f = (x: Tensor) => {
      const y = sum(x.mul(c));
      c.assign(f64([0, 0]));
      return y;
    };
    expect(() => grad(f)(f64([1, 1]))).toThrow(/backward: mul saved its input 1/);
  });

  it("a value nobody saved may change: add keeps nothing, so the gradient is still right", () => {
    const w = f64([1, 2], true);
    const y = sum(w.add(1));
    noGrad(() => w.assign(f64([9, 9])));
    y.backward();
    expect(w.grad!.toArray()).toEqual([1, 1]);
  });

  it("updates made before the graph is recorded are fine, and reach it through shared storage", () => {
    const w = f64([1, 2], true);
    const view = w.detach(); // shares storage
    view.assign(f64([3, 4])); // a plain tensor: allowed anywhere
    expect(w.toArray()).toEqual([3, 4]);
    sum(w.square()).backward();
    expect(w.grad!.toArray()).toEqual([6, 8]);
  });

  it("a reshape of the leaf sees the update too", () => {
    const t = tensor([1, 2, 3, 4]);
    const m = reshape(t, [2, 2]);
    t.addInPlace(1);
    expect(m.toArray()).toEqual([[2, 3], [4, 5]]);
  });
});

describe("requiresGrad, detach, stopGradient, .T", () => {
  it("requiresGrad = true makes a plain tensor a leaf in place; false makes it plain again", () => {
    const x = f64([1, 2, 3]);
    expect(x.requiresGrad).toBe(false);
    x.requiresGrad = true;
    expect(x.requiresGrad).toBe(true);
    sum(x.mul(x)).backward();
    expect(x.grad!.toArray()).toEqual([2, 4, 6]);
    x.requiresGrad = false;
    expect(x.requiresGrad).toBe(false);
    expect(x.toArray()).toEqual([1, 2, 3]);
    expect(() => x.mul(2).backward(f64([1, 1, 1]))).toThrow(/does not depend on any tensor created with \{ requiresGrad: true \}/);
    x.addInPlace(1); // plain again: updates need no noGrad
    expect(x.toArray()).toEqual([2, 3, 4]);
  });

  it("an optimizer accepts a tensor made a leaf with the setter", () => {
    const x = f64([2]);
    x.requiresGrad = true;
    const opt = new optim.SGD([x], { lr: 0.5 });
    sum(x.square()).backward();
    opt.step();
    expect(x.item()).toBe(0);
  });

  it("requiresGrad is refused where PyTorch refuses it", () => {
    expect(() => { tensor([1, 2], { dtype: "int32" }).requiresGrad = true; }).toThrow(DTypeError);
    const w = f64([1], true);
    const y = w.mul(2);
    expect(() => { y.requiresGrad = false; }).toThrow(/requiresGrad: only leaves can stop requiring grad/);
    y.requiresGrad = true; // already true: nothing to do
    expect(y.requiresGrad).toBe(true);
    // The value under a leaf must stay a plain tensor (tensor(w) returns it).
    expect(() => { tensor(w).requiresGrad = true; }).toThrow(GradientError);
    expect(() => grad((x: Tensor) => { x.requiresGrad = false; return sum(x); })(f64([1]))).toThrow(/requiresGrad: cannot change it on a tracer/);
  });

  it("stopGradient and detach results do not require grad, and their derivative is zero", () => {
    const z = f64([3], true);
    expect(stopGradient(z).requiresGrad).toBe(false);
    expect(z.detach().requiresGrad).toBe(false);
    expect(z.detach().toArray()).toEqual([3]);
    // d/dz [z · detach(z)] = detach(z) = 3
    sum(z.mul(z.detach())).backward();
    expect(z.grad!.item()).toBe(3);
    // setting requiresGrad on a detached tensor leaves the original leaf alone
    const d = z.detach();
    d.requiresGrad = true;
    expect(z.requiresGrad).toBe(true);
    expect(z.item()).toBe(3);
  });

  it(".T transposes a 2-D tensor, is differentiable, and passes 0-D/1-D through", () => {
    const m = f64([[1, 2, 3], [4, 5, 6]], true);
    expect(m.T.toArray()).toEqual([[1, 4], [2, 5], [3, 6]]);
    sum(m.T.mul(f64([[1, 10], [2, 20], [3, 30]]))).backward();
    expect(m.grad!.toArray()).toEqual([[1, 2, 3], [10, 20, 30]]);
    const v = f64([1, 2]);
    expect(v.T).toBe(v);
    expect(() => tensor([[[1]]]).T).toThrow(/T: tensor has shape \[1,1,1\]; \.T is for tensors of at most 2 dimensions/);
  });
});
