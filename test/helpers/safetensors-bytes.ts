// A safetensors file built by hand, for tests of the reader's validation: an 8-byte little-endian header
// length, the JSON header, then the data. `length` overrides the header length (to make it lie).

/** The bytes of a safetensors file with `header` and `data`; `length` replaces the true header length. */
export function safetensorsBytes(header: unknown, data: Uint8Array, length?: bigint): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, length ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}
