// Markdown tables from the results: libraries and threads, times and ratios, matmul throughput, memory, checks, targets.
import { CHAINRULE_BACKENDS, GPU_LIBRARIES, chainruleBackendOf, chainruleLib } from "./adapter.js";
import { isSoftwareAdapter } from "./gpu.js";
import type { Row } from "./run.js";
import type { Workload } from "./workloads.js";

export function fmtMs(v: number): string {
  if (v >= 100) return v.toFixed(0);
  if (v >= 10) return v.toFixed(1);
  if (v >= 1) return v.toFixed(2);
  return v.toPrecision(3);
}

function fmtRatio(r: number): string {
  return (r >= 100 ? r.toFixed(0) : r >= 1 ? r.toFixed(1) : r.toFixed(2)) + "×";
}

function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map(line)].join("\n");
}

interface Meta {
  machine: string;
  quick: boolean;
  elapsedS: number;
  /** The GPU probe: the adapter the GPU rows ran on, why they did not run, or null when none was asked for. */
  gpu?: { adapter: string } | { none: string } | null;
}

type Clock = "medianMs" | "cpuMedianMs";

/**
 * The chainrule library the others are compared with: chainrule's automatic choice, the first backend in
 * its order of preference (blas, wasm, js) that ran in this run, or null when none did.
 */
export function baseLibrary(rows: readonly Row[]): string | null {
  return CHAINRULE_BACKENDS.map(chainruleLib).find((l) => rows.some((r) => r.library === l && r.status === "ok")) ?? null;
}

/** Ratio peer time / base time on one workload (above 1: chainrule is faster), by wall clock or CPU time, or null. */
export function ratio(rows: readonly Row[], workload: string, peer: string, clock: Clock = "medianMs", base = baseLibrary(rows)): number | null {
  const c = rows.find((r) => r.workload === workload && r.library === base);
  const p = rows.find((r) => r.workload === workload && r.library === peer);
  if (c?.status !== "ok" || p?.status !== "ok" || !c[clock] || !p[clock]) return null;
  return p[clock]! / c[clock]!;
}

interface Target {
  text: string;
  verdict(rows: readonly Row[]): [boolean | null, string];
}

/** Ratios against a target, with two decimals so that a miss never prints as the target itself (9.98×, not 10.0×). */
const fmtTarget = (r: number): string => r.toFixed(2) + "×";

const needRatio = (w: string, peer: string, min: number): Target["verdict"] => (rows) => {
  const r = ratio(rows, w, peer);
  const cpu = ratio(rows, w, peer, "cpuMedianMs");
  return r === null ? [null, "not measured"] : [r >= min, fmtTarget(r) + (cpu === null ? "" : ` (CPU time: ${fmtTarget(cpu)})`)];
};

const get = (rows: readonly Row[], w: string, lib: string) => rows.find((r) => r.workload === w && r.library === lib);

const TARGETS: Target[] = [
  { text: "seed ≥ 10× faster than tfjs-cpu", verdict: needRatio("seed", "tfjs-cpu", 10) },
  {
    text: "chain-10k ≥ 20× tfjs-cpu, and finishes where jax-wasm fails",
    verdict(rows) {
      const [ok, s] = needRatio("chain-10k", "tfjs-cpu", 20)(rows);
      const jax = get(rows, "chain-10k", "jax-wasm");
      const jaxNote = jax ? (jax.status === "ok" ? "; jax-wasm finished too" : `; jax-wasm ${jax.status}`) : "";
      return [ok, s + jaxNote];
    },
  },
  {
    text: "chain-1m completes, within 12× of chain-100k, peak memory < 1 GB (RSS of one call)",
    verdict(rows) {
      const base = baseLibrary(rows) ?? "";
      const m = get(rows, "chain-1m", base), k = get(rows, "chain-100k", base);
      if (m?.status !== "ok" || k?.status !== "ok") return [m?.status === "ok" ? null : m ? false : null, m ? m.error ?? "not measured" : "not measured"];
      const f = m.medianMs! / k.medianMs!;
      const one = (m.firstCallRssBytes ?? m.peakRssBytes) / 2 ** 20;
      const all = m.peakRssBytes / 2 ** 20;
      return [f <= 12 && one < 1024, `${f.toFixed(2)}× chain-100k; peak RSS ${one.toFixed(0)} MB after one call` + (m.repeats === 1 ? "" : `, ${all.toFixed(0)} MB after all ${m.repeats} timed calls`)];
    },
  },
  { text: "matmul-1024 ≥ 5× tfjs-cpu", verdict: needRatio("matmul-1024", "tfjs-cpu", 5) },
  { text: "mlp-step ≥ 10× tfjs-cpu", verdict: needRatio("mlp-step", "tfjs-cpu", 10) },
  { text: "elementwise-1m ≥ 4× tfjs-cpu", verdict: needRatio("elementwise-1m", "tfjs-cpu", 4) },
];

