import { afterAll, describe, expect, it } from "vitest";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { io, nn, randn, Rng, tensor, ParseError } from "../src/index.js";
import { safetensorsBytes as withHeader } from "./helpers/safetensors-bytes.js";

const dir = mkdtempSync(join(tmpdir(), "chainrule-st-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function header(bytes: Uint8Array): Record<string, unknown> {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, unknown>;
}


describe("safetensors", () => {
  it("encodes the documented layout: u64 LE header length, JSON header, aligned LE data", () => {
    const bytes = io.encodeSafetensors({ a: tensor([1, 2], { dtype: "float32" }), b: tensor([[7]], { dtype: "int32" }) }, { note: "hi" });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    expect(header(bytes)).toEqual({
      __metadata__: { note: "hi" },
      a: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
      b: { dtype: "I32", shape: [1, 1], data_offsets: [8, 12] },
    });
    const data = new DataView(bytes.buffer, 8 + n);
    expect([data.getFloat32(0, true), data.getFloat32(4, true), data.getInt32(8, true)]).toEqual([1, 2, 7]);
  });

  it("round-trips every dtype, shape and the metadata through a file", () => {
    const tensors = {
      f32: randn([3, 4], { seed: 1 }),
      f64: randn([2], { seed: 2, dtype: "float64" }),
      i32: tensor([[-1, 5], [2147483647, 0]], { dtype: "int32" }),
      b: tensor([true, false, true]),
      scalar: tensor(3.5),
      empty: tensor(new Float32Array(0), { shape: [0, 3] }),
    };
    const path = join(dir, "all.safetensors");
    io.saveSafetensors(path, tensors, { model: "x" });
    const { tensors: back, metadata } = io.loadSafetensors(path);
    expect(metadata).toEqual({ model: "x" });
    expect(Object.keys(back)).toEqual(Object.keys(tensors));
    for (const [k, t] of Object.entries(tensors)) {
      expect(back[k]!.dtype).toBe(t.dtype);
      expect(back[k]!.shape).toEqual(t.shape);
      expect(Array.from(back[k]!.data)).toEqual(Array.from(t.data));
    }
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("save → load a model gives identical predictions", () => {
    const make = (seed: number) => new nn.Sequential(new nn.Conv2d(1, 3, 3, { rng: new Rng(seed), padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2), new nn.Flatten(), new nn.Linear(12, 4, { rng: new Rng(seed) }));
    const a = make(1);
    const x = randn([5, 1, 4, 4], { seed: 9 });
    const path = join(dir, "model.safetensors");
    io.saveModule(path, a, { arch: "test" });
    const b = make(2);
    expect(Array.from(b.forward(x).data)).not.toEqual(Array.from(a.forward(x).data));
    const meta = io.loadModule(path, b);
    expect(meta).toEqual({ format: "chainrule", arch: "test", layout: "pytorch" });
    expect(Array.from(b.forward(x).data)).toEqual(Array.from(a.forward(x).data));
    expect(() => io.loadModule(path, new nn.Linear(2, 2))).toThrow(/does not fit this model: .*missing weight, bias/);
  });

  it("rejects truncated, corrupt, oversized and unreadable files with clear errors", () => {
    const good = io.encodeSafetensors({ w: tensor([1, 2, 3, 4]) });
    const cases: [string, Uint8Array, RegExp][] = [
      ["short", good.subarray(0, 5), /too short/],
      ["truncated data", good.subarray(0, good.length - 3), /truncated/],
      ["truncated header", good.subarray(0, 20), /runs past the end/],
      ["oversized header", withHeader({}, new Uint8Array(0), 10n ** 12n), /exceeds the limit/],
      ["not json", withHeader({}, new Uint8Array(0)).fill(0x7b, 8), /not valid UTF-8 JSON/],
      ["array header", withHeader([1], new Uint8Array(0)), /must be a JSON object/],
      ["bad dtype", withHeader({ w: { dtype: "F8_E4M3", shape: [2], data_offsets: [0, 2] } }, new Uint8Array(2)), /unsupported dtype "F8_E4M3"; expected one of F16, BF16, F32, F64, I8, U8, I16, I32, I64, BOOL/],
      ["wrong shape", withHeader({ w: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8)), /needs 12 bytes/],
      ["gap", withHeader({ w: { dtype: "F32", shape: [1], data_offsets: [4, 8] } }, new Uint8Array(8)), /starts at byte 4/],
      ["extra bytes", withHeader({ w: { dtype: "F32", shape: [1], data_offsets: [0, 4] } }, new Uint8Array(8)), /not described/],
      ["bad offsets", withHeader({ w: { dtype: "F32", shape: [1], data_offsets: [4, 0] } }, new Uint8Array(4)), /invalid data_offsets/],
      ["bad metadata", withHeader({ __metadata__: { a: 1 } }, new Uint8Array(0)), /must be a string/],
    ];
    for (const [name, bytes, re] of cases) {
      const path = join(dir, `${name}.safetensors`);
      writeFileSync(path, bytes);
      expect(() => io.loadSafetensors(path), name).toThrow(ParseError);
      expect(() => io.loadSafetensors(path), name).toThrow(re);
    }
    expect(() => io.loadSafetensors(join(dir, "missing.safetensors"))).toThrow(/cannot read .*missing\.safetensors/);
    expect(() => io.loadSafetensors(dir)).toThrow(/cannot read/);
    expect(readFileSync(join(dir, "short.safetensors")).length).toBe(5);
  });

  it("a wrong-shape model file is refused by loadModule", () => {
    const path = join(dir, "lin.safetensors");
    io.saveModule(path, new nn.Linear(3, 2, { rng: new Rng(0) }));
    expect(() => io.loadModule(path, new nn.Linear(2, 2, { rng: new Rng(0) }))).toThrow(/"weight" has shape \[2,3\], expected \[2,2\]/);
  });
});
