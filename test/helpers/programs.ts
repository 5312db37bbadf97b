// Random straight-line tensor programs for the gradient fuzzer (test/fuzz.test.ts).
//
// A program is generated as raw instructions (op + operand picks + a parameter number), then resolved
// against the shapes alone: operand picks are taken modulo the registers defined so far, and an
// operand whose shape does not fit is replaced by a fitting form (e.g. its sum). So every instruction
// list — including any list fast-check shrinks to — is a valid program, and the resolved program
// prints as readable text.
import fc from "fast-check";
import {
  abs, add, broadcastTo, cos, div, equal, exp, log, matmul, max, maximum, mean, minimum, mul, neg, pow,
  relu, reshape, sigmoid, sin, sqrt, square, sub, sum, tanh, tensor, transpose, where,
} from "../../src/index.js";
import type { Tensor } from "../../src/index.js";
import { Rng } from "../../src/index.js";

export const UNARY = ["neg", "abs", "exp", "log", "sqrt", "square", "sin", "cos", "tanh", "sigmoid", "relu"] as const;
export const BINARY = ["add", "sub", "mul", "div", "pow", "maximum", "minimum"] as const;
export const STRUCTURAL = ["sum", "mean", "max", "reshape", "transpose", "broadcastTo", "matmul", "where"] as const;
export const OPS = [...UNARY, ...BINARY, ...STRUCTURAL] as const;
export type OpName = (typeof OPS)[number];

/** One generated instruction before resolution. */
export interface Instr {
  op: OpName;
  a: number;
  b: number;
  p: number;
  keep: boolean;
}

/**
 * Kink signatures: ops that are not smooth everywhere push which side of their kink each element is on,
 * so a finite-difference stencil can be rejected when it straddles a kink.
 */
export type Signature = number[];

interface Step {
  text: string;
  /** Registers read (for printing only the steps the output depends on). */
  deps: number[];
  shape: number[];
  /** Library primitives/functions this step calls (the program's size in ops). */
  ops: number;
  run(r: Tensor[], sig: Signature | null): Tensor;
}

/** A resolved program: inputs (float64, values from `seed`), steps, and out = sum(last · w). */
export interface Program {
  inputShapes: number[][];
  /** The raw instructions it was resolved from (to resolve it again, e.g. with a planted rule). */
  instrs: readonly Instr[];
  steps: Step[];
  seed: number;
  opCount: number;
  /** The instruction kinds used, one per step. */
  kinds: OpName[];
  text: string;
  /** Evaluates the program on `xs`; pushes kink signatures into `sig` when given. */
  run(xs: readonly Tensor[], sig?: Signature | null): Tensor;
  /** The largest |value| in any register (inputs, steps, output) when run on concrete `xs`. */
  largest(xs: readonly Tensor[]): number;
  /** The output weights: out = sum(last register · w). */
  w: Tensor;
  /** Each step as a function of its operand registers (for the rounding-error bound of test/helpers/conditioning.ts). */
  stepFns: StepFn[];
}

/** One step as a function of the registers it reads, in operand order (a register read twice is one operand). */
export interface StepFn {
  operands: number[];
  apply(...xs: Tensor[]): Tensor;
}

/**
 * Replacements for library functions inside generated programs, to plant a wrong rule and check that the
 * fuzz test catches it (test/conditioning.test.ts).
 */
export interface Impl {
  sin?: (x: Tensor) => Tensor;
}

const fmt = (s: readonly number[]) => `[${s.join(",")}]`;
const size = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);

function broadcastable(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 1; i <= Math.min(a.length, b.length); i++) {
    const x = a[a.length - i]!, y = b[b.length - i]!;
    if (x !== y && x !== 1 && y !== 1) return false;
  }
  return true;
}

function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  return Array.from({ length: n }, (_, i) => {
    const x = a[a.length - n + i] ?? 1, y = b[b.length - n + i] ?? 1;
    return x === 1 ? y : x;
  });
}

function signs(t: Tensor, sig: Signature | null): void {
  if (sig) for (const v of t.data) sig.push(Math.sign(v));
}

