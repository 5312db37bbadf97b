import type { Tensor, TensorLike } from "../core/tensor.js";
import type { Primitive } from "../core/primitive.js";
import { elementwise } from "../core/define.js";
import type { binaryKernels } from "../kernels/binary.js";
import type { unaryKernels } from "../kernels/unary.js";
import { bind } from "../autodiff/bind.js";
import { binaryImpl, unaryImpl } from "./elementwise-impl.js";
import { operand, operands } from "./operands.js";
import { cast, where } from "./select.js";
import { reluGrad, sigmoidGrad, sigmoidSlope, squareGrad, tanhGrad, tanhSlope } from "./fused-grad.js";
import { broadcastingRule } from "../core/batching.js";
import { isStaged } from "../autodiff/trace.js";
import { selectedAway } from "../autodiff/strong-zeros.js";

// Local partials are written with public ops so that higher derivatives come from composition.
// Kink conventions follow PyTorch and are documented on each public function below.

const u = (name: keyof typeof unaryKernels, floatOnly: boolean) => unaryImpl((k) => k.unary[name], floatOnly);
const b = (name: keyof typeof binaryKernels, result: "same" | "float" | "bool") => binaryImpl(name, (k) => k.binary[name], result);

// What each partial reads, so the recorded graph keeps only that (see Primitive.residuals).
const RESIDUALS = {
  add: [[], []],
  sub: [[], []],
  mul: [[1], [0]],
  div: [[1], [1, "out"]],
  maximum: [[0, 1], [0, 1]],
  minimum: [[0, 1], [0, 1]],
  atan2: [[0, 1], [0, 1]],
  neg: [[]],
  abs: [[0]],
  sign: [[]],
  exp: [["out"]],
  expm1: [[0]],
  log: [[0]],
  log1p: [[0]],
  sqrt: [["out"]],
  rsqrt: [[0, "out"]],
  square: [[0]],
  reciprocal: [["out"]],
  sin: [[0]],
  cos: [[0]],
  tan: [["out"]],
  tanh: [[0, "out"]],
  sigmoid: [[0, "out"]],
  relu: [[0]],
} satisfies Record<string, readonly (readonly (number | "out")[])[]>;

