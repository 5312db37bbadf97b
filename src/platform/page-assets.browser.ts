// Browser builds leave the step-through page out (it bundles its own copy of the library, 300 KB):
// toHTML sees empty assets and says so (see page-assets.node.ts for the Node side).
export const PAGE_SCRIPT: string = "";
export const PAGE_STYLE: string = "";
