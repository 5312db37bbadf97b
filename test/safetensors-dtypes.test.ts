// The widened safetensors reader (F16, BF16, F32, F64, I8, U8, I16, I32, I64, BOOL), F16/BF16 writing, and
// fuzzing of valid files of every dtype: truncations, bit flips and lying headers must each give a ParseError
// naming the file, never another error, a hang, or memory beyond what the file's bytes justify.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { io, tensor, ParseError } from "../src/index.js";
import { bfloat16ToNumber, halfToNumber, numberToBfloat16, numberToHalf } from "../src/io/safetensors-dtypes.js";
import { safetensorsBytes as file } from "./helpers/safetensors-bytes.js";

const le16 = (...v: number[]) => { const b = new Uint8Array(2 * v.length); const d = new DataView(b.buffer); v.forEach((x, i) => d.setUint16(2 * i, x, true)); return b; };
const le64 = (...v: bigint[]) => { const b = new Uint8Array(8 * v.length); const d = new DataView(b.buffer); v.forEach((x, i) => d.setBigInt64(8 * i, x, true)); return b; };
const one = (code: string, shape: number[], data: Uint8Array) => io.decodeSafetensors(file({ t: { dtype: code, shape, data_offsets: [0, data.length] } }, data), "x.safetensors").tensors["t"]!;

describe("half and bfloat16 conversions", () => {
  it("hand values of binary16: 1, −2, 65504, the smallest subnormal and normal, ±∞, NaN", () => {
    expect([0x3c00, 0xc000, 0x7bff, 0x0001, 0x0400, 0x7c00, 0xfc00, 0x8000].map(halfToNumber)).toEqual([1, -2, 65504, 2 ** -24, 2 ** -14, Infinity, -Infinity, -0]);
    expect(halfToNumber(0x7e00)).toBeNaN();
    expect([bfloat16ToNumber(0x3f80), bfloat16ToNumber(0x4049), bfloat16ToNumber(0xff80)]).toEqual([1, 3.140625, -Infinity]);
  });

  it("every one of the 65,536 half and bfloat16 bit patterns round-trips through number (NaNs stay NaN)", () => {
    const bad: string[] = [];
    for (let h = 0; h < 65536; h++) {
      const v = halfToNumber(h);
      if (Number.isNaN(v) ? !Number.isNaN(halfToNumber(numberToHalf(v))) : numberToHalf(v) !== h) bad.push(`half ${h.toString(16)}`);
      const b = bfloat16ToNumber(h);
      if (Number.isNaN(b) ? !Number.isNaN(bfloat16ToNumber(numberToBfloat16(b))) : numberToBfloat16(b) !== h) bad.push(`bf16 ${h.toString(16)}`);
    }
    expect(bad).toEqual([]);
  });

  it("rounds to nearest, ties to even, as IEEE 754; overflow gives ∞", () => {
    expect(halfToNumber(numberToHalf(1 + 2 ** -11))).toBe(1); // tie, 1 is even
    expect(halfToNumber(numberToHalf(1 + 3 * 2 ** -11))).toBe(1 + 2 ** -9); // tie, rounds up to even
    expect(halfToNumber(numberToHalf(1 + 2 ** -11 + 2 ** -30))).toBe(1 + 2 ** -10); // just above the tie
    expect(halfToNumber(numberToHalf(2 ** -25))).toBe(0); // half the smallest subnormal: tie to 0
    expect(halfToNumber(numberToHalf(3 * 2 ** -25))).toBe(2 ** -23); // tie between 1 and 2 ulps: even
    expect(halfToNumber(numberToHalf(65519.99))).toBe(65504);
    expect(halfToNumber(numberToHalf(65520))).toBe(Infinity);
    expect(halfToNumber(numberToHalf(0.1))).toBe(0.0999755859375); // PyTorch's torch.tensor(0.1).half()
    expect(bfloat16ToNumber(numberToBfloat16(0.1))).toBe(0.10009765625); // and .bfloat16()
    expect(bfloat16ToNumber(numberToBfloat16(1 + 2 ** -8))).toBe(1); // tie to even
    expect(bfloat16ToNumber(numberToBfloat16(1 + 3 * 2 ** -8))).toBe(1 + 2 ** -6);
  });
});