/** @internal The elementwise primitives by name (for the graph viewer and tests). */
export const prims = {
  add: elementwise("add", b("add", "same"), [() => 1, () => 1], () => ["1", "1"], { residuals: RESIDUALS.add }),
  sub: elementwise("sub", b("sub", "same"), [() => 1, () => -1], () => ["1", "-1"], { residuals: RESIDUALS.sub }),
  mul: elementwise("mul", b("mul", "same"), [(x) => x[1]!, (x) => x[0]!], (n) => [n[1]!, n[0]!], { residuals: RESIDUALS.mul }),
  div: elementwise("div", b("div", "float"), [(x) => reciprocal(x[1]!), (x, out) => neg(div(out, x[1]!))], (n, o) => [`1/${n[1]}`, `-${o}/${n[1]}`], { residuals: RESIDUALS.div }),
  pow: elementwise(
    "pow",
    b("pow", "float"),
    [
      (x) => powerRule(x[0]!, x[1]!),
      // d/db a^b = a^b·log a; PyTorch masks it to 0 where a = 0 and b ≥ 0 (the limit), avoiding 0·(-inf).
      (x, out) => where(cast(equal(x[0]!, 0), "bool"), 0, mul(out, log(x[0]!))),
    ],
    (n, o) => [`${n[1]}·${n[0]}^(${n[1]}-1)`, `${o}·log(${n[0]})`],
  ),
  maximum: elementwise(
    "maximum",
    b("maximum", "same"),
    [(x) => tieShare(greater(x[0]!, x[1]!), equal(x[0]!, x[1]!), x[0]!), (x) => tieShare(less(x[0]!, x[1]!), equal(x[0]!, x[1]!), x[0]!)],
    undefined,
    {
      residuals: RESIDUALS.maximum,
      select: [(v, x) => unlessLoses(less(x[0]!, x[1]!), x, v), (v, x) => unlessLoses(greater(x[0]!, x[1]!), x, v)],
    },
  ),
  minimum: elementwise(
    "minimum",
    b("minimum", "same"),
    [(x) => tieShare(less(x[0]!, x[1]!), equal(x[0]!, x[1]!), x[0]!), (x) => tieShare(greater(x[0]!, x[1]!), equal(x[0]!, x[1]!), x[0]!)],
    undefined,
    {
      residuals: RESIDUALS.minimum,
      select: [(v, x) => unlessLoses(greater(x[0]!, x[1]!), x, v), (v, x) => unlessLoses(less(x[0]!, x[1]!), x, v)],
    },
  ),
  atan2: elementwise(
    "atan2",
    b("atan2", "float"),
    [
      (x) => div(x[1]!, add(square(x[0]!), square(x[1]!))),
      (x) => neg(div(x[0]!, add(square(x[0]!), square(x[1]!)))),
    ],
    undefined,
    { residuals: RESIDUALS.atan2 },
  ),
  neg: elementwise("neg", u("neg", false), [() => -1], () => ["-1"], { residuals: RESIDUALS.neg }),
  abs: elementwise("abs", u("abs", false), [(x) => sign(x[0]!)], (n) => [`sign(${n[0]})`], {
    residuals: RESIDUALS.abs,
    // sign(x)·v, but exactly 0 at x = 0 whatever v is (an infinite tangent there must not give NaN).
    select: [(v, x) => selectedAway(equal(x[0]!, 0), v, mul(sign(x[0]!), v))],
  }),
  sign: elementwise("sign", u("sign", false), [() => null], () => ["0"], { residuals: RESIDUALS.sign }),
  exp: elementwise("exp", u("exp", true), [(_, out) => out], (_, o) => [o], { residuals: RESIDUALS.exp }),
  // eˣ from x, not out + 1: out rounds to −1 for x < −37 (float64), which would give 0 instead of eˣ.
  expm1: elementwise("expm1", u("expm1", true), [(x) => exp(x[0]!)], (n) => [`exp(${n[0]})`], { residuals: RESIDUALS.expm1 }),
  log: elementwise("log", u("log", true), [(x) => reciprocal(x[0]!)], (n) => [`1/${n[0]}`], { residuals: RESIDUALS.log }),
  log1p: elementwise("log1p", u("log1p", true), [(x) => reciprocal(add(x[0]!, 1))], (n) => [`1/(1+${n[0]})`], { residuals: RESIDUALS.log1p }),
  sqrt: elementwise("sqrt", u("sqrt", true), [(_, out) => div(0.5, out)], (_, o) => [`1/(2·${o})`], { residuals: RESIDUALS.sqrt }),
  rsqrt: elementwise("rsqrt", u("rsqrt", true), [(x, out) => mul(-0.5, div(out, x[0]!))], (n, o) => [`-${o}/(2·${n[0]})`], { residuals: RESIDUALS.rsqrt }),
  square: elementwise("square", u("square", false), [(x) => mul(2, x[0]!)], (n) => [`2·${n[0]}`], { fusedVjp: (ct, x) => [squareGrad(x[0]!, ct)], residuals: RESIDUALS.square }),
  reciprocal: elementwise("reciprocal", u("reciprocal", true), [(_, out) => neg(square(out))], (_, o) => [`-${o}²`], { residuals: RESIDUALS.reciprocal }),
  sin: elementwise("sin", u("sin", true), [(x) => cos(x[0]!)], (n) => [`cos(${n[0]})`], { residuals: RESIDUALS.sin }),
  cos: elementwise("cos", u("cos", true), [(x) => neg(sin(x[0]!))], (n) => [`-sin(${n[0]})`], { residuals: RESIDUALS.cos }),
  tan: elementwise("tan", u("tan", true), [(_, out) => add(square(out), 1)], (_, o) => [`1+${o}²`], { residuals: RESIDUALS.tan }),
  // The derivatives read x as well as the output: 1 − out² and out·(1 − out) lose every digit as out rounds to 1.
  tanh: elementwise("tanh", u("tanh", true), [(x) => tanhSlope(x[0]!)], (_, o) => [`1-${o}²`], { fusedVjp: (ct, x, out) => [tanhGrad(x[0]!, out, ct)], residuals: RESIDUALS.tanh }),
  sigmoid: elementwise("sigmoid", u("sigmoid", true), [(x, out) => sigmoidSlope(x[0]!, out)], (_, o) => [`${o}·(1-${o})`], { fusedVjp: (ct, x, out) => [sigmoidGrad(x[0]!, out, ct)], residuals: RESIDUALS.sigmoid }),
  // relu'(x) is 0 where x ≤ 0 and 1 elsewhere, NaN included (PyTorch's threshold_backward): the NaN value
  // relu(NaN) passes its tangent on as maximum(NaN, 0) does.
  relu: elementwise("relu", u("relu", false), [(x) => sub(1, cast(lessEqual(x[0]!, 0), x[0]!.dtype))], (n) => [`[${n[0]}>0]`], {
    fusedVjp: (ct, x) => [reluGrad(x[0]!, ct)],
    residuals: RESIDUALS.relu,
    select: [(v, x) => selectedAway(lessEqual(x[0]!, 0), v, v)],
  }),
  equal: comparison("equal"),
  notEqual: comparison("notEqual"),
  greater: comparison("greater"),
  greaterEqual: comparison("greaterEqual"),
  less: comparison("less"),
  lessEqual: comparison("lessEqual"),
} satisfies Record<string, Primitive<null>>;

