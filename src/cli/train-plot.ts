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

/**
 * NLL-per-character curves of a `train names` run as an SVG document: train and test NLL per epoch, with
 * the count-based bigram's test NLL as a dashed rule for comparison (Vega-Lite, rendered headless).
 */
export async function nllCurvesSvg(history: readonly { epoch: number; trainNLL: number; testNLL: number }[], bigramTestNLL: number, title: string): Promise<string> {
  const rows = history.flatMap((s) => [
    { epoch: s.epoch, series: "train NLL", value: s.trainNLL },
    { epoch: s.epoch, series: "test NLL", value: s.testNLL },
  ]);
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    width: 420,
    height: 220,
    layer: [
      {
        data: { values: rows },
        mark: { type: "line", point: true },
        encoding: {
          x: { field: "epoch", type: "quantitative", axis: { tickMinStep: 1, format: "d" }, title: "epoch" },
          y: { field: "value", type: "quantitative", scale: { zero: false }, axis: { format: ".2f" }, title: "NLL per character (nats)" },
          color: { field: "series", type: "nominal", title: null },
        },
      },
      {
        data: { values: [{ value: bigramTestNLL, label: `bigram test NLL ${bigramTestNLL.toFixed(3)}` }] },
        layer: [
          { mark: { type: "rule", strokeDash: [4, 4], color: "gray" }, encoding: { y: { field: "value", type: "quantitative" } } },
          { mark: { type: "text", align: "right", dy: -6, color: "gray", x: "width" }, encoding: { y: { field: "value", type: "quantitative" }, text: { field: "label" } } },
        ],
      },
    ],
  };
  return vegaLiteSvg(spec);
}