function permutations(n: number): number[][] {
  if (n <= 1) return [Array.from({ length: n }, (_, i) => i)];
  return permutations(n - 1).flatMap((p) => Array.from({ length: n }, (_, k) => [...p.slice(0, k), n - 1, ...p.slice(k)]));
}

/** Resolves raw instructions against the input shapes into a runnable, printable program. */
export function resolve(inputShapes: number[][], instrs: readonly Instr[], seed: number, impl: Impl = {}): Program {
  const shapes: number[][] = inputShapes.map((s) => [...s]);
  const names: string[] = inputShapes.map((_, i) => `x${i}`);
  const steps: Step[] = [];
  const maskRng = new Rng(seed ^ 0x5a5a);
  for (const ins of instrs) {
    const ia = ins.a % shapes.length, ib = ins.b % shapes.length;
    const sa = shapes[ia]!, sb = shapes[ib]!;
    const A = names[ia]!, B = names[ib]!;
    let step: Omit<Step, "deps">;
    const un = (text: string, ops: number, f: (x: Tensor, sig: Signature | null) => Tensor): Omit<Step, "deps"> => ({ text, shape: [...sa], ops, run: (r, sig) => f(r[ia]!, sig) });
    switch (ins.op) {
      case "neg": step = un(`neg(${A})`, 1, (x) => neg(x)); break;
      case "abs": step = un(`abs(${A})`, 1, (x, sig) => (signs(x, sig), abs(x))); break;
      case "exp": step = un(`exp(${A})`, 1, (x) => exp(x)); break;
      case "log": step = un(`log(square(${A}) + 0.5)`, 3, (x) => log(add(square(x), 0.5))); break;
      case "sqrt": step = un(`sqrt(square(${A}) + 0.5)`, 3, (x) => sqrt(add(square(x), 0.5))); break;
      case "square": step = un(`square(${A})`, 1, (x) => square(x)); break;
      case "sin": step = un(`sin(${A})`, 1, (x) => (impl.sin ?? sin)(x)); break;
      case "cos": step = un(`cos(${A})`, 1, (x) => cos(x)); break;
      case "tanh": step = un(`tanh(${A})`, 1, (x) => tanh(x)); break;
      case "sigmoid": step = un(`sigmoid(${A})`, 1, (x) => sigmoid(x)); break;
      case "relu": step = un(`relu(${A})`, 1, (x, sig) => (signs(x, sig), relu(x))); break;
      case "add": case "sub": case "mul": case "div": case "pow": case "maximum": case "minimum": {
        // An operand that does not broadcast with the first is summed to a scalar first.
        const fits = broadcastable(sa, sb);
        const bText = fits ? B : `sum(${B})`;
        const bShape = fits ? sb : [];
        const getB = (r: Tensor[]) => (fits ? r[ib]! : sum(r[ib]!));
        const extra = fits ? 0 : 1;
        const shape = broadcastShape(sa, bShape);
        const op = ins.op;
        if (op === "div") step = { text: `div(${A}, square(${bText}) + 0.5)`, shape, ops: 3 + extra, run: (r) => div(r[ia]!, add(square(getB(r)), 0.5)) };
        else if (op === "pow") step = { text: `pow(sigmoid(${A}) + 0.5, ${bText})`, shape, ops: 3 + extra, run: (r) => pow(add(sigmoid(r[ia]!), 0.5), getB(r)) };
        else {
          const f = { add, sub, mul, maximum, minimum }[op];
          const kink = op === "maximum" || op === "minimum";
          step = {
            text: `${op}(${A}, ${bText})`, shape, ops: 1 + extra,
            run: (r, sig) => {
              const x = r[ia]!, y = getB(r);
              if (kink) signs(sub(x, y), sig);
              return f(x, y);
            },
          };
        }
        break;
      }
      case "sum": case "mean": case "max": {
        const all = ins.p % (sa.length + 1) === sa.length;
        const axis = all ? undefined : ins.p % (sa.length + 1);
        const keep = ins.keep;
        const shape = all ? (keep ? sa.map(() => 1) : []) : keep ? sa.map((d, i) => (i === axis ? 1 : d)) : sa.filter((_, i) => i !== axis);
        const f = { sum, mean, max }[ins.op];
        const args = `${all ? "" : `, ${axis}`}${keep ? `${all ? ", undefined" : ""}, true` : ""}`;
        step = {
          text: `${ins.op}(${A}${args})`, shape, ops: 1,
          run: (r, sig) => {
            const x = r[ia]!;
            // max's kink: which elements attain the maximum.
            if (ins.op === "max" && sig) for (const v of equal(x, max(x, axis, true)).data) sig.push(v);
            return f(x, axis, keep);
          },
        };
        break;
      }
      case "reshape": {
        const n = size(sa);
        const options = [[n], [1, n], [n, 1], [...sa].reverse(), [...sa.slice(0, ins.p % (sa.length + 1)), 1, ...sa.slice(ins.p % (sa.length + 1))]]
          .filter((s) => s.length <= 4);
        const target = options[ins.p % options.length]!;
        step = { text: `reshape(${A}, ${fmt(target)})`, shape: target, ops: 1, run: (r) => reshape(r[ia]!, target) };
        break;
      }
      case "transpose": {
        const perms = permutations(sa.length);
        const perm = perms[ins.p % perms.length]!;
        step = { text: `transpose(${A}, ${fmt(perm)})`, shape: perm.map((k) => sa[k]!), ops: 1, run: (r) => transpose(r[ia]!, perm) };
        break;
      }
      case "broadcastTo": {
        // Prepend a dimension (rank < 4), or grow a size-1 dimension to 2.
        const one = sa.indexOf(1);
        const target = sa.length < 3 ? [(ins.p % 3) + 1, ...sa] : one >= 0 ? sa.map((d, i) => (i === one ? 2 : d)) : [...sa];
        step = { text: `broadcastTo(${A}, ${fmt(target)})`, shape: target, ops: 1, run: (r) => broadcastTo(r[ia]!, target) };
        break;
      }
      case "matmul": {
        step = resolveMatmul(ia, ib, sa, sb, A, B);
        break;
      }
      case "where": {
        // A constant random mask: the selection does not depend on the inputs, so there is no kink.
        const fits = broadcastable(sa, sb);
        const bShape = fits ? sb : [];
        const shape = broadcastShape(sa, bShape);
        const maskData = Uint8Array.from({ length: size(shape) }, () => (maskRng.next() < 0.5 ? 1 : 0));
        const mask = tensor(maskData, { dtype: "bool", shape });
        const bText = fits ? B : `sum(${B})`;
        step = { text: `where(mask${fmt(shape)}, ${A}, ${bText})`, shape, ops: fits ? 1 : 2, run: (r) => where(mask, r[ia]!, fits ? r[ib]! : sum(r[ib]!)) };
        break;
      }
    }
    shapes.push(step.shape);
    names.push(`v${names.length}`);
    steps.push({ ...step, deps: B !== A && new RegExp(`\\b${B}\\b`).test(step.text) ? [ia, ib] : [ia] });
  }
  const outShape = shapes[shapes.length - 1]!;
  const wRng = new Rng(seed ^ 0x77);
  const w = tensor(Float64Array.from({ length: size(outShape) }, () => wRng.normal()), { shape: outShape });
  // Print only the steps the output depends on (shrinking leaves unused ones behind).
  const nIn = inputShapes.length;
  const live = new Set<number>([nIn + steps.length - 1]);
  for (let i = steps.length - 1; i >= 0; i--) if (live.has(nIn + i)) for (const d of steps[i]!.deps) live.add(d);
  const lines = inputShapes.map((s, i) => `  x${i}: f64${fmt(s)}${live.has(i) ? "" : " (unused)"}`);
  steps.forEach((s, i) => {
    if (live.has(nIn + i)) lines.push(`  v${nIn + i} = ${s.text}`.padEnd(58) + ` # ${fmt(s.shape)}`);
  });
  const dead = steps.length - steps.filter((_, i) => live.has(nIn + i)).length;
  const liveOps = steps.reduce((n, s, i) => n + (live.has(nIn + i) ? s.ops : 0), 0) + 2;
  if (dead > 0) lines.push(`  (${dead} step(s) the output does not depend on are not shown)`);
  lines.push(`  out = sum(${names[names.length - 1]} * w)  # w: fixed random f64${fmt(outShape)}`);
  const opCount = steps.reduce((n, s) => n + s.ops, 0) + 2;
  const stepFns: StepFn[] = steps.map((s) => ({
    operands: s.deps,
    apply: (...xs: Tensor[]) => {
      const r: Tensor[] = [];
      s.deps.forEach((d, k) => (r[d] = xs[k]!));
      return s.run(r, null);
    },
  }));
  return {
    instrs,
    w,
    stepFns,
    inputShapes,
    steps,
    seed,
    opCount,
    kinds: instrs.map((i) => i.op),
    text: `program (${liveOps} ops; input values randn with seed ${seed}):\n${lines.join("\n")}`,
    run(xs, sig = null) {
      const r: Tensor[] = [...xs];
      for (const s of steps) r.push(s.run(r, sig));
      return sum(mul(r[r.length - 1]!, w));
    },
    largest(xs) {
      const r: Tensor[] = [...xs];
      for (const s of steps) r.push(s.run(r, null));
      r.push(sum(mul(r[r.length - 1]!, w)));
      let m = 0;
      for (const t of r) for (const v of t.data) m = Math.max(m, Math.abs(v));
      return r.some((t) => t.data.some((v) => Number.isNaN(v))) ? NaN : m;
    },
  };
}

