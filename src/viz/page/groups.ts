// Modules on the page: nodes recorded under a scope ("MLP/Linear0", from nameScope and the nn modules) can be
// drawn as one box per module. The page keeps a set of collapsed scopes; this file works out what is drawn
// where. A node inside a collapsed scope is drawn as part of that scope's box (the outermost collapsed one);
// every scope that is not collapsed and not inside a collapsed one is drawn as a frame around its contents.
import type { Graph } from "./model.js";

/** A collapsed module, drawn as one box. */
export interface Group {
  scope: string;
  /** The last part of the path: "Linear0" for "MLP/Linear0". */
  label: string;
  /** Nodes drawn inside the box, in execution order. */
  members: number[];
  /** How many of them are recorded ops. */
  ops: number;
  /** Members whose value leaves the box (used by a node outside it, or the graph's output). */
  outputs: number[];
}

/** What is drawn for a given set of collapsed scopes. */
export interface Grouping {
  /** Per node: the key of the box it is drawn in, `n<id>` for its own box or `g:<scope>` for a module's. */
  unit: string[];
  /** Collapsed modules drawn as boxes, in order of their first member. */
  groups: Group[];
  /** Expanded scopes drawn as frames, outer before inner. */
  frames: string[];
  /** The frame each box (by key) sits in; boxes at top level are absent. */
  parent: Map<string, string>;
}

/** The key of node `id`'s own box. */
export const nodeUnit = (id: number): string => `n${id}`;
/** The key of a collapsed module's box. */
export const groupUnit = (scope: string): string => `g:${scope}`;

/** The enclosing scope ("MLP" for "MLP/Linear0"), or null at top level. */
export function parentScope(scope: string): string | null {
  const i = scope.lastIndexOf("/");
  return i < 0 ? null : scope.slice(0, i);
}

/** Whether `scope` is `prefix` or inside it. */
export function within(scope: string | null, prefix: string): boolean {
  return scope !== null && (scope === prefix || scope.startsWith(prefix + "/"));
}

/** Every scope of the graph with its enclosing scopes, outer before inner, in order of first appearance. */
export function scopePaths(g: Graph): string[] {
  const seen = new Set<string>();
  for (const n of g.nodes) {
    if (!n.scope) continue;
    const parts = n.scope.split("/");
    for (let i = 1; i <= parts.length; i++) seen.add(parts.slice(0, i).join("/"));
  }
  return [...seen];
}

/** The scopes directly inside `scope` (or the top-level scopes for null). */
export function childScopes(g: Graph, scope: string | null): string[] {
  return scopePaths(g).filter((s) => parentScope(s) === scope);
}

/** The outermost collapsed scope that contains `scope`, or null. */
function collapsedAt(scope: string | null, collapsed: ReadonlySet<string>): string | null {
  if (scope === null) return null;
  const parts = scope.split("/");
  for (let i = 1; i <= parts.length; i++) {
    const p = parts.slice(0, i).join("/");
    if (collapsed.has(p)) return p;
  }
  return null;
}

/**
 * Works out the boxes and frames for a set of collapsed scopes. Ops go where their scope says. Inputs
 * stay outside every module (their gradients stay visible). A scalar constant used only inside one box
 * goes into it (a literal such as the 8 of a mean is part of the formula); other constants (a data
 * batch, targets) stay visible, with an edge into the module.
 */
export function groupGraph(g: Graph, collapsed: ReadonlySet<string>): Grouping {
  const unit: string[] = g.nodes.map((n) => {
    const c = n.kind === "op" ? collapsedAt(n.scope, collapsed) : null;
    return c === null ? nodeUnit(n.id) : groupUnit(c);
  });
  const consumers: number[][] = g.nodes.map(() => []);
  for (const n of g.nodes) for (const k of n.inputs) consumers[k]!.push(n.id);
  for (const n of g.nodes) {
    if (n.kind !== "const" || n.value.shape.length !== 0) continue;
    const homes = new Set(consumers[n.id]!.map((c) => unit[c]!));
    const only = homes.size === 1 ? [...homes][0]! : null;
    if (only !== null && only.startsWith("g:")) unit[n.id] = only;
  }
  const byScope = new Map<string, Group>();
  for (const n of g.nodes) {
    const u = unit[n.id]!;
    if (!u.startsWith("g:")) continue;
    const scope = u.slice(2);
    let grp = byScope.get(scope);
    if (!grp) {
      grp = { scope, label: scope.slice(scope.lastIndexOf("/") + 1), members: [], ops: 0, outputs: [] };
      byScope.set(scope, grp);
    }
    grp.members.push(n.id);
    if (n.kind === "op") grp.ops++;
    if (n.id === g.output || consumers[n.id]!.some((c) => unit[c] !== u)) grp.outputs.push(n.id);
  }
  const frames = scopePaths(g).filter((s) => collapsedAt(s, collapsed) === null);
  const parent = new Map<string, string>();
  for (const n of g.nodes) {
    const u = unit[n.id]!;
    if (u !== nodeUnit(n.id)) continue;
    // An op sits in the frame of its own scope; a scalar constant in the frame all its consumers share.
    const scalarConst = n.kind === "const" && n.value.shape.length === 0;
    const home = n.kind === "op" ? n.scope : scalarConst ? sharedScope(consumers[n.id]!.map((c) => g.nodes[c]!.scope)) : null;
    if (home !== null && collapsedAt(home, collapsed) === null) parent.set(u, home);
  }
  for (const s of byScope.keys()) {
    const p = parentScope(s);
    if (p !== null) parent.set(groupUnit(s), p);
  }
  return { unit, groups: [...byScope.values()], frames, parent };
}

function sharedScope(scopes: (string | null)[]): string | null {
  if (scopes.length === 0) return null;
  const first = scopes[0]!;
  return scopes.every((s) => s === first) ? first : null;
}

/** Collapses every top-level module (the page's "Collapse modules"). */
export function collapseAll(g: Graph): Set<string> {
  return new Set(childScopes(g, null));
}

/** Opens one collapsed module one level: its own ops appear, the modules inside it stay collapsed. */
export function expandScope(g: Graph, collapsed: ReadonlySet<string>, scope: string): Set<string> {
  const next = new Set(collapsed);
  next.delete(scope);
  for (const c of childScopes(g, scope)) next.add(c);
  return next;
}

/** Collapses one expanded module (clicking its frame), forgetting the state of the modules inside it. */
export function collapseScope(collapsed: ReadonlySet<string>, scope: string): Set<string> {
  const next = new Set([...collapsed].filter((s) => !within(s, scope)));
  next.add(scope);
  return next;
}
