import { Tensor } from "../core/tensor.js";
import { GradientError, ValueError } from "../core/errors.js";
import { isFloat } from "../core/dtype.js";
import { stridesOf } from "../core/shape.js";
import { Rng } from "../core/random.js";
import { cast, tensor } from "../ops/index.js";
import { jvp, vjp } from "./transforms.js";

/** Options for `checkGrads`. */
export interface CheckGradsOptions {
  /** Highest derivative order to check (default 2): order k also checks the derivatives of the order k−1 maps. */
  order?: number;
  /** "fwd" checks jvp, "rev" checks vjp; with both, the duality ⟨ct, jvp(t)⟩ = ⟨vjp(ct), t⟩ too. Default both. */
  modes?: readonly ("fwd" | "rev")[];
  /** Central-difference step (default 1e-5, in float64). */
  eps?: number;
  /** Relative tolerance (default 1e-5). */
  rtol?: number;
  /** Absolute tolerance (default 1e-7). */
  atol?: number;
  /** Seed for the random directions and cotangents (default 0). */
  seed?: number;
}

interface Settings {
  eps: number;
  rtol: number;
  atol: number;
  fwd: boolean;
  rev: boolean;
  rng: Rng;
}

type Fn = (...args: unknown[]) => unknown;

/** How many input elements a failing reverse check probes one by one to name the worst element. */
const LOCALIZE_LIMIT = 256;

function asFloat64(x: Tensor): Tensor {
  const c = x._concreteValue();
  return c.dtype === "float64" ? c : cast(c, "float64");
}

function output(f: Fn, args: unknown[], what: string): Tensor {
  const out = f(...args);
  if (!(out instanceof Tensor)) throw new GradientError(`checkGrads: ${what} must return a tensor, got ${Array.isArray(out) ? "an array" : typeof out}`);
  if (!isFloat(out.dtype)) throw new GradientError(`checkGrads: ${what} must return a float tensor, got dtype ${out.dtype}`);
  return out;
}

function randomLike(x: Tensor, rng: Rng): Tensor {
  const data = new Float64Array(x.size);
  for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  return tensor(data, { shape: x.shape });
}

function plus(x: Tensor, v: ArrayLike<number>, h: number): Tensor {
  const a = x.data;
  const data = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) data[i] = a[i]! + h * v[i]!;
  return tensor(data, { shape: x.shape });
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): [number, number] {
  let s = 0, scale = 0;
  for (let i = 0; i < a.length; i++) {
    s += a[i]! * b[i]!;
    scale += Math.abs(a[i]! * b[i]!);
  }
  return [s, scale];
}

function fmtIndex(shape: readonly number[], flat: number): string {
  if (shape.length === 0) return "[]";
  const st = stridesOf(shape);
  return `[${st.map((s, d) => Math.floor(flat / s) % shape[d]!).join(",")}]`;
}

function close(a: number, b: number, scale: number, s: Settings): boolean {
  if (Number.isNaN(a) && Number.isNaN(b)) return true;
  if (a === b) return true;
  return Math.abs(a - b) <= s.atol + s.rtol * scale;
}

/** Central differences of f along v at x: (f(x + εv) − f(x − εv)) / 2ε, in float64. */
function centralDifference(f: (x: Tensor) => Tensor, x: Tensor, v: ArrayLike<number>, s: Settings): Float64Array {
  const up = f(plus(x, v, s.eps)).data;
  const down = f(plus(x, v, -s.eps)).data;
  const out = new Float64Array(up.length);
  for (let i = 0; i < out.length; i++) out[i] = (up[i]! - down[i]!) / (2 * s.eps);
  return out;
}

function check(f: Fn, xs: unknown[], diff: readonly number[], remaining: number, level: number, label: string, s: Settings): void {
  const out0 = output(f, xs, label);
  for (const i of diff) {
    const x = xs[i] as Tensor;
    const fi = (y: Tensor): Tensor => {
      const full = [...xs];
      full[i] = y;
      return output(f, full, label);
    };
    const where_ = `${label}, argument ${i}, derivative order ${level}`;
    const v = randomLike(x, s.rng);
    const u = randomLike(out0, s.rng);
    const fd = centralDifference(fi, x, v.data, s);
    let t: Float64Array | null = null;
    let g: Tensor | null = null;
    if (s.fwd) {
      t = asFloat64(jvp(fi, [x], [v])[1]).data as Float64Array;
      for (let k = 0; k < fd.length; k++) {
        if (!close(t[k]!, fd[k]!, Math.abs(fd[k]!), s)) {
          throw new GradientError(
            `checkGrads: forward mode disagrees with central differences (${where_}): output element ${fmtIndex(out0.shape, k)}: jvp gives ${t[k]}, central differences give ${fd[k]} (rtol ${s.rtol}, atol ${s.atol}, eps ${s.eps})`,
          );
        }
      }
    }
    if (s.rev) {
      g = asFloat64((vjp(fi, x)[1](u) as unknown as Tensor[])[0]!);
      const [lhs, ls] = dot(g.data, v.data);
      const [rhs, rs] = dot(u.data, fd);
      if (!close(lhs, rhs, Math.max(ls, rs), s)) throw localize(fi, x, u, g, lhs, rhs, where_, s);
    }
    if (t !== null && g !== null) {
      const [a, as] = dot(u.data, t);
      const [b, bs] = dot(g.data, v.data);
      if (!close(a, b, Math.max(as, bs), s)) {
        throw new GradientError(`checkGrads: forward and reverse mode disagree (${where_}): ⟨ct, jvp(t)⟩ = ${a} but ⟨vjp(ct), t⟩ = ${b} for a random t and ct`);
      }
    }
    if (remaining > 1) {
      const replace = (ys: unknown[], y: Tensor): unknown[] => {
        const full = [...ys];
        full[i] = y;
        return full;
      };
      if (s.fwd) {
        const df: Fn = (...ys) => jvp((y: Tensor) => output(f, replace(ys, y), label), [ys[i] as Tensor], [v])[1];
        check(df, xs, diff, remaining - 1, level + 1, `the JVP of ${label} w.r.t. argument ${i}`, s);
      }
      if (s.rev) {
        const df: Fn = (...ys) => (vjp((y: Tensor) => output(f, replace(ys, y), label), ys[i] as Tensor)[1](u) as unknown as Tensor[])[0];
        check(df, xs, diff, remaining - 1, level + 1, `the VJP of ${label} w.r.t. argument ${i}`, s);
      }
    }
  }
}

