// Browser builds leave the step-through page out (it bundles its own copy of the library):
// toHTML sees empty assets and says so (see page-assets.node.ts for the Node side).
/** Empty in browser builds: the page is made in Node. */
export function pageScript(): string {
  return "";
}
export const PAGE_STYLE: string = "";