function resolveMatmul(ia: number, ib: number, sa: number[], sb: number[], A: string, B: string): Omit<Step, "deps"> {
  if (sa.length === 0) return { text: `mul(${A}, ${A})`, shape: [], ops: 1, run: (r) => mul(r[ia]!, r[ia]!) };
  const k = sa[sa.length - 1]!;
  const contract = sb.length === 1 ? sb[0] : sb[sb.length - 2];
  const batchOk = sa.length <= 2 || sb.length <= 2 || broadcastable(sa.slice(0, -2), sb.slice(0, -2));
  if (sb.length >= 1 && contract === k && batchOk && sa.length <= 3 && sb.length <= 3) {
    const m = sa.length >= 2 ? [sa[sa.length - 2]!] : [];
    const n = sb.length >= 2 ? [sb[sb.length - 1]!] : [];
    const batch = broadcastShape(sa.length > 2 ? sa.slice(0, -2) : [], sb.length > 2 ? sb.slice(0, -2) : []);
    return { text: `matmul(${A}, ${B})`, shape: [...batch, ...m, ...n], ops: 1, run: (r) => matmul(r[ia]!, r[ib]!) };
  }
  if (sa.length === 1) return { text: `matmul(${A}, ${A})`, shape: [], ops: 1, run: (r) => matmul(r[ia]!, r[ia]!) };
  // A · Aᵀ over the last two axes.
  const perm = sa.map((_, i) => i);
  [perm[perm.length - 1], perm[perm.length - 2]] = [perm[perm.length - 2]!, perm[perm.length - 1]!];
  const m = sa[sa.length - 2]!;
  return {
    text: `matmul(${A}, transpose(${A}, ${fmt(perm)}))`, shape: [...sa.slice(0, -2), m, m], ops: 2,
    run: (r) => matmul(r[ia]!, transpose(r[ia]!, perm)),
  };
}

const shapeArb = fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 3 });
const instrArb: fc.Arbitrary<Instr> = fc.record({
  op: fc.constantFrom(...OPS),
  a: fc.nat(63),
  b: fc.nat(63),
  p: fc.nat(719),
  keep: fc.boolean(),
});

/** Programs with 1–3 inputs of rank ≤ 3 and up to `maxSteps` instructions; prints as its text. */
export function programArb(maxSteps: number, impl: Impl = {}): fc.Arbitrary<Program> {
  return fc
    .record({
      inputs: fc.array(shapeArb, { minLength: 1, maxLength: 3 }),
      instrs: fc.array(instrArb, { minLength: 1, maxLength: maxSteps, size: "max" }),
      seed: fc.nat(1_000_000),
    })
    .map(({ inputs, instrs, seed }) => {
      const prog = resolve(inputs, instrs, seed, impl);
      return Object.assign(prog, { [fc.toStringMethod]: () => prog.text });
    });
}
