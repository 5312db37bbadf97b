import { Tensor } from "../core/tensor.js";

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
