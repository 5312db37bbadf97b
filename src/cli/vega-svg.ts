/**
 * Renders a Vega-Lite spec to an SVG document headless (no canvas, no browser): compile to Vega, run a
 * view with the "none" renderer, serialise. vega and vega-lite are loaded only when a plot is asked for.
 * @param spec a Vega-Lite specification (v6 schema)
 * @returns the SVG text
 */
export async function vegaLiteSvg(spec: object): Promise<string> {
  const [vega, vl] = await Promise.all([import("vega"), import("vega-lite")]);
  const compiled = vl.compile(spec as Parameters<typeof vl.compile>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