function comparison(name: "equal" | "notEqual" | "greater" | "greaterEqual" | "less" | "lessEqual"): Primitive<null> {
  return {
    name,
    nonDifferentiable: true,
    impl: b(name, "bool"),
    batch: broadcastingRule(),
    jvp: () => null,
    vjp: () => [null, null],
  };
}

/**
 * ∂(aᵇ)/∂a = b·a^(b−1), set to 0 where b = 0 (aᵇ = 1 is constant in a; the formula gives 0·a⁻¹, which
 * is 0·∞ = NaN at a = 0). The mask is applied only where it matters (a and b both 0), so elsewhere the
 * partial stays the plain formula, whose derivatives in b are right. Higher orders come from the same
 * rule: the second derivative differentiates pow(a, b − 1), whose partial is guarded at b − 1 = 0.
 */
function powerRule(a: Tensor, b: Tensor): Tensor {
  const p = mul(b, pow(a, sub(b, 1)));
  if (isStaged(b)) return where(mul(cast(equal(a, 0), "int32"), cast(equal(b, 0), "int32")), 0, p); // jit: for every value
  const bc = b._concreteValue(true); // every example under vmap: the mask is elementwise
  // On the GPU the values are not read: the mask is applied everywhere (it changes nothing where b ≠ 0).
  if (bc._data === null) return where(mul(cast(equal(a, 0), "int32"), cast(equal(b, 0), "int32")), 0, p);
  const bv = bc._data;
  let zero = false;
  for (let i = 0; i < bv.length; i++) {
    if (bv[i] === 0) {
      zero = true;
      break;
    }
  }
  if (!zero) return p;
  return where(mul(cast(equal(a, 0), "int32"), cast(equal(b, 0), "int32")), 0, p);
}

/**
 * maximum's and minimum's contribution to one input: 0 where it `loses`, v/2 at a tie, else v — so an
 * operand that is NaN, or faces a NaN, gets all of v (as PyTorch's backward of maximum and minimum).
 */
function unlessLoses(loses: Tensor, x: Tensor[], v: Tensor): Tensor {
  return selectedAway(loses, v, where(equal(x[0]!, x[1]!), mul(0.5, v), v));
}

/** 1 where `win`, ½ where `tie`, else 0 — PyTorch's even split of the gradient at ties (the partial the graph viewer shows). */
function tieShare(win: Tensor, tie: Tensor, like: Tensor): Tensor {
  const dt = like.dtype === "float64" ? "float64" : "float32";
  return add(cast(win, dt), mul(0.5, cast(tie, dt)));
}

