import { shortName } from "../core/dtype.js";
import { fmtValue } from "../viz/export-text.js";
import { summarize } from "../viz/capture.js";
import type { Compiled } from "./compile.js";
import type { OpStep, ValueDef } from "./program.js";

const typeOf = (v: ValueDef): string => `${shortName(v.dtype)}[${v.shape.join(",")}]`;

/** `mul`, `sum[axes=[0] keepDims=false]`, `cast[float64]`: as `trace().toText()` prints an op. */
function fmtOp(s: OpStep): string {
  const p = s.params;
  const name = s.prim.name;
  if (p === null || p === undefined) return name;
  if (typeof p === "object" && !Array.isArray(p)) {
    const parts = Object.entries(p as Record<string, unknown>).map(([k, v]) => `${k}=${safeJSON(v)}`);
    return `${name}[${parts.join(" ")}]`;
  }
  return `${name}[${typeof p === "string" ? p : safeJSON(p)}]`;
}

function safeJSON(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/**
 * The compiled program as a jaxpr-like listing, in the notation of `trace().toText()`: the lambda line
 * declares non-scalar constants (before `;`) and the inputs; each `let` line is one primitive; the lines of a
 * fused group sit between `fused[n=…] {` and `} → ( … )`, which names the values the group writes out (the
 * others never reach memory); a comment notes the buffer a value takes over, and the scope a step was
 * recorded in (`jit(g)` for the steps of a jitted g called inside f, inlined there).
 */
export function programText(c: Compiled, inputNames: readonly (string | undefined)[]): string {
  const prog = c.program;
  const names = new Map<number, string>();
  const taken = new Set<string>();
  prog.inputs.forEach((id, k) => {
    const n = inputNames[k] ?? `x${k}`;
    names.set(id, n);
    taken.add(n);
  });
  let constCount = 0;
  const consts: number[] = [];
  prog.values.forEach((v, id) => {
    if (v.kind !== "const") return;
    if (v.shape.length === 0 || v.value.size === 1) names.set(id, fmtValue(summarize(v.value, 1)));
    else {
      const n = v.value.name ?? `c${constCount++}`;
      names.set(id, n);
      taken.add(n);
      consts.push(id);
    }
  });
  let round = 0, letter = 0;
  const fresh = (): string => {
    for (;;) {
      const n = `${["u", "v", "w"][letter]!}${round === 0 ? "" : round}`;
      if (++letter === 3) { letter = 0; round++; }
      if (!taken.has(n)) { taken.add(n); return n; }
    }
  };
  const decl = (id: number): string => `${names.get(id)!}:${typeOf(prog.values[id]!)}`;
  const lines: string[] = [`{ lambda ${consts.length ? consts.map(decl).join(" ") + " ; " : ""}${prog.inputs.map(decl).join(" ")} .`];
  let first = true;
  const lead = (): string => {
    const s = first ? "  let " : "      ";
    first = false;
    return s;
  };
  const opLine = (s: OpStep, indent: string): string => {
    names.set(s.out, fresh());
    const notes: string[] = [];
    const scope = prog.scopes?.get(s);
    if (scope !== undefined) notes.push(scope);
    if (c.slotOf[s.out]! >= 0) notes.push(`buffer ${c.slotOf[s.out]}`);
    const note = notes.length > 0 ? `   # ${notes.join(", ")}` : "";
    return `${indent}${decl(s.out)} = ${fmtOp(s)} ${s.args.map((a) => names.get(a)!).join(" ")}${note}`;
  };
  for (const it of c.items) {
    if (it.kind === "step") {
      const s = prog.steps[it.step]!;
      if (s.kind === "guard") lines.push(`${lead()}check ${names.get(s.arg)!} ${s.test === "noNaN" ? "has no NaN" : "unchanged"}`);
      else lines.push(opLine(s, lead()));
      continue;
    }
    lines.push(`${lead()}fused[n=${it.group.size}] {`);
    for (const k of it.group.members) {
      const s = prog.steps[k]!;
      lines.push(s.kind === "guard" ? `          check ${names.get(s.arg)!} has no NaN` : opLine(s, "          "));
    }
    lines.push(`        } → ( ${[...it.group.outputs, ...it.group.sums].map((v) => names.get(v)!).join(" ")} )`);
  }
  lines.push(`  in ( ${prog.outputs.map((v) => names.get(v)!).join(" ")} ) }`);
  return lines.join("\n");
}
