import { beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as ort from "onnxruntime-node";
import * as cr from "../src/index.js";
import { io, nn, tensor, ValueError, type Tensor } from "../src/index.js";
import { LOWERED_OPS } from "../src/io/onnx-lower.js";
import { mnistSplit } from "../src/data/mnist.js";

// ONNX export, checked by running the exported files in ONNX Runtime (onnxruntime-node): every lowered op
// round-trips, and the CLI's MNIST models classify the 2,000 held-out digits exactly as chainrule does.

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = join(root, "bin", "chainrule.js");
const dir = mkdtempSync(join(tmpdir(), "chainrule-onnx-"));

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd: root, env: { ...process.env, NO_COLOR: "1" } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

const ORT_TYPE = { float32: "float32", float64: "float64", int32: "int32", bool: "bool" } as const;

/** Runs an exported model on chainrule tensors; returns the output as numbers. */
async function runOnnx(bytes: Uint8Array, inputs: readonly Tensor[]): Promise<{ data: number[]; dims: readonly number[] }> {
  const session = await ort.InferenceSession.create(bytes);
  const feeds: Record<string, ort.Tensor> = {};
  inputs.forEach((x, i) => {
    const data = x.dtype === "bool" ? Uint8Array.from(x.data as ArrayLike<number>) : x.data;
    feeds[`input_${i}`] = new ort.Tensor(ORT_TYPE[x.dtype], data as Float32Array, [...x.shape]);
  });
  const out = (await session.run(feeds)).output!;
  return { data: Array.from(out.data as ArrayLike<number | boolean>, Number), dims: out.dims };
}

const f32 = (shape: number[], f: (i: number) => number) => tensor(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => f(i))).reshape(shape);
const wave = (shape: number[], lo = -2, hi = 2) => f32(shape, (i) => lo + ((hi - lo) * (Math.sin(i * 1.7 + 0.3) + 1)) / 2);