const bin = (p: Primitive<null>, a: TensorLike, c: TensorLike): Tensor => bind(p, operands(p.name, a, c), null);
const un = (p: Primitive<null>, x: TensorLike): Tensor => bind(p, [operand(p.name, x)], null);

/** Elementwise a + b with NumPy broadcasting. Any shapes that broadcast; dtype is the wider of the two. @throws ShapeError if shapes do not broadcast */
export function add(a: TensorLike, c: TensorLike): Tensor { return bin(prims.add, a, c); }
/** Elementwise a − b with broadcasting. @throws ShapeError if shapes do not broadcast */
export function sub(a: TensorLike, c: TensorLike): Tensor { return bin(prims.sub, a, c); }
/** Elementwise a · b with broadcasting. ∂/∂a = b, ∂/∂b = a. @throws ShapeError if shapes do not broadcast */
export function mul(a: TensorLike, c: TensorLike): Tensor { return bin(prims.mul, a, c); }
/** Elementwise true division a / b with broadcasting; int inputs give float32 (as PyTorch). Division by 0 gives ±Infinity/NaN per IEEE 754. @throws ShapeError if shapes do not broadcast */
export function div(a: TensorLike, c: TensorLike): Tensor { return bin(prims.div, a, c); }
/**
 * Elementwise a^b with a tensor exponent and broadcasting. ∂/∂a = b·a^(b−1), and 0 where b = 0 at
 * every order and in both modes (so d/dx x⁰ = 0 at x = 0, not 0·0⁻¹ = NaN; PyTorch and JAX mask every
 * b = 0, chainrule only a = b = 0, which keeps ∂²/∂a∂b = 1/a right at b = 0, a ≠ 0);
 * ∂/∂b = a^b·log a, set to 0 where a = 0 (PyTorch's convention, the limit for b > 0; at a = b = 0 it
 * is 0 too). Values follow IEEE 754 `pow` (C, NumPy, PyTorch) on every backend: pow(1, y) = 1 for any y,
 * NaN included, pow(−1, ±Infinity) = 1 and pow(x, 0) = 1 (JavaScript's `**` gives NaN for the first two);
 * negative a with fractional b gives NaN.
 * @throws ShapeError if shapes do not broadcast
 */
export function pow(a: TensorLike, c: TensorLike): Tensor { return bin(prims.pow, a, c); }
/**
 * Elementwise maximum with broadcasting; at ties each input gets half the gradient (PyTorch). NaN in either
 * operand gives NaN, and then both operands get the whole gradient (PyTorch's backward). The input that is
 * not selected gets exactly 0, even where the incoming gradient is infinite (a selection, not 0·∞).
 */
export function maximum(a: TensorLike, c: TensorLike): Tensor { return bin(prims.maximum, a, c); }
/** Elementwise minimum with broadcasting; conventions as `maximum` (ties share, NaN propagates, the loser gets exactly 0). */
export function minimum(a: TensorLike, c: TensorLike): Tensor { return bin(prims.minimum, a, c); }
/** Elementwise atan2(y, x) in radians, in (−π, π], with broadcasting. Gradient at (0, 0) is NaN (0/0), as in PyTorch. */
export function atan2(y: TensorLike, x: TensorLike): Tensor { return bin(prims.atan2, y, x); }
/** Elementwise a == b → bool. Not differentiable. */
export function equal(a: TensorLike, c: TensorLike): Tensor { return bin(prims.equal, a, c); }
/** Elementwise a != b → bool. Not differentiable. */
export function notEqual(a: TensorLike, c: TensorLike): Tensor { return bin(prims.notEqual, a, c); }
/** Elementwise a > b → bool. Not differentiable. */
export function greater(a: TensorLike, c: TensorLike): Tensor { return bin(prims.greater, a, c); }
/** Elementwise a >= b → bool. Not differentiable. */
export function greaterEqual(a: TensorLike, c: TensorLike): Tensor { return bin(prims.greaterEqual, a, c); }
/** Elementwise a < b → bool. Not differentiable. */
export function less(a: TensorLike, c: TensorLike): Tensor { return bin(prims.less, a, c); }
/** Elementwise a <= b → bool. Not differentiable. */
export function lessEqual(a: TensorLike, c: TensorLike): Tensor { return bin(prims.lessEqual, a, c); }

