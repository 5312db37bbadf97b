import type { EpochStats } from "../nn/train.js";
import { vegaLiteSvg } from "./vega-svg.js";

/**
 * Loss and accuracy curves of a training run as an SVG document: a Vega-Lite spec (two stacked line
 * charts), compiled to Vega and rendered headless. vega and vega-lite are imported only when a plot is asked for.
 */
export async function curvesSvg(history: readonly EpochStats[], title: string): Promise<string> {
  const rows = history.flatMap((s) => [
    { epoch: s.epoch, chart: "loss", series: "train loss", value: s.trainLoss },
    { epoch: s.epoch, chart: "loss", series: "test loss", value: s.testLoss },
    { epoch: s.epoch, chart: "accuracy", series: "train accuracy", value: s.trainAccuracy },
    { epoch: s.epoch, chart: "accuracy", series: "test accuracy", value: s.testAccuracy },
  ]);
  const panel = (chart: string, label: string, format: string) => ({
    title: label,
    width: 420,
    height: 180,
    transform: [{ filter: { field: "chart", equal: chart } }],
    mark: { type: "line", point: true },
    encoding: {
      x: { field: "epoch", type: "quantitative", axis: { tickMinStep: 1, format: "d" }, title: "epoch" },
      y: { field: "value", type: "quantitative", scale: { zero: false }, axis: { format }, title: label },
      color: { field: "series", type: "nominal", title: null },
    },
  });
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    data: { values: rows },
    vconcat: [panel("loss", "cross-entropy", ".3f"), panel("accuracy", "accuracy", ".1%")],
    resolve: { scale: { color: "independent" } },
  };
  return vegaLiteSvg(spec);
}