// One small program per lowered op, on inputs inside the op's domain.
const x23 = wave([2, 3]), pos23 = wave([2, 3], 0.5, 3), unit23 = wave([2, 3], -0.9, 0.9), big23 = wave([2, 3], 1.1, 4);
type Case = { fn: (...xs: Tensor[]) => Tensor; inputs: Tensor[] };
const unary = (fn: (x: Tensor) => Tensor, x = x23): Case => ({ fn, inputs: [x] });
const CASES: Record<string, Case> = {
  neg: unary(cr.neg), abs: unary(cr.abs), exp: unary(cr.exp), log: unary(cr.log, pos23), sqrt: unary(cr.sqrt, pos23),
  tanh: unary(cr.tanh), sigmoid: unary(cr.sigmoid), relu: unary(cr.relu), sin: unary(cr.sin), cos: unary(cr.cos),
  tan: unary(cr.tan, unit23), reciprocal: unary(cr.reciprocal, pos23), sign: unary(cr.sign), erf: unary(cr.erf),
  floor: unary(cr.floor), ceil: unary(cr.ceil), round: unary(cr.round), asin: unary(cr.asin, unit23), acos: unary(cr.acos, unit23),
  atan: unary(cr.atan), sinh: unary(cr.sinh), cosh: unary(cr.cosh), asinh: unary(cr.asinh), acosh: unary(cr.acosh, big23),
  atanh: unary(cr.atanh, unit23), softplus: unary(cr.softplus), stopGradient: unary((x) => cr.add(cr.stopGradient(x), x)),
  square: unary(cr.square), rsqrt: unary(cr.rsqrt, pos23), expm1: unary(cr.expm1), log1p: unary(cr.log1p, pos23),
  add: { fn: (a, b) => cr.add(a!, b!), inputs: [x23, wave([3])] }, sub: { fn: (a, b) => cr.sub(a!, b!), inputs: [x23, pos23] },
  mul: { fn: (a) => cr.mul(a!, 2.5), inputs: [x23] }, div: { fn: (a, b) => cr.div(a!, b!), inputs: [x23, pos23] },
  pow: { fn: (a, b) => cr.pow(a!, b!), inputs: [pos23, x23] }, maximum: { fn: (a, b) => cr.maximum(a!, b!), inputs: [x23, unit23] },
  minimum: { fn: (a, b) => cr.minimum(a!, b!), inputs: [x23, unit23] },
  equal: { fn: (a) => cr.equal(cr.round(a!), 1), inputs: [x23] }, notEqual: { fn: (a) => cr.notEqual(cr.round(a!), 1), inputs: [x23] },
  greater: { fn: (a, b) => cr.greater(a!, b!), inputs: [x23, unit23] }, greaterEqual: { fn: (a, b) => cr.greaterEqual(a!, b!), inputs: [x23, unit23] },
  less: { fn: (a, b) => cr.less(a!, b!), inputs: [x23, unit23] }, lessEqual: { fn: (a, b) => cr.lessEqual(a!, b!), inputs: [x23, unit23] },
  max: unary((x) => cr.max(x, 1)), min: unary((x) => cr.min(x, 0, true)), prod: unary((x) => cr.prod(x, 1)),
  sum: unary((x) => cr.sum(x, [0])),
  matmul: { fn: (a, b) => cr.matmul(a!, b!), inputs: [x23, wave([3, 4])] },
  reshape: unary((x) => cr.reshape(x, [3, 2])), transpose: unary((x) => cr.transpose(x)),
  broadcastTo: { fn: (a) => cr.broadcastTo(a!, [2, 2, 3]), inputs: [x23] },
  cast: unary((x) => cr.cast(x, "float64")), where: { fn: (a, b) => cr.where(cr.greater(a!, 0), a!, b!), inputs: [x23, pos23] },
  concat: { fn: (a, b) => cr.concat([a!, b!], 1), inputs: [x23, pos23] },
  conv2d: { fn: (a) => nn.conv2d(a!, wave([4, 2, 3, 3]), wave([4]), { stride: 1, padding: 1 }), inputs: [wave([2, 2, 5, 5])] },
  maxPool2d: { fn: (a) => nn.maxPool2d(a!, 2), inputs: [wave([1, 2, 4, 6])] },
};

describe("ONNX export, run in ONNX Runtime", () => {
  it("every lowered op has a round-trip case below", () => {
    expect(Object.keys(CASES).sort()).toEqual([...LOWERED_OPS]);
  });

  for (const op of LOWERED_OPS) {
    it(`${op}: ONNX Runtime computes what chainrule does`, async () => {
      const c = CASES[op]!;
      const want = c.fn(...c.inputs);
      const got = await runOnnx(io.toONNX(c.fn, c.inputs, { dynamicBatch: false }), c.inputs);
      expect(got.dims).toEqual(want.shape);
      const w = Array.from(want.data as ArrayLike<number>, Number);
      for (let i = 0; i < w.length; i++) {
        if (!(Math.abs(got.data[i]! - w[i]!) <= 1e-5 * Math.max(1, Math.abs(w[i]!)))) expect.fail(`${op}: element ${i} is ${got.data[i]} in ONNX Runtime, ${w[i]} in chainrule`);
      }
    });
  }

  it("a symbolic batch dimension: one file for any batch size, reshapes and broadcasts included", async () => {
    const f = (x: Tensor) => cr.sum(cr.broadcastTo(cr.reshape(x, [x.shape[0]!, 2, 3]), [x.shape[0]!, 2, 3]), [2]);
    const bytes = io.toONNX(f, [wave([4, 6])]);
    for (const n of [1, 7]) {
      const x = wave([n, 6]);
      const got = await runOnnx(bytes, [x]);
      expect(got.dims).toEqual([n, 2]);
      Array.from(f(x).data).forEach((v, i) => expect(got.data[i]).toBeCloseTo(v, 5));
    }
  });

  it("an op without a lowering is an error naming it; nothing is written", () => {
    const path = join(dir, "cumsum.onnx");
    expect(() => io.exportONNX((x: Tensor) => cr.cumsum(x, 0), [x23], path)).toThrow(ValueError);
    expect(() => io.toONNX((x: Tensor) => cr.cumsum(x, 0), [x23])).toThrow(/toONNX: the op "cumsum" has no ONNX lowering; the exportable ops are abs, acos/);
    expect(() => readFileSync(path)).toThrow();
  });
});