describe("reading every dtype", () => {
  it("widens F16 and BF16 to float32, I8/U8/I16 to int32, keeping each value", () => {
    expect(Array.from(one("F16", [3], le16(0x3c00, 0xc100, 0x0001)).data)).toEqual([1, -2.5, 2 ** -24]);
    expect(one("BF16", [2], le16(0x3f80, 0xc020)).dtype).toBe("float32");
    expect(Array.from(one("BF16", [2], le16(0x3f80, 0xc020)).data)).toEqual([1, -2.5]);
    expect(Array.from(one("I8", [3], Uint8Array.from([0x80, 0xff, 0x7f])).data)).toEqual([-128, -1, 127]);
    const u8 = one("U8", [2, 2], Uint8Array.from([0, 1, 200, 255]));
    expect([u8.dtype, ...u8.shape, ...u8.data]).toEqual(["int32", 2, 2, 0, 1, 200, 255]);
    expect(Array.from(one("I16", [2], le16(0x8000, 0x7fff)).data)).toEqual([-32768, 32767]);
  });

  it("I64: int32 when every value fits, float64 up to ±(2⁵³ − 1), refused beyond with the tensor's name", () => {
    const small = one("I64", [3], le64(-5n, 0n, 2147483647n));
    expect([small.dtype, ...small.data]).toEqual(["int32", -5, 0, 2147483647]);
    const wide = one("I64", [3], le64(2n ** 40n, -(2n ** 53n - 1n), 7n));
    expect([wide.dtype, ...wide.data]).toEqual(["float64", 2 ** 40, -(2 ** 53 - 1), 7]);
    expect(() => one("I64", [2], le64(1n, 2n ** 53n))).toThrow(ParseError);
    expect(() => one("I64", [2], le64(1n, 2n ** 53n))).toThrow(/^safetensors: x\.safetensors: tensor "t" is I64 and element 1 \(9007199254740992\) is beyond ±\(2\^53 − 1\)/);
    expect(() => one("I64", [1], le64(-(2n ** 63n)))).toThrow(/element 0 \(-9223372036854775808\)/);
  });

  it("writes float tensors as F16 or BF16 on request; int and bool tensors keep their dtype", () => {
    const t = { w: tensor([0.1, -3, 70000], { dtype: "float64" }), i: tensor([1, 2], { dtype: "int32" }), b: tensor([true]) };
    for (const [code, want] of [["F16", [0.0999755859375, -3, Infinity]], ["BF16", [0.10009765625, -3, 70144]]] as const) {
      const bytes = io.encodeSafetensors(t, {}, { floatAs: code });
      const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
      const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, { dtype: string; data_offsets: number[] }>;
      expect([header["w"]!.dtype, header["i"]!.dtype, header["b"]!.dtype]).toEqual([code, "I32", "BOOL"]);
      expect(header["w"]!.data_offsets).toEqual([0, 6]);
      const back = io.decodeSafetensors(bytes).tensors;
      expect(back["w"]!.dtype).toBe("float32");
      expect(Array.from(back["w"]!.data)).toEqual(want);
      expect(Array.from(back["i"]!.data)).toEqual([1, 2]);
    }
    expect(() => io.encodeSafetensors(t, {}, { floatAs: "F8" as never })).toThrow(/floatAs must be "F16" or "BF16", got "F8"/);
  });
});

