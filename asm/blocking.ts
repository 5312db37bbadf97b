// Block sizes shared by the GEMMs.

/** Depth of the blocks k is cut into: equal blocks of at most `kc` (k = 784 as 4 × 196, not 3 × 256 + 16). */
@inline export function depthBlock(k: i32, kc: i32): i32 {
  const blocks = (k + kc - 1) / kc;
  return (k + blocks - 1) / blocks;
}

/** Rows per packed A block: equal blocks of at most `mc`, rounded up to a multiple of the micro-tile height. */
@inline export function rowBlock(m: i32, mc: i32, mr: i32): i32 {
  const blocks = (m + mc - 1) / mc;
  const rows = (m + blocks - 1) / blocks;
  return min(mc, (rows + mr - 1) / mr * mr);
}
