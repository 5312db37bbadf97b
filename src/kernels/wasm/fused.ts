import type { TypedArray } from "../../core/dtype.js";
import type { FusedRunner, FusedSpec } from "../fused-loop.js";
import { jsFusedLoop } from "../fused-loop.js";
import { getWasm, reserve } from "./instance.js";
import { minimumSize } from "../minimums.js";

// jit's fused loops on the wasm backend: the spec becomes op codes for asm/fused.ts's fusedF32, which runs them
// over registers of TILE elements in wasm memory. The glue copies each tile of the inputs in and of the outputs
// out, so the program's values that stay inside the loop never reach the JS heap. Specs it cannot run (other
// dtypes, ops without a wasm code, short loops) take the js fused loop.

/** Op codes of asm/fused.ts. */
const UNARY: Readonly<Record<string, number>> = {
  neg: 1, abs: 2, sqrt: 3, square: 4, relu: 5, reciprocal: 6, rsqrt: 7,
  exp: 8, expm1: 9, log: 10, log1p: 11, tanh: 12, sigmoid: 13,
  reshape: 0, broadcastTo: 0, stopGradient: 0,
};
const BINARY: Readonly<Record<string, number>> = {
  add: 20, sub: 21, mul: 22, div: 23, maximum: 24, minimum: 25,
  equal: 26, notEqual: 27, greater: 28, greaterEqual: 29, less: 30, lessEqual: 31, reluGrad: 32, squareGrad: 33,
};
const TERNARY: Readonly<Record<string, number>> = { where: 40, tanhGrad: 41, sigmoidGrad: 42 };
const COPY = 0, TO_BOOL = 14, CHECK_NAN = 50;

/** Elements per register: 512 float32 (2 KB), so a program's live registers stay in L1/L2. */
const TILE = 512;
/** Shortest loop worth the copies (the eager wasm kernels' threshold for cheap ops). */
const MIN_SIZE = 64;

/** The op code of one step, or null when asm/fused.ts has none for it. */
function codeOf(op: string, params: unknown): number | null {
  if (op === "checkNaN") return CHECK_NAN;
  if (op === "cast") return params === "bool" ? TO_BOOL : params === "float32" ? COPY : null;
  return UNARY[op] ?? BINARY[op] ?? TERNARY[op] ?? null;
}

/**
 * The wasm backend's fused loop: float32 and bool values only (bool as 0/1 floats), every op with a code in
 * asm/fused.ts; anything else runs the js fused loop. Registers are reused once their value is dead (outputs
 * and one-element inputs, filled once per call, stay), so few registers cover a long chain.
 */
export function wasmFusedLoop(spec: FusedSpec): FusedRunner {
  const js = jsFusedLoop(spec);
  const ok32 = (d: string): boolean => d === "float32" || d === "bool";
  if (spec.size < minimumSize(MIN_SIZE) || !spec.inputs.every((i) => ok32(i.dtype)) || !spec.ops.every((o) => ok32(o.dtype) && codeOf(o.op, o.params) !== null)) return js;
  const k = spec.inputs.length;
  const nVirtual = k + spec.ops.length;
  // Liveness: the last op reading each virtual register; outputs and scalar inputs live to the end.
  const last = new Int32Array(nVirtual).fill(-1);
  spec.ops.forEach((o, j) => o.args.forEach((r) => (last[r] = j)));
  for (const r of spec.outputs) last[r] = spec.ops.length;
  spec.inputs.forEach((inp, i) => { if (inp.read === "scalar") last[i] = spec.ops.length; });
  const phys = new Int32Array(nVirtual).fill(-1);
  const free: number[] = [];
  let nPhys = 0;
  const take = (): number => (free.length > 0 ? free.pop()! : nPhys++);
  for (let i = 0; i < k; i++) phys[i] = take();
  const code = new Int32Array(5 * spec.ops.length);
  spec.ops.forEach((o, j) => {
    const args = o.args.map((r) => phys[r]!);
    // Operands dying here are freed before the result is placed: a result may overwrite an operand, since
    // every loop reads a vector before it writes that vector.
    for (const r of new Set(o.args)) if (last[r] === j) free.push(phys[r]!);
    const d = o.op === "checkNaN" ? 0 : (phys[k + j] = take());
    if (o.op !== "checkNaN" && last[k + j] < 0) free.push(d); // never read (dead): its register is free again
    code.set([codeOf(o.op, o.params)!, d, args[0] ?? 0, args[1] ?? 0, args[2] ?? 0], 5 * j);
  });
  const outRegs = spec.outputs.map((r) => phys[r]!);
  const inRegs = spec.inputs.map((_, i) => phys[i]!);
  const n = spec.size;
  const codeBytes = (code.length * 4 + 15) & ~15;

  return (inputs: readonly TypedArray[], outputs: readonly TypedArray[]): number => {
    const w = getWasm();
    const at = w === null ? -1 : reserve(w, codeBytes + nPhys * TILE * 4);
    if (w === null || at < 0) return js(inputs, outputs);
    const i32 = w.i32, f32 = w.f32;
    i32.set(code, at >> 2);
    const regs = at + codeBytes;
    const reg = (r: number): number => (regs >> 2) + r * TILE;
    spec.inputs.forEach((inp, i) => { if (inp.read === "scalar") f32.fill(inputs[i]![0]!, reg(inRegs[i]!), reg(inRegs[i]!) + TILE); });
    let bad = 0;
    for (let s = 0; s < n; s += TILE) {
      const len = Math.min(TILE, n - s);
      for (let i = 0; i < k; i++) {
        const inp = spec.inputs[i]!, x = inputs[i]!, r = reg(inRegs[i]!);
        if (inp.read === "full") f32.set(x.subarray(s, s + len), r);
        else if (inp.read === "suffix") {
          const p = inp.period;
          for (let j = 0; j < len; j++) f32[r + j] = x[(s + j) % p]!;
        }
      }
      bad |= w.exports.fusedF32(at, spec.ops.length, regs, TILE, len);
      for (let o = 0; o < outRegs.length; o++) {
        const r = reg(outRegs[o]!);
        outputs[o]!.set(f32.subarray(r, r + len), s);
      }
    }
    return bad;
  };
}