describe("chainrule export: the MNIST models in ONNX Runtime", () => {
  const { test } = mnistSplit({ seed: 0, train: 8000, test: 2000 });
  let mlpFile = "";
  beforeAll(async () => {
    mlpFile = join(dir, "mlp.safetensors");
    const r = await cli("train", "mnist", "--model", "mlp", "--epochs", "1", "--hidden", "64", "--out", mlpFile, "--json");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  }, 180_000);

  // The CNN was trained by `chainrule train mnist --model cnn --epochs 1 --seed 0 --out …` (test accuracy
  // 90.85%); committed because one CNN epoch takes a minute on the js backend.
  const cases = [
    { kind: "mlp", file: () => mlpFile },
    { kind: "cnn", file: () => join(root, "test/fixtures/mnist/cnn-1-epoch.safetensors") },
  ];
  for (const { kind, file } of cases) {
    it(`${kind}: classifies the 2,000 held-out digits exactly as chainrule does, logits within 1e-5`, async () => {
      const onnxFile = join(dir, `${kind}.onnx`);
      const r = await cli("export", file(), "-o", onnxFile);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^wrote .*${kind}\\.onnx: the ${kind} model of .* as ONNX \\(opset 17\\)`));
      const model = (await import("../src/cli/predict-command.js")).loadMnistModelFile("test", file()).model;
      const want = model.forward(test.images);
      const got = await runOnnx(readFileSync(onnxFile), [test.images]);
      expect(got.dims).toEqual([2000, 10]);
      let worst = 0, same = 0;
      for (let r0 = 0; r0 < 2000; r0++) {
        const row = (a: ArrayLike<number>) => Array.from({ length: 10 }, (_, j) => a[r0 * 10 + j]!);
        const g = row(got.data), w = row(want.data as ArrayLike<number>);
        g.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - w[j]!))));
        if (g.indexOf(Math.max(...g)) === w.indexOf(Math.max(...w))) same++;
      }
      expect(same).toBe(2000);
      expect(worst).toBeLessThanOrEqual(1e-5);
    }, 120_000);
  }

  it("bad input: one line on stderr, exit status 2", async () => {
    const cases: [string[], RegExp][] = [
      [["export", mlpFile], /^chainrule: export: say where to write the ONNX file, e\.g\. chainrule export .* -o model\.onnx\n$/],
      [["export", mlpFile, "-o", "model.txt"], /^chainrule: export: the output file must end in \.onnx, got "model\.txt"\n$/],
      [["export", join(dir, "missing.safetensors"), "-o", join(dir, "m.onnx")], /^chainrule: export: .*missing\.safetensors does not exist; train and save a model first/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(...args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  });
});

describe("toONNX on a module in training mode", () => {
  it("exports the eval-mode forward (dropout left out) and restores the module's mode", async () => {
    const model = new nn.Sequential(new nn.Linear(6, 4, { rng: new cr.Rng(1) }), new nn.Dropout(0.5, { rng: new cr.Rng(2) }), new nn.ReLU());
    expect(model.training).toBe(true);
    const x = wave([3, 6]);
    const bytes = io.toONNX(model, [x]);
    expect(model.training).toBe(true);
    const want = model.eval().forward(x);
    const got = await runOnnx(bytes, [x]);
    Array.from(want.data).forEach((v, i) => expect(got.data[i]).toBeCloseTo(v, 5));
  });
});
