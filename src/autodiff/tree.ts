import { Tensor } from "../core/tensor.js";
import { ValueError } from "../core/errors.js";
import { toTensor } from "../ops/creation.js";

/**
 * A pytree (JAX's term): a tensor, a number, or arrays/plain objects of pytrees. Transforms accept
 * pytrees as arguments and outputs, so a model's parameters can be a nested object.
 */
export type Pytree = Tensor | number | readonly Pytree[] | { readonly [key: string]: Pytree };

/** The shape of a pytree with every leaf replaced by a tensor (what gradients of a pytree look like). */
export type TensorTree<T> = T extends Tensor | number
  ? Tensor
  : T extends readonly unknown[]
    ? { [K in keyof T]: TensorTree<T[K]> }
    : T extends object
      ? { [K in keyof T]: TensorTree<T[K]> }
      : never;

/** Leaves of a pytree in a fixed order (arrays in index order, objects in key insertion order). */
export function leaves(tree: unknown): (Tensor | number)[] {
  const out: (Tensor | number)[] = [];
  const stack: unknown[] = [tree];
  // Iterative pre-order walk; children pushed in reverse so they come off in order.
  while (stack.length) {
    const v = stack.pop();
    if (v instanceof Tensor || typeof v === "number") out.push(v);
    else if (Array.isArray(v)) for (let i = v.length - 1; i >= 0; i--) stack.push(v[i]);
    else if (v !== null && typeof v === "object") {
      const vals = Object.values(v as Record<string, unknown>);
      for (let i = vals.length - 1; i >= 0; i--) stack.push(vals[i]);
    }
  }
  return out;
}

/** Rebuilds a pytree of the same structure as `tree`, taking new leaves in order. */
export function rebuild<T>(tree: T, newLeaves: readonly unknown[]): T {
  let k = 0;
  const walk = (v: unknown): unknown => {
    if (v instanceof Tensor || typeof v === "number") return newLeaves[k++];
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === "object") {
      const o: Record<string, unknown> = {};
      for (const [key, val] of Object.entries(v as Record<string, unknown>)) o[key] = walk(val);
      return o;
    }
    return v;
  };
  return walk(tree) as T;
}

/**
 * The structure of a pytree without its leaves (JAX's `PyTreeDef`): what `treeFlatten` returns next to
 * the leaves, and `treeUnflatten` fills again. Holds no tensors.
 */
export class TreeDef {
  /** @internal The tree with every leaf replaced by 0. */
  readonly skeleton: unknown;
  /** Number of leaves. */
  readonly numLeaves: number;
  /** @internal */
  constructor(tree: unknown) {
    const ls = leaves(tree);
    this.skeleton = rebuild(tree, ls.map(() => 0));
    this.numLeaves = ls.length;
  }
  /** The structure as text, e.g. `{"w":*,"b":[*,*]}`, for comparing structures and for errors. */
  toString(): string {
    return JSON.stringify(this.skeleton, (_k, v: unknown) => (v === 0 ? "*" : v)).replace(/"\*"/g, "*");
  }
}

/**
 * The leaves of a pytree in a fixed order: arrays in index order, objects in key insertion order (as
 * JAX's `tree_leaves`, except that object keys are not sorted).
 * @returns tensors and numbers; empty for a tree without leaves
 */
export function treeLeaves(tree: Pytree): (Tensor | number)[] {
  return leaves(tree);
}

/**
 * Splits a pytree into its leaves and its structure (JAX's `tree_flatten`); `treeUnflatten(def, leaves)`
 * puts them back together.
 * @returns `[leaves, def]`
 */
export function treeFlatten(tree: Pytree): [(Tensor | number)[], TreeDef] {
  return [leaves(tree), new TreeDef(tree)];
}

/**
 * Builds a pytree of the structure `def` from `leaves` in order (JAX's `tree_unflatten`).
 * @throws ValueError when the number of leaves differs from the structure's
 */
export function treeUnflatten<L extends Tensor | number>(def: TreeDef, newLeaves: readonly L[]): Pytree {
  if (newLeaves.length !== def.numLeaves) {
    throw new ValueError(`treeUnflatten: got ${newLeaves.length} leaves, the structure ${def} has ${def.numLeaves}`);
  }
  return rebuild(def.skeleton, newLeaves) as Pytree;
}

/**
 * Applies `f` leaf by leaf to `tree` and the matching leaves of `rest` (JAX's `tree_map`, with the tree
 * first so the structure's type flows into f): `treeMap(params, (p, g) => p.sub(g.mul(lr)), grads)`.
 * Number leaves reach f as float32 scalar tensors.
 * @returns a tree with the structure of `tree` holding f's results
 * @throws ValueError when a tree in `rest` has another structure, naming it and both structures
 */
export function treeMap<T extends Pytree>(tree: T, f: (leaf: Tensor, ...others: Tensor[]) => Tensor, ...rest: readonly TensorTree<T>[]): TensorTree<T> {
  const def = new TreeDef(tree);
  const others = (rest as readonly unknown[]).map((r, i) => {
    const d = new TreeDef(r);
    if (d.toString() !== def.toString()) throw new ValueError(`treeMap: tree ${i + 1} has structure ${d}, expected ${def} (the first tree's)`);
    return leaves(r);
  });
  const asTensor = (v: Tensor | number): Tensor => (v instanceof Tensor ? v : toTensor(v));
  const out = leaves(tree).map((l, k) => f(asTensor(l), ...others.map((o) => asTensor(o[k]!))));
  return rebuild(tree, out) as unknown as TensorTree<T>;
}
