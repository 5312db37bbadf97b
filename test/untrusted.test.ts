// Untrusted input: expressions typed at the command line and model files from elsewhere must give a
// clear ChainruleError (ParseError for malformed input), never run code, pollute prototypes, allocate
// without bound, or leave a half-written file behind.
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChainruleError, ParseError, Rng, ValueError, io, nn, scalar, tensor, type Tensor } from "../src/index.js";
import { compileExpression } from "../src/cli/expression.js";
import { safetensorsBytes as withHeader } from "./helpers/safetensors-bytes.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "chainrule-untrusted-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Each of these would run JavaScript, reach a global, or touch an object's prototype if the parser
// evaluated JavaScript or looked names up on plain objects.
const HOSTILE: string[] = [
  `constructor.constructor("return process")()`,
  `constructor.constructor("process.exit(7)")()`,
  `sin.constructor("return 1")()`,
  `Function("return 1")()`,
  `process.exit()`,
  `process.exit(7)`,
  `exit(7)`,
  `require("fs")`,
  `import("fs")`,
  `eval("1")`,
  `globalThis.process`,
  `x.__proto__`,
  `x["__proto__"]`,
  `__proto__.polluted`,
  `__proto__["polluted"]`,
  `x.constructor.prototype`,
  `toString(x)`,
  `hasOwnProperty(x)`,
  `valueOf(x)`,
  `sin(x)(y)`,
  `sin["call"](x)`,
  `this`,
  `new Function("x")`,
  `x = 1`,
  `x => x`,
  `a; b`,
  `a ? b : c`,
  `"a"`,
  "`a`",
  `[1, 2]`,
  `{}`,
  `typeof x`,
  `x ** 2`,
];

describe("expression parser (src/cli/expression.ts)", () => {
  it.each(HOSTILE)("rejects %s with a ParseError", (source) => {
    let thrown: unknown;
    try {
      compileExpression(source);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(ParseError);
    expect((thrown as Error).message).toMatch(/^expression: /);
    const pos = (thrown as ParseError).position;
    if (pos !== undefined) expect(pos).toBeGreaterThanOrEqual(0);
    if (pos !== undefined) expect(pos).toBeLessThanOrEqual(source.length);
  });

  it("names such as __proto__ and constructor are plain variables, with no effect on any prototype", () => {
    const e = compileExpression("__proto__ * constructor + toString");
    expect(e.variables).toEqual(["__proto__", "constructor", "toString"]);
    expect(e.fn(scalar(3), scalar(2), scalar(1)).item()).toBe(7);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
  });

  it("deep nesting gives a ParseError, not a crash", () => {
    expect(() => compileExpression("(".repeat(5000) + "x" + ")".repeat(5000))).toThrow(ParseError);
    expect(() => compileExpression("-".repeat(20000) + "x")).toThrow(ParseError);
  });

  it("long sums of a few thousand terms compile and evaluate", () => {
    const e = compileExpression(Array.from({ length: 3000 }, () => "x").join("+"));
    expect(e.fn(scalar(1)).item()).toBe(3000);
  });

  it("a 10,000-term sum gives a ParseError or a value, not a RangeError", () => {
    const source = Array.from({ length: 10_000 }, () => "x").join("+");
    let result: unknown;
    try {
      result = compileExpression(source).fn(scalar(1)).item();
    } catch (e) {
      result = e;
    }
    expect(result === 10_000 || result instanceof ParseError).toBe(true);
  });

  it("random strings never escape as anything but a ParseError", () => {
    const alphabet = fc.constantFrom(..."ab()+-*/^.,[]'\"`=;:?{}!&|<>%~# 0123456789eEsinxqrtcolgp_$\\".split(""));
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 40 }).map((cs) => cs.join("")), (source) => {
        try {
          compileExpression(source);
        } catch (e) {
          if (!(e instanceof ParseError)) throw e;
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe("the chainrule binary with hostile expressions", () => {
  const bin = join(root, "bin", "chainrule.js");
  const canary = join(dir, "pwned");
  beforeAll(() => {
    if (!existsSync(join(root, "dist", "cli", "main.js"))) throw new Error("dist/cli/main.js is missing: run `npm run build` first");
  });

  const run = (...args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [bin, ...args], { cwd: dir, env: { ...process.env, NO_COLOR: "1" }, timeout: 30_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stdout, stderr });
      });
    });

  it.each([
    `constructor.constructor("process.exit(7)")()`,
    `constructor.constructor("require('fs').writeFileSync('${canary}', 'x')")()`,
    `process.exit(7)`,
    `x.__proto__`,
    `require("fs")`,
  ])("grad %s: exit status 2, one-line ParseError with a caret, nothing executed", async (expr) => {
    const r = await run("grad", expr, "--at", "x=1");
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^chainrule: expression: /);
    expect(lines[2]).toMatch(/^ +\^$/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(existsSync(canary)).toBe(false);
  }, 60_000);

  it("--at __proto__=2 binds a variable and the JSON output has it as an ordinary key", async () => {
    const r = await run("grad", "__proto__*x", "--at", "__proto__=2,x=3", "--json");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { value: number; grads: Record<string, number> };
    expect(out.value).toBe(6);
    expect(Object.getOwnPropertyDescriptor(out.grads, "__proto__")?.value).toBe(3);
    expect(out.grads.x).toBe(2);
  }, 60_000);

  it("a corrupt model file given to predict: one-line error, exit status 2", async () => {
    const path = join(dir, "corrupt.safetensors");
    writeFileSync(path, Buffer.from([1, 2, 3]));
    const r = await run("predict", path);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^chainrule: safetensors: .*corrupt\.safetensors: file is 3 bytes, too short/);
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
  }, 60_000);
});


