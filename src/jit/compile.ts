import { Tensor } from "../core/tensor.js";
import { allocate, type DType, type TypedArray } from "../core/dtype.js";
import type { Program, ValueDef } from "./program.js";
import { schedule, type Group, type Item } from "./schedule.js";
import { kernels } from "../kernels/registry.js";
import { opsOfColumns, type FusedColumns, type FusedOp, type FusedRead, type FusedSpec } from "../kernels/fused-loop.js";
import { sizeOf } from "../core/shape.js";
import { isSumPrim } from "./fusible.js";

/** Thrown by a guard whose value differs from what tracing saw: the caller runs f eagerly instead. */
export class GuardFailed extends Error {}

/** A program ready to run: a flat list of closures over pre-resolved kernels and value slots. */
export interface Compiled {
  readonly program: Program;
  readonly items: readonly Item[];
  /** Which buffer slot each value produced by a group is kept in, or -1 when it gets fresh storage. */
  readonly slotOf: readonly number[];
  /** Number of reused buffers. */
  readonly slots: number;
  /** Runs the program on f's input leaves; returns its output leaves. @throws GuardFailed */
  run(inputs: readonly Tensor[]): Tensor[];
}

/**
 * Buffer reuse by liveness: a value written by a fused group that only other fused groups read, and that
 * the program does not return, lives in a slot; a slot is free again after the last item that reads its
 * value, and the next such value of the same dtype and size takes it. Slots keep their storage between
 * calls, so a program called again allocates nothing for them. Values read by other steps may be kept or
 * aliased by those (reshape returns a view), and outputs escape, so those always get fresh storage.
 */
function assignSlots(prog: Program, items: readonly Item[]): { slotOf: number[]; slotKeys: { dtype: DType; size: number }[] } {
  const producer = new Map<number, number>(); // value → item index of the group writing it
  const lastUse = new Array<number>(prog.values.length).fill(-1);
  const readByStep = new Uint8Array(prog.values.length);
  items.forEach((it, i) => {
    if (it.kind === "group") {
      for (const v of it.group.outputs) producer.set(v, i);
      for (const v of it.group.inputs) lastUse[v] = i;
    } else {
      const s = prog.steps[it.step]!;
      for (const v of s.kind === "op" ? s.args : [s.arg]) {
        lastUse[v] = i;
        readByStep[v] = 1;
      }
    }
  });
  const escapes = new Uint8Array(prog.values.length);
  for (const v of prog.outputs) escapes[v] = 1;
  const slotOf = new Array<number>(prog.values.length).fill(-1);
  const slotKeys: { dtype: DType; size: number }[] = [];
  const free = new Map<string, number[]>();
  const releaseAt = new Map<number, number[]>(); // item index → slots freed after it
  items.forEach((it, i) => {
    if (it.kind === "group") {
      for (const v of it.group.outputs) {
        if (escapes[v] === 1 || readByStep[v] === 1 || lastUse[v]! < 0) continue;
        const dtype = prog.values[v]!.dtype;
        const key = `${dtype}:${it.group.size}`;
        const pool = free.get(key);
        let slot = pool !== undefined && pool.length > 0 ? pool.pop()! : -1;
        if (slot < 0) {
          slot = slotKeys.length;
          slotKeys.push({ dtype, size: it.group.size });
        }
        slotOf[v] = slot;
        const at = lastUse[v]!;
        let list = releaseAt.get(at);
        if (list === undefined) releaseAt.set(at, (list = []));
        list.push(slot);
      }
    }
    for (const slot of releaseAt.get(i) ?? []) {
      const key = `${slotKeys[slot]!.dtype}:${slotKeys[slot]!.size}`;
      let pool = free.get(key);
      if (pool === undefined) free.set(key, (pool = []));
      pool.push(slot);
    }
  });
  return { slotOf, slotKeys };
}

/** How many times compiled programs have run (tests use it to tell the staged path from eager fallbacks). */
export const compiledRuns = { count: 0 };

/** Compiles a recorded program: schedules fused groups, generates their loops, assigns slots. */
export function compile(prog: Program): Compiled {
  const items = schedule(prog);
  const { slotOf, slotKeys } = assignSlots(prog, items);
  const nValues = prog.values.length;
  let slotData: TypedArray[] | null = null;
  let busy = false;

  // Per run: `vals` holds tensors for values that steps read or the program returns, `data` the storage of every value.
  type Frame = { vals: Tensor[]; data: TypedArray[]; slots: TypedArray[] };
  const runs: ((f: Frame) => void)[] = items.map((it) => {
    if (it.kind === "group") return groupRunner(prog, it.group, slotOf);
    const s = prog.steps[it.step]!;
    if (s.kind === "guard" && s.test === "noNaN") {
      const arg = s.arg;
      return (f) => {
        const d = f.data[arg]!;
        for (let i = 0; i < d.length; i++) if (d[i] !== d[i]) throw new GuardFailed();
      };
    }
    if (s.kind === "guard") {
      const arg = s.arg, expected = s.expected!;
      return (f) => {
        const d = f.data[arg]!;
        for (let i = 0; i < expected.length; i++) {
          // Object.is: NaN equals NaN here, and −0 differs from 0 as the traced branch may have.
          if (!Object.is(d[i], expected[i])) throw new GuardFailed();
        }
      };
    }
    const { prim, params, args, out } = s;
    const x = new Array<Tensor>(args.length);
    return (f) => {
      for (let i = 0; i < args.length; i++) x[i] = f.vals[args[i]!]!;
      const t = prim.impl(x, params);
      f.vals[out] = t;
      f.data[out] = t._data!;
    };
  });

  const constants: [number, Tensor][] = [];
  for (let id = 0; id < nValues; id++) {
    const v = prog.values[id]!;
    if (v.kind === "const") constants.push([id, v.value]);
  }
  return {
    program: prog,
    items,
    slotOf,
    slots: slotKeys.length,
    run(inputs) {
      // A re-entrant call (f's program running inside itself) gets slots of its own.
      const slots = busy ? slotKeys.map((k) => allocate(k.dtype, k.size)) : (slotData ??= slotKeys.map((k) => allocate(k.dtype, k.size)));
      const frame: Frame = { vals: new Array<Tensor>(nValues), data: new Array<TypedArray>(nValues), slots };
      prog.inputs.forEach((id, k) => {
        const t = inputs[k]!._concreteValue();
        frame.vals[id] = t;
        frame.data[id] = t._data!;
      });
      for (const [id, t] of constants) {
        const c = t._concreteValue();
        frame.vals[id] = c;
        frame.data[id] = c._data!;
      }
      const wasBusy = busy;
      busy = true;
      compiledRuns.count++;
      try {
        for (let i = 0; i < runs.length; i++) runs[i]!(frame);
      } finally {
        busy = wasBusy;
      }
      return prog.outputs.map((id) => frame.vals[id]!);
    },
  };
}