export function renderReport(rows: readonly Row[], workloads: readonly Workload[], libs: readonly string[], meta: Meta): string {
  const notes: string[] = [];
  const note = (s: string): string => {
    let i = notes.indexOf(s);
    if (i < 0) { notes.push(s); i = notes.length - 1; }
    return `[${i + 1}]`;
  };
  const cell = (r: Row | undefined, show: (r: Row) => string): string => {
    if (!r) return "";
    if (r.unsupported) return `not supported: ${r.unsupported}`;
    if (r.status === "skipped") return `— ${note(`${r.library}, ${r.workload}: ${r.error}`)}`;
    if (r.status === "failed") return `**failed** ${note(`${r.library}, ${r.workload}: ${r.error}`)}`;
    let s = show(r);
    if ((r.repeats ?? 10) < 10) s += ` (n=${r.repeats})`;
    if (r.agrees === false) s += " **✗ MISMATCH**";
    return s;
  };
  const base = baseLibrary(rows);
  const peers = libs.filter((l) => l !== base);
  const threadsOf = (l: string): number[] => [...new Set(rows.filter((r) => r.library === l && r.status === "ok" && r.threads).map((r) => r.threads!))];
  const out: string[] = [];
  out.push(`Median ms per call (warm-up, then the median of timed repeats: ${meta.quick ? "up to 30 within ~1 s, at least 3, or 1 when a call takes over 0.5 s (--quick)" : "up to 30 within ~5 s, at least 10"}; n shown when below 10); ` +
    (base ? `"÷" is that library's time / ${base}'s (chainrule's automatic choice of backend; above 1: chainrule is faster). ` : "no chainrule backend ran, so there are no ratios. ") +
    `${meta.machine}. Total ${meta.elapsedS.toFixed(0)} s.`);
  const gpuLibs = libs.filter((l) => GPU_LIBRARIES.includes(l));
  if (meta.gpu && "none" in meta.gpu) out.push("", `GPU rows skipped: ${meta.gpu.none}`);
  else if (meta.gpu && gpuLibs.length > 0) {
    const soft = isSoftwareAdapter(meta.gpu.adapter);
    out.push("", `GPU rows (${gpuLibs.join(", ")}) ran on the WebGPU adapter ${meta.gpu.adapter}` +
      (soft ? ": **a CPU emulation of a GPU (SwiftShader), so their times measure that emulator on this machine's cores, not a GPU**." : ".") +
      " Each GPU call includes reading its results back (awaited, as a user must). Compare GPU rows by wall time: the CPU-time tables count only this process's threads, " +
      (soft ? "which here include the emulator's." : "and a GPU's work is not among them."));
  }
  out.push("", "Libraries, and how many threads each may use (chainrule: for large matrix products; PyTorch: intra-op threads, OpenMP and its BLAS):", "");
  out.push(table(["library", "threads", "what ran"], libs.map((l) => {
    const rs = rows.filter((r) => r.library === l);
    const ran = rs.find((r) => r.status === "ok" && r.describe) ?? rs.find((r) => r.describe);
    const skipped = rs.length > 0 && rs.every((r) => r.status !== "ok") ? rs.find((r) => r.error)?.error : undefined;
    const t = threadsOf(l);
    const on = ran?.adapter ? `; adapter ${ran.adapter}` : "";
    return [l, t.length ? t.join(", ") : "—", skipped ? `not run: ${skipped}` : (ran?.describe ?? "") + on];
  })));
  out.push("");
  const label = (l: string): string => {
    const t = threadsOf(l);
    return t.length === 1 && t[0]! > 1 ? `${l} (${t[0]} threads)` : l;
  };
  const head = ["workload", ...libs.flatMap((l) => (l === base ? [label(l)] : [label(l), "÷"]))];
  out.push(table(head, workloads.map((w) => [w.id, ...libs.flatMap((l) => {
    const r = get(rows, w.id, l);
    const c = cell(r, (x) => fmtMs(x.medianMs!));
    if (l === base) return [c];
    const q = ratio(rows, w.id, l);
    return [c, q === null ? "" : fmtRatio(q)];
  })])));
  out.push("", "CPU ms per call (median; user + system time of the whole process, all its threads): above the wall time where a library runs on several threads.", "");
  out.push(table(["workload", ...libs.map(label)], workloads.map((w) => [w.id, ...libs.map((l) => {
    const r = get(rows, w.id, l);
    return r?.status === "ok" && r.cpuMedianMs !== undefined ? fmtMs(r.cpuMedianMs) : r?.unsupported ? `not supported: ${r.unsupported}` : r ? "—" : "";
  })])));
  if (base) {
    out.push("", `The ratios by CPU time (library ÷ ${base}): less disturbed by other processes on a shared machine, and they count every thread's work.`, "");
    out.push(table(["workload", ...peers.map((p) => `${p} ÷ ${base}`)], workloads.filter((w) => !w.chainruleOnly).map((w) => [w.id, ...peers.map((p) => {
      const q = ratio(rows, w.id, p, "cpuMedianMs");
      return q === null ? "" : fmtRatio(q);
    })])));
  }
  const mm = workloads.filter((w) => w.flops);
  if (mm.length > 0) {
    out.push("", "Matmul throughput, GFLOP/s (2n³ / median time):", "");
    out.push(table(["workload", ...libs], mm.map((w) => [w.id, ...libs.map((l) => cell(get(rows, w.id, l), (x) => (w.flops! / x.medianMs! / 1e6).toFixed(2)))])));
  }
  out.push("", "Peak RSS of each process, MB (library + data + workload), after all timed calls and, in brackets, after the " +
    "warm-up and the first one (later calls leave garbage that the collector reclaims only once the heap has grown):", "");
  const mb = (b: number | undefined): string => (b ? (b / 2 ** 20).toFixed(0) : "—");
  out.push(table(["workload", ...libs], workloads.map((w) => [w.id, ...libs.map((l) => {
    const r = get(rows, w.id, l);
    if (!r) return "";
    return r.status === "ok" && r.peakRssBytes > 0 ? `${mb(r.peakRssBytes)} (${mb(r.firstCallRssBytes)})` : "—";
  })])));
  const graph = rows.filter((r) => r.library === base && r.graphBytes !== undefined);
  if (graph.length > 0) {
    out.push("", `${base} graph memory (heap held by the recorded graph after the forward pass, after GC): ` +
      graph.map((r) => `${r.workload} ${(r.graphBytes! / r.graphNodes!).toFixed(0)} bytes/node (${(r.graphBytes! / 2 ** 20).toFixed(0)} MB for ${r.graphNodes!.toLocaleString("en")} nodes)`).join("; ") + ".");
  }
  const checked = rows.filter((r) => r.agrees !== undefined);
  const bad = checked.filter((r) => !r.agrees);
  out.push("");
  out.push(bad.length === 0
    ? `Answers: all ${checked.length} results agree with the float64 references (seed 49, 28, 42, 14; MLP and CNN loss before/after one step; see bench/workloads.ts for tolerances).`
    : `**MISMATCH** in ${bad.length} of ${checked.length} results:\n` + bad.map((r) => `- ${r.library} ${r.workload}: got [${r.check!.join(", ")}], reference [${r.reference!.join(", ")}]`).join("\n"));
  const withNotes = rows.filter((r) => r.note && r.status === "ok");
  for (const w of ["mlp-step", "cnn-step"]) {
    // One line per distinct note: chainrule's backends share theirs.
    const byNote = new Map<string, string[]>();
    for (const r of withNotes) if (r.workload === w) byNote.set(r.note!, [...(byNote.get(r.note!) ?? []), r.library]);
    for (const [n, ls] of byNote) out.push(`- ${ls.join(", ")} ${w}: ${n}`);
  }
  const te = get(rows, "train-epoch", base ?? "");
  if (te?.status === "ok" && te.check) {
    out.push(`- ${base} train-epoch: train loss ${te.check[0]!.toFixed(4)}, test accuracy ${(100 * te.check[1]!).toFixed(2)}% after one epoch (as \`chainrule train mnist --epochs 1\`).`);
  }
  if (base && peers.includes("tfjs-cpu")) {
    out.push("", `Targets (ratios of ${base} from this run):`, "");
    out.push(table(["target", "result", "measured"], TARGETS.map((t) => {
      const [ok, s] = t.verdict(rows);
      return [t.text, ok === null ? "n/a" : ok ? "met" : "**missed**", s];
    })));
  }
  const jitLines = jitTargets(rows, libs);
  if (jitLines.length > 0) out.push("", "jit targets (issue 15; each chainrule backend against its own eager rows, and against jax-jit, from this run):", "", ...jitLines);
  if (notes.length > 0) out.push("", ...notes.map((n, i) => `[${i + 1}] ${n}`));
  return out.join("\n");
}