function decodeError(bytes: Uint8Array): Error {
  try {
    io.decodeSafetensors(bytes, "test.safetensors");
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected decodeSafetensors to throw");
}

describe("model files (src/io/safetensors.ts)", () => {
  const good = io.encodeSafetensors({ w: tensor([[1, 2, 3], [4, 5, 6]]), b: tensor([0.5, -0.5], { dtype: "float64" }) }, { arch: "test" });

  it.each([
    ["the largest header length", withHeader({}, new Uint8Array(0), 2n ** 64n - 1n), /header length 18446744073709551615 exceeds the limit of 100000000 bytes/],
    ["a header just over the limit", withHeader({}, new Uint8Array(0), 100_000_001n), /exceeds the limit/],
    ["a header length past the end", withHeader({}, new Uint8Array(0), 1000n), /header length 1000 runs past the end of the \d+-byte file \(truncated\)/],
    ["a header that is not UTF-8", (() => { const b = withHeader({ a: 1 }, new Uint8Array(0)); b[9] = 0xff; return b; })(), /not valid UTF-8 JSON/],
    ["a null header", withHeader(null, new Uint8Array(0)), /header must be a JSON object/],
    ["a tensor entry that is a number", withHeader({ w: 3 }, new Uint8Array(0)), /entry "w" must be an object/],
    ["a negative dimension", withHeader({ w: { dtype: "F32", shape: [-1], data_offsets: [0, 0] } }, new Uint8Array(0)), /invalid shape \[-1\]/],
    ["a fractional dimension", withHeader({ w: { dtype: "F32", shape: [1.5], data_offsets: [0, 6] } }, new Uint8Array(6)), /invalid shape \[1.5\]/],
    ["a shape that disagrees with the offsets", withHeader({ w: { dtype: "F64", shape: [2, 2], data_offsets: [0, 16] } }, new Uint8Array(16)), /tensor "w" \(F64 \[2,2\]\) needs 32 bytes, but its data_offsets span 16/],
    ["a huge shape (2^40 elements) with matching offsets", withHeader({ w: { dtype: "F32", shape: [2 ** 20, 2 ** 20], data_offsets: [0, 2 ** 42] } }, new Uint8Array(8)), /data section is 8 bytes but the header describes 4398046511104 \(truncated\)/],
    ["overlapping tensors", withHeader({ a: { dtype: "F32", shape: [2], data_offsets: [0, 8] }, b: { dtype: "F32", shape: [2], data_offsets: [4, 12] } }, new Uint8Array(12)), /starts at byte 4 of the data section, expected 8 \(gap or overlap\)/],
    ["a BOOL byte that is not 0 or 1", withHeader({ m: { dtype: "BOOL", shape: [2], data_offsets: [0, 2] } }, Uint8Array.from([1, 7])), /BOOL but holds bytes other than 0 and 1/],
  ])("%s", (_name, bytes, message) => {
    const err = decodeError(bytes);
    expect(err).toBeInstanceOf(ParseError);
    expect(err.message).toMatch(/^safetensors: test\.safetensors: /);
    expect(err.message).toMatch(message);
  });

  it("every truncation of a valid file is a ParseError", () => {
    for (let n = 0; n < good.length; n++) expect(decodeError(good.subarray(0, n)), `first ${n} bytes`).toBeInstanceOf(ParseError);
  });

  it("random byte corruption gives either a valid result or a ParseError, never another error", () => {
    fc.assert(
      fc.property(fc.array(fc.record({ at: fc.nat(good.length - 1), byte: fc.nat(255) }), { minLength: 1, maxLength: 4 }), (edits) => {
        const bytes = good.slice();
        for (const e of edits) bytes[e.at] = e.byte;
        try {
          const { tensors } = io.decodeSafetensors(bytes, "fuzz");
          for (const t of Object.values(tensors)) expect(t.size).toBeLessThanOrEqual(6);
        } catch (e) {
          if (!(e instanceof ParseError)) throw e;
        }
      }),
      { numRuns: 2000 },
    );
  });

  // Plain assignment (`tensors[name] = …`) would call the prototype setter and the tensor would vanish.
  it("a tensor named __proto__ is either kept as an ordinary entry or rejected", () => {
    const bytes = withHeader({ ["__proto__"]: { dtype: "F32", shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4));
    let ok = false;
    try {
      const { tensors } = io.decodeSafetensors(bytes, "proto");
      ok = Object.getPrototypeOf(tensors) === Object.prototype && Object.hasOwn(tensors, "__proto__");
    } catch (e) {
      ok = e instanceof ParseError;
    }
    expect(ok).toBe(true);
  });

  it("a tensor and a metadata key named __proto__ round-trip through encode and decode", () => {
    const tensors: Record<string, Tensor> = {};
    Object.defineProperty(tensors, "__proto__", { value: tensor([1.5, -2], { dtype: "float32" }), enumerable: true, writable: true, configurable: true });
    const metadata: Record<string, string> = {};
    Object.defineProperty(metadata, "__proto__", { value: "kept", enumerable: true, writable: true, configurable: true });
    const back = io.decodeSafetensors(io.encodeSafetensors(tensors, metadata), "round-trip");
    expect(Object.keys(back.tensors)).toEqual(["__proto__"]);
    expect(Array.from(Object.getOwnPropertyDescriptor(back.tensors, "__proto__")!.value.data as Float32Array)).toEqual([1.5, -2]);
    expect(Object.getOwnPropertyDescriptor(back.metadata, "__proto__")?.value).toBe("kept");
    expect(Object.getPrototypeOf(back.tensors)).toBe(Object.prototype);
  });

  it("a header key __proto__ never pollutes Object.prototype", () => {
    const bytes = withHeader(JSON.parse('{"__proto__": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "__metadata__": {"__proto__": "x"}}'), new Uint8Array(4));
    try {
      io.decodeSafetensors(bytes, "proto");
    } catch (e) {
      expect(e).toBeInstanceOf(ChainruleError);
    }
    expect(({} as Record<string, unknown>).dtype).toBeUndefined();
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
  });

  it("a model file with the wrong shapes is refused by loadModule, naming the file and both shapes", () => {
    const path = join(dir, "wrong-shape.safetensors");
    io.saveModule(path, new nn.Linear(3, 2, { rng: new Rng(0) }));
    const target = new nn.Linear(4, 2, { rng: new Rng(1) });
    const before = Array.from(target.parameters().weight!.data);
    let thrown: unknown;
    try {
      io.loadModule(path, target);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(ValueError);
    expect((thrown as Error).message).toContain(`loadModule: ${path} does not fit this model`);
    expect((thrown as Error).message).toMatch(/"weight" has shape \[2,3\], expected \[2,4\]/);
    expect(Array.from(target.parameters().weight!.data)).toEqual(before); // left untouched
  });

  it("a failed save leaves the previous file intact and no temporary file behind", () => {
    const path = join(dir, "atomic.safetensors");
    io.saveSafetensors(path, { w: tensor([1, 2]) });
    const before = readFileSync(path);
    expect(() => io.saveSafetensors(path, { w: tensor([3, 4]), bad: 5 as never })).toThrow(ValueError);
    expect(readFileSync(path)).toEqual(before);
    // The rename itself fails when the target is a non-empty directory: the temp file is removed.
    const target = join(dir, "a-directory");
    mkdirSync(join(target, "inside"), { recursive: true });
    expect(() => io.saveSafetensors(target, { w: tensor([1]) })).toThrow();
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("a reader never sees a half-written file while another process saves over it", async () => {
    // The writer saves a 4 MB file over and over; each save is temp file + rename, so every read
    // here must decode completely (a plain writeFileSync would be caught mid-write).
    const path = join(dir, "concurrent.safetensors");
    io.saveSafetensors(path, { w: tensor(new Float32Array(1 << 20)) });
    const writer = spawn(process.execPath, ["--import", "tsx", "test/scripts/save-loop.ts", path, "40"], { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
    let running = true;
    const exited = new Promise<number | null>((resolve) => writer.on("exit", (code) => { running = false; resolve(code); }));
    let reads = 0;
    const seen = new Set<number>();
    while (running) {
      const { tensors } = io.loadSafetensors(path); // throws on a torn file
      seen.add(tensors.w!.data[0]!);
      reads++;
      await new Promise((r) => setImmediate(r));
    }
    expect(await exited).toBe(0);
    expect(reads).toBeGreaterThan(0);
    console.log(`atomic save: ${reads} complete reads during 40 saves; first values seen: ${[...seen].sort().join(", ")}`);
  }, 120_000);
});