type FrameLike = { vals: Tensor[]; data: TypedArray[]; slots: TypedArray[] };

/** Where a group's output goes: its slot, or fresh storage wrapped in a tensor. */
function storeTarget(f: FrameLike, o: { v: number; slot: number; def: ValueDef }, n: number): TypedArray {
  if (o.slot >= 0) return (f.data[o.v] = f.slots[o.slot]!);
  const d = allocate(o.def.dtype, n);
  f.data[o.v] = d;
  f.vals[o.v] = Tensor._concrete(d, o.def.shape, o.def.dtype);
  return d;
}

/**
 * The group as a backend-neutral fused loop: inputs are registers 0…k−1 in `g.inputs` order, op j (the members
 * in order, full sums left out: those are `sums`) writes register k + j, operands read in full, once (one
 * element) or as a repeated row (trailing dimensions).
 */
export function specOf(prog: Program, g: Group): FusedSpec {
  // Register of each value the group touches, by value number: a typed array, as a scalar chain makes one
  // group of ~10⁵ members (a Map would allocate per entry). Entries are written before they are read.
  if (regScratch.length < prog.values.length) regScratch = new Int32Array(Math.max(prog.values.length, 2 * regScratch.length));
  const reg = regScratch;
  const inputs = g.inputs.map((v, k) => {
    reg[v] = k;
    const def = prog.values[v]!;
    const m = sizeOf(def.shape);
    return { dtype: def.dtype, read: (m === g.size ? "full" : m === 1 ? "scalar" : "suffix") as FusedRead, period: m };
  });
  // The ops as columns, in one pass with nothing built per op (a scalar chain's one group has ~10⁵ members);
  // `ops` builds the objects only if a kernel asks (the js one-element runner reads the columns).
  const k0 = inputs.length, m = g.members.length;
  const names = new Array<string>(m), dtypes = new Array<DType>(m), params = new Array<unknown>(m);
  const arity = new Uint8Array(m), abc = new Int32Array(3 * m);
  const sums: number[] = [];
  let j = 0;
  for (let q = 0; q < m; q++) {
    const s = prog.steps[g.members[q]!]!;
    if (s.kind === "guard") {
      names[j] = "checkNaN";
      dtypes[j] = prog.values[s.arg]!.dtype;
      params[j] = null;
      arity[j] = 1;
      abc[3 * j] = reg[s.arg]!;
      j++;
      continue;
    }
    if (g.sums.length > 0 && isSumPrim(s.prim)) {
      sums.push(reg[s.args[0]!]!); // a full sum (schedule.ts): accumulated, no register of its own
      continue;
    }
    const args = s.args, n = args.length;
    names[j] = s.prim.name;
    dtypes[j] = s.dtype;
    params[j] = s.params;
    arity[j] = n;
    for (let i = 0; i < n; i++) abc[3 * j + i] = reg[args[i]!]!;
    reg[s.out] = k0 + j;
    j++;
  }
  names.length = dtypes.length = params.length = j;
  const columns: FusedColumns = { names, dtypes, params, arity: arity.subarray(0, j), abc: abc.subarray(0, 3 * j) };
  let ops: FusedOp[] | undefined;
  return {
    size: g.size,
    inputs,
    get ops(): FusedOp[] {
      return (ops ??= opsOfColumns(columns));
    },
    outputs: g.outputs.map((v) => reg[v]!),
    columns,
    ...(sums.length > 0 ? { sums } : {}),
  };
}

let regScratch = new Int32Array(1024);

function groupRunner(prog: Program, g: Group, slotOf: readonly number[]): (f: FrameLike) => void {
  const run = kernels().fusedLoop(specOf(prog, g));
  const ins = new Array<TypedArray>(g.inputs.length);
  const outs = new Array<TypedArray>(g.outputs.length + g.sums.length);
  // The elementwise outputs (n elements each), then the sums (one each, fresh storage: steps read them).
  const outDefs = [...g.outputs, ...g.sums].map((v) => ({ v, slot: slotOf[v]!, def: prog.values[v]!, n: sizeOf(prog.values[v]!.shape) }));
  return (f) => {
    for (let k = 0; k < g.inputs.length; k++) ins[k] = f.data[g.inputs[k]!]!;
    for (let k = 0; k < outDefs.length; k++) outs[k] = storeTarget(f, outDefs[k]!, outDefs[k]!.n);
    if (run(ins, outs) !== 0) throw new GuardFailed();
  };
}