/** The jit rows against their eager counterparts on the same backend, and mlp-step-jit against jax-js's jit. */
function jitTargets(rows: readonly Row[], libs: readonly string[]): string[] {
  const ms = (w: string, l: string): number | null => {
    const r = get(rows, w, l);
    return r?.status === "ok" ? r.medianMs! : null;
  };
  const body: string[][] = [];
  for (const l of libs.filter((x) => chainruleBackendOf(x) !== null)) {
    const check = (text: string, a: number | null, b: number | null, need: number, what: (q: number) => string, atMost = false): void => {
      if (a === null || b === null) return;
      const q = a / b;
      body.push([l, text, (atMost ? q <= need : q >= need) ? "met" : "**missed**", what(q)]);
    };
    check("elementwise-1m under jit ≥ 2× faster than eager", ms("elementwise-1m", l), ms("elementwise-1m-jit", l), 2, (q) => `${fmtRatio(q)} (${fmtMs(ms("elementwise-1m", l)!)} → ${fmtMs(ms("elementwise-1m-jit", l)!)})`);
    check("mlp-step under jit no slower than eager", ms("mlp-step", l), ms("mlp-step-jit", l), 1, (q) => `${fmtRatio(q)} (${fmtMs(ms("mlp-step", l)!)} → ${fmtMs(ms("mlp-step-jit", l)!)})`);
    check("chain-10k first jit call ≤ 3× one eager call", ms("chain-10k-jit-first", l), ms("chain-10k", l), 3, (q) => `${q.toFixed(2)}× (${fmtMs(ms("chain-10k-jit-first", l)!)} vs ${fmtMs(ms("chain-10k", l)!)})`, true);
    check("chain-10k later jit calls ≥ 3× faster than eager", ms("chain-10k", l), ms("chain-10k-jit", l), 3, (q) => `${fmtRatio(q)} (${fmtMs(ms("chain-10k", l)!)} → ${fmtMs(ms("chain-10k-jit", l)!)})`);
    check("mlp-step-jit faster than jax-jit", ms("mlp-step-jit", "jax-jit"), ms("mlp-step-jit", l), 1, (q) => `${fmtRatio(q)} (jax-jit ${fmtMs(ms("mlp-step-jit", "jax-jit")!)})`);
  }
  return body.length > 0 ? [table(["library", "target", "result", "measured"], body)] : [];
}
