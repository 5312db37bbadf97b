// Checkpoints shared with PyTorch, both ways. Fixtures in test/fixtures/pytorch-checkpoints/ were written by
// PyTorch (tools/pytorch-checkpoints.py write): state dicts of small models, PyTorch's outputs for stored
// inputs, and a tensor of every dtype. The reverse direction writes chainrule's files and, when a Python
// with torch is installed, runs the same script's `check`, which loads them with load_state_dict(strict=True).
import { afterAll, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { io, nn, tensor, transpose } from "../src/index.js";
import type { Tensor } from "../src/index.js";
import { expectAllClose } from "./helpers/close.js";

const fixtures = new URL("./fixtures/pytorch-checkpoints/", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "chainrule-torch-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const opts = { dtype: "float64" } as const;
/** The PyTorch models of tools/pytorch-checkpoints.py, built with chainrule (float64, so outputs compare at 1e-6 and beyond). */
const models: Record<string, () => nn.Module> = {
  mlp: () => new nn.Sequential(new nn.Linear(4, 16, opts), new nn.ReLU(), new nn.Linear(16, 16, opts), new nn.Tanh(), new nn.Linear(16, 3, opts)),
  cnn: () => new nn.Sequential(new nn.Conv2d(2, 3, 3, { ...opts, padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2), new nn.Flatten(), new nn.Linear(48, 5, { ...opts, bias: false })),
};

describe("checkpoints written by PyTorch", () => {
  it.each([["mlp", ""], ["cnn", ""], ["mlp", "-f16"], ["mlp", "-bf16"]])("%s%s: io.loadModule gives PyTorch's outputs to 1e-6", (name, variant) => {
    const model = models[name]!();
    io.loadModule(join(fixtures, `torch-${name}${variant}.safetensors`), model);
    const { x, y } = io.loadSafetensors(join(fixtures, `torch-${name}${variant}-io.safetensors`)).tensors;
    const out = model.forward(x!);
    expect(out.shape).toEqual(y!.shape);
    expectAllClose(out, y!, 1e-6, 1e-9);
  });

  it("the 16×16 layer that loaded silently wrong under the old [in, out] layout now gives PyTorch's values", () => {
    const { tensors } = io.loadSafetensors(join(fixtures, "torch-mlp.safetensors"));
    const w = tensors["2.weight"]!; // PyTorch's [out, in]
    const layer = new nn.Linear(16, 16, opts);
    layer.loadStateDict({ weight: w, bias: tensors["2.bias"]! });
    const x = tensor(Array.from({ length: 16 }, (_, i) => (i % 5) - 2), { dtype: "float64" });
    // y_o = Σ_i W[o, i] x_i + b_o by hand.
    const want = Array.from({ length: 16 }, (_, o) => {
      let s = tensors["2.bias"]!.data[o]!;
      for (let i = 0; i < 16; i++) s += w.data[o * 16 + i]! * x.data[i]!;
      return s;
    });
    expectAllClose(layer.forward(x), want, 1e-6);
  });

  it("reads a tensor of every dtype PyTorch writes, widened to chainrule's dtypes with the same values", () => {
    const expected = JSON.parse(readFileSync(join(fixtures, "torch-dtypes.json"), "utf8")) as Record<string, { dtype: string; values: (number | string)[] }>;
    const { tensors } = io.loadSafetensors(join(fixtures, "torch-dtypes.safetensors"));
    const dtypeOf: Record<string, string> = { F16: "float32", BF16: "float32", F32: "float32", F64: "float64", I8: "int32", U8: "int32", I16: "int32", I32: "int32", I64: "int32", BOOL: "bool" };
    expect(Object.keys(tensors).sort()).toEqual(Object.keys(expected).sort());
    for (const [name, e] of Object.entries(expected)) {
      const t = tensors[name]!;
      expect(t.dtype, name).toBe(name === "i64_wide" ? "float64" : dtypeOf[e.dtype]); // I64 past ±2³¹ reads as float64
      expect(Array.from(t.data, Number), name).toEqual(e.values.map(Number));
    }
    expect(tensors["scalar"]!.shape).toEqual([]);
    expect(tensors["empty"]!.shape).toEqual([0, 3]);
  });
});

/** Writes chainrule's model, inputs and outputs for PyTorch's check; returns the model's outputs. */
function writeForTorch(name: string, variant: "" | "-f16" | "-bf16"): Tensor {
  const model = models[name]!();
  io.loadModule(join(fixtures, `torch-${name}.safetensors`), model); // start from known weights, then change them
  const sd = model.stateDict();
  model.loadStateDict(Object.fromEntries(Object.entries(sd).map(([k, v]) => [k, v.mul(0.75).add(0.01)])));
  const path = join(dir, `chainrule-${name}${variant}.safetensors`);
  if (variant === "") io.saveModule(path, model);
  else io.saveModule(path, model, {}, { floatAs: variant === "-f16" ? "F16" : "BF16" });
  io.loadModule(path, model); // the outputs PyTorch should give are those of the weights as stored
  const x = io.loadSafetensors(join(fixtures, `torch-${name}-io.safetensors`)).tensors["x"]!;
  const y = model.forward(x);
  io.saveSafetensors(join(dir, `chainrule-${name}${variant}-io.safetensors`), { x, y });
  return y;
}

/** A Python with torch: CHAINRULE_PYTHON, else Debian's /usr/bin/python3, else python3 on the PATH; null when none. */
function torchPython(): string | null {
  for (const py of [process.env["CHAINRULE_PYTHON"], "/usr/bin/python3", "python3"]) {
    if (!py) continue;
    if (spawnSync(py, ["-c", "import torch"], { stdio: "ignore" }).status === 0) return py;
  }
  return null;
}

describe("checkpoints written by chainrule, read by PyTorch", () => {
  const py = torchPython();
  it("io.saveModule writes PyTorch's names, layouts and shapes", () => {
    writeForTorch("mlp", "");
    const { tensors, metadata } = io.loadSafetensors(join(dir, "chainrule-mlp.safetensors"));
    expect(Object.keys(tensors)).toEqual(["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]);
    expect(tensors["0.weight"]!.shape).toEqual([16, 4]);
    expect(tensors["4.weight"]!.shape).toEqual([3, 16]);
    expect(metadata).toEqual({ format: "chainrule", layout: "pytorch" });
  });

  it("F16 and BF16 files hold the weights rounded as PyTorch's .half() and .bfloat16() round them", () => {
    writeForTorch("mlp", "-f16");
    const half = io.loadSafetensors(join(dir, "chainrule-mlp-f16.safetensors")).tensors;
    const w = half["2.weight"]!;
    expect(w.dtype).toBe("float32");
    // Every value is a half: 11 significant bits.
    for (const v of w.data) expect(Math.abs(v) < 2 ** -14 || Number.isInteger(v * 2 ** (10 - Math.floor(Math.log2(Math.abs(v)))))).toBe(true);
  });

  it.runIf(py !== null)("PyTorch loads every file with load_state_dict(strict=True) and gives chainrule's outputs to 1e-6", () => {
    for (const [name, variant] of [["mlp", ""], ["cnn", ""], ["mlp", "-f16"], ["mlp", "-bf16"]] as const) writeForTorch(name, variant);
    const r = spawnSync(py!, [new URL("../tools/pytorch-checkpoints.py", import.meta.url).pathname, "check", dir], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status, r.stdout).toBe(0);
    expect(r.stdout.match(/\(ok\)/g)?.length).toBe(4);
  });

  it.skipIf(py !== null)("PyTorch-side check skipped: no Python with torch (apt-get install python3-torch, or set CHAINRULE_PYTHON)", () => {});
});

describe("files in chainrule's old layout", () => {
  it("a file saved before Linear weights became [out, in] (format chainrule, no layout key) is read and transposed", () => {
    const model = models["mlp"]!();
    io.loadModule(join(fixtures, "torch-mlp.safetensors"), model);
    const x = io.loadSafetensors(join(fixtures, "torch-mlp-io.safetensors")).tensors["x"]!;
    const legacy = Object.fromEntries(Object.entries(model.stateDict()).map(([k, v]) => [k, k.endsWith("weight") ? transpose(v) : v]));
    const path = join(dir, "legacy.safetensors");
    io.saveSafetensors(path, legacy, { format: "chainrule" });
    const back = models["mlp"]!();
    io.loadModule(path, back);
    expect(Array.from(back.forward(x).data)).toEqual(Array.from(model.forward(x).data));
    // The same tensors without chainrule's metadata are taken as PyTorch's layout: only square layers fit.
    io.saveSafetensors(path, legacy, { format: "pt" });
    expect(() => io.loadModule(path, models["mlp"]!())).toThrow(/"0.weight" has shape \[4,16\], expected \[16,4\]/);
  });
});