describe("fuzzing the reader (fast-check)", () => {
  const codes = ["F16", "BF16", "F32", "F64", "I8", "U8", "I16", "I32", "I64", "BOOL"];
  const bytesPer: Record<string, number> = { F16: 2, BF16: 2, F32: 4, F64: 8, I8: 1, U8: 1, I16: 2, I32: 4, I64: 8, BOOL: 1 };
  /** A valid file with one tensor of every dtype (values chosen so each decodes: bools 0/1, I64 small). */
  function validFile(): { bytes: Uint8Array; header: Record<string, { dtype: string; shape: number[]; data_offsets: number[] }>; data: Uint8Array } {
    const header: Record<string, { dtype: string; shape: number[]; data_offsets: number[] }> = {};
    const parts: number[] = [];
    let off = 0;
    codes.forEach((code, k) => {
      const count = 2 + (k % 3);
      const len = count * bytesPer[code]!;
      header[`t_${code}`] = { dtype: code, shape: [count], data_offsets: [off, off + len] };
      for (let i = 0; i < len; i++) parts.push(code === "BOOL" ? i & 1 : code === "I64" ? (i % 8 === 0 ? 7 * i + 1 : 0) : (31 * i + k) & 0xff);
      off += len;
    });
    const data = Uint8Array.from(parts);
    return { bytes: file(header, data), header, data };
  }
  const valid = validFile();

  /** Decodes, accepting a result or a ParseError naming the file; checks memory against the file's size. */
  function decodeOrParseError(bytes: Uint8Array): void {
    try {
      const { tensors } = io.decodeSafetensors(bytes, "fuzz.safetensors");
      const held = Object.values(tensors).reduce((s, t) => s + t.data.byteLength, 0);
      // Widening (I8/U8 → int32) may take 4 bytes per byte of the file; nothing is sized by the header alone.
      expect(held).toBeLessThanOrEqual(4 * bytes.length);
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      expect(e.message).toMatch(/^safetensors: fuzz\.safetensors: /);
    }
  }

  it("the valid file decodes to every dtype", () => {
    const { tensors } = io.decodeSafetensors(valid.bytes);
    expect(Object.values(tensors).map((t) => t.dtype)).toEqual(["float32", "float32", "float32", "float64", "int32", "int32", "int32", "int32", "int32", "bool"]);
  });

  it("every truncation is a ParseError", () => {
    for (let n = 0; n < valid.bytes.length; n++) {
      expect(() => io.decodeSafetensors(valid.bytes.subarray(0, n), "fuzz.safetensors"), `first ${n} bytes`).toThrow(ParseError);
    }
  });

  it("bit flips anywhere give a valid result or a ParseError", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(valid.bytes.length - 1), fc.integer({ min: 0, max: 7 })), { minLength: 1, maxLength: 6 }), (flips) => {
        const b = valid.bytes.slice();
        for (const [at, bit] of flips) b[at]! ^= 1 << bit;
        decodeOrParseError(b);
      }),
      { numRuns: 3000, seed: 12 },
    );
  });

  it("lying headers (dtypes, shapes, offsets, header length) give a valid result or a ParseError naming the tensor", () => {
    const names = Object.keys(valid.header);
    const dim = fc.oneof(fc.nat(8), fc.constantFrom(2 ** 31, 2 ** 53 - 1, 2 ** 32 + 1, 1e300, -1, 0.5));
    const lie = fc.record({
      target: fc.constantFrom(...names),
      dtype: fc.option(fc.oneof(fc.constantFrom(...codes), fc.constantFrom("F8_E5M2", "U64", "", 7 as unknown as string))),
      shape: fc.option(fc.array(dim, { maxLength: 4 })),
      offsets: fc.option(fc.tuple(fc.oneof(fc.nat(200), dim), fc.oneof(fc.nat(200), dim))),
      length: fc.option(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })),
      extraData: fc.integer({ min: -20, max: 20 }),
    });
    fc.assert(
      fc.property(fc.array(lie, { minLength: 1, maxLength: 3 }), (lies) => {
        const header = structuredClone(valid.header) as Record<string, Record<string, unknown>>;
        let length: bigint | undefined;
        let extra = 0;
        for (const l of lies) {
          const e = header[l.target]!;
          if (l.dtype !== null) e["dtype"] = l.dtype;
          if (l.shape !== null) e["shape"] = l.shape;
          if (l.offsets !== null) e["data_offsets"] = l.offsets;
          if (l.length !== null) length = l.length;
          extra = l.extraData;
        }
        const data = extra >= 0 ? Uint8Array.from([...valid.data, ...new Array<number>(extra).fill(0)]) : valid.data.subarray(0, valid.data.length + extra);
        const bytes = file(header, data, length);
        try {
          io.decodeSafetensors(bytes, "fuzz.safetensors");
        } catch (e) {
          if (!(e instanceof ParseError)) throw e;
          expect(e.message).toMatch(/^safetensors: fuzz\.safetensors: /);
          // A problem with one tensor names it.
          if (/^safetensors: fuzz\.safetensors: tensor /.test(e.message)) expect(names.some((n) => e.message.includes(`"${n}"`))).toBe(true);
        }
        decodeOrParseError(bytes);
      }),
      { numRuns: 3000, seed: 7 },
    );
  });
});
