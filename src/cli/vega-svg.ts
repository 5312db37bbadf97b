import { ValueError } from "../core/errors.js";

/**
 * Renders a Vega-Lite spec to an SVG document headless (no canvas, no browser): compile to Vega, run a
 * view with the "none" renderer, serialise. vega and vega-lite are loaded only when a plot is asked for.
 * @param spec a Vega-Lite specification (v6 schema)
 * @returns the SVG text
 * @throws ValueError when vega or vega-lite is not installed (optional peer dependencies)
 */
export async function vegaLiteSvg(spec: object): Promise<string> {
  let vega: typeof import("vega"), vl: typeof import("vega-lite");
  try {
    [vega, vl] = await Promise.all([import("vega"), import("vega-lite")]);
  } catch (e) {
    // Optional peer dependencies: 12 MB with d3, needed only for plots, so not part of chainrule's install.
    const missing = (e as { code?: string }).code === "ERR_MODULE_NOT_FOUND" || /Cannot find (package|module)/.test(String(e));
    if (!missing) throw e;
    throw new ValueError("--plot needs the vega and vega-lite packages (about 12 MB), which chainrule does not install by default; run npm install vega vega-lite");
  }
  const compiled = vl.compile(spec as Parameters<typeof vl.compile>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