/** After a failed directional reverse check, probes input elements one at a time to name the worst. */
function localize(fi: (x: Tensor) => Tensor, x: Tensor, u: Tensor, g: Tensor, lhs: number, rhs: number, where_: string, s: Settings): GradientError {
  const n = x.size;
  const picks = n <= LOCALIZE_LIMIT ? Array.from({ length: n }, (_, k) => k) : Array.from({ length: LOCALIZE_LIMIT }, () => s.rng.int(n));
  let worst = -1, worstErr = 0, worstFd = 0;
  const e = new Float64Array(n);
  for (const k of picks) {
    e[k] = 1;
    const [fdk] = dot(u.data, centralDifference(fi, x, e, s));
    e[k] = 0;
    const gk = g.data[k]!;
    const err = Math.abs(gk - fdk) - (s.atol + s.rtol * Math.abs(fdk));
    if (err > worstErr || (Number.isNaN(err) && worst < 0)) {
      worst = k;
      worstErr = Number.isNaN(err) ? Infinity : err;
      worstFd = fdk;
    }
  }
  if (worst >= 0) {
    return new GradientError(
      `checkGrads: reverse mode disagrees with central differences (${where_}): input element ${fmtIndex(x.shape, worst)}: vjp gives ${g.data[worst]}, central differences give ${worstFd} (rtol ${s.rtol}, atol ${s.atol}, eps ${s.eps})`,
    );
  }
  return new GradientError(`checkGrads: reverse mode disagrees with central differences (${where_}): ⟨vjp(ct), t⟩ = ${lhs}, central differences give ${rhs} (rtol ${s.rtol}, atol ${s.atol}, eps ${s.eps})`);
}

/**
 * Checks the derivatives of `f` at `args` numerically, as JAX's `check_grads`: for each float
 * argument, central differences in float64 along a random direction against forward mode (every
 * output element) and reverse mode (through a random cotangent), plus the duality
 * ⟨ct, jvp(t)⟩ = ⟨vjp(ct), t⟩; with `order` k it repeats this for the derivative maps themselves
 * (forward-over-forward, reverse-over-forward, forward-over-reverse, reverse-over-reverse).
 * Float arguments (and numbers) are converted to float64; int and bool arguments are passed through.
 * @param f returns one float tensor; it should compute in float64 for the check to be meaningful
 * @throws GradientError naming the argument, the worst element and both values when a check fails
 * @throws ValueError for an invalid order or modes
 */
export function checkGrads<Args extends unknown[]>(f: (...args: Args) => Tensor, args: Args, options: CheckGradsOptions = {}): void {
  const order = options.order ?? 2;
  const modes = options.modes ?? ["fwd", "rev"];
  if (!Number.isInteger(order) || order < 1) throw new ValueError(`checkGrads: order must be a positive integer, got ${order}`);
  if (modes.length === 0 || modes.some((m) => m !== "fwd" && m !== "rev")) {
    throw new ValueError(`checkGrads: modes must be a non-empty list of "fwd" and "rev", got ${JSON.stringify(modes)}`);
  }
  const xs: unknown[] = [];
  const diff: number[] = [];
  args.forEach((a, i) => {
    if (a instanceof Tensor && isFloat(a.dtype)) {
      xs.push(asFloat64(a));
      diff.push(i);
    } else if (typeof a === "number") {
      xs.push(tensor(a, { dtype: "float64" }));
      diff.push(i);
    } else xs.push(a);
  });
  const settings: Settings = {
    eps: options.eps ?? 1e-5,
    rtol: options.rtol ?? 1e-5,
    atol: options.atol ?? 1e-7,
    fwd: modes.includes("fwd"),
    rev: modes.includes("rev"),
    rng: new Rng(options.seed ?? 0),
  };
  check(f as unknown as Fn, xs, diff, order, 1, f.name ? `${f.name}` : "f", settings);
}