/** −x. */
export function neg(x: TensorLike): Tensor { return un(prims.neg, x); }
/** |x|; derivative sign(x), so abs'(0) = 0 (PyTorch), exactly 0 even under an infinite tangent; abs'(NaN) is NaN (PyTorch: 0, from its sign(NaN) = 0). */
export function abs(x: TensorLike): Tensor { return un(prims.abs, x); }
/** −1, 0 or 1 (sign(0) = 0, NaN stays NaN as NumPy; PyTorch gives 0); derivative 0 everywhere. */
export function sign(x: TensorLike): Tensor { return un(prims.sign, x); }
/** eˣ; derivative eˣ. Int inputs give float32. */
export function exp(x: TensorLike): Tensor { return un(prims.exp, x); }
/** eˣ − 1, accurate near 0; derivative eˣ, computed from x (not as out + 1, which rounds to 0 for x below about −37). */
export function expm1(x: TensorLike): Tensor { return un(prims.expm1, x); }
/** Natural log; domain x > 0 (log 0 = −Infinity, negative → NaN, IEEE 754); derivative 1/x. */
export function log(x: TensorLike): Tensor { return un(prims.log, x); }
/** log(1 + x), accurate near 0; domain x > −1; derivative 1/(1+x). */
export function log1p(x: TensorLike): Tensor { return un(prims.log1p, x); }
/** √x; domain x ≥ 0; derivative 1/(2√x), so sqrt'(0) = +Infinity (PyTorch). */
export function sqrt(x: TensorLike): Tensor { return un(prims.sqrt, x); }
/** 1/√x; domain x > 0; derivative −1/(2x√x). */
export function rsqrt(x: TensorLike): Tensor { return un(prims.rsqrt, x); }
/** x²; derivative 2x. */
export function square(x: TensorLike): Tensor { return un(prims.square, x); }
/** 1/x; derivative −1/x². */
export function reciprocal(x: TensorLike): Tensor { return un(prims.reciprocal, x); }
/** sin x (radians); derivative cos x. */
export function sin(x: TensorLike): Tensor { return un(prims.sin, x); }
/** cos x (radians); derivative −sin x. */
export function cos(x: TensorLike): Tensor { return un(prims.cos, x); }
/** tan x (radians); derivative 1 + tan² x. */
export function tan(x: TensorLike): Tensor { return un(prims.tan, x); }
/**
 * tanh x; derivative 1 − tanh² x = sech² x. The derivative is computed from x where tanh x is near ±1 (there
 * 1 − tanh² x would be rounded to 0 or lose most digits; PyTorch and JAX use 1 − tanh² x everywhere, so their
 * tanh'(20) is 0 in float64 where this gives 1.7e-17).
 */
export function tanh(x: TensorLike): Tensor { return un(prims.tanh, x); }
/**
 * Logistic σ(x) = 1/(1+e⁻ˣ), computed without overflow; derivative σ(x)(1−σ(x)) = σ(x)σ(−x). The derivative is
 * computed from x where σ(x) is near 1 (PyTorch's σ(x)(1 − σ(x)) is 0 in float64 from x ≈ 37, where the true
 * value is 8.5e-17; this also makes softplus'' = σ' exact there).
 */
export function sigmoid(x: TensorLike): Tensor { return un(prims.sigmoid, x); }
/**
 * max(x, 0); derivative 1 for x > 0 and 0 for x ≤ 0, so relu'(0) = 0 (PyTorch). relu(NaN) is NaN with
 * derivative 1 (as PyTorch and maximum). Where x ≤ 0 the contribution is exactly 0, even under an
 * infinite tangent or cotangent (a selection, not a 0/1 mask times it).
 */
export function relu(x: TensorLike): Tensor { return un(prims.relu, x); }
