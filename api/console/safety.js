// 平安指数 in the cockpit: each village of a town (the district view: each town) for a month, its band in
// words as well as colour (cockpit.css colours the bundle's default band names), and what took points off
// (docs/safety_index.md).

import { get } from "./api.js";
import { $, emptyRow, fill, h } from "./dom.js";

/** Fill #cockpit-safety for `month` (YYYY-MM): the villages of `town`, or the towns when it is null. */
export async function showSafety(month, town) {
  const view = await get("/api/v1/safety-index", { month, town });
  const lines = town ? view.villages.filter((v) => v.town_code === town) : view.towns;
  fill($("cockpit-safety"), [
    h("h3", {}, `平安指数（${view.month}）`),
    h("p", { class: "muted small" }, "满分 100，按各项扣分；扣分项按扣分多少排列。"),
    h("div", { class: "table-wrap" }, h("table", { class: "cockpit-table", dataset: { testid: "safety-table" } },
      h("thead", {}, h("tr", {}, [town ? "村社" : "镇街", "平安指数", "等级", "扣分项"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, lines.length ? lines.map((line) => h("tr", { dataset: { testid: "safety-row", code: line.unit_code } },
        h("th", { scope: "row" }, line.unit_name),
        h("td", { dataset: { testid: "safety-index" } }, line.index.toFixed(1)),
        h("td", {}, h("span", { class: "band", dataset: { testid: "safety-band", band: line.band } }, line.band)),
        h("td", { class: "losses" }, losses(line, view.components))))
        : [emptyRow(4, "本月暂无数据")]))),
  ]);
}

function losses(line, components) {
  const taken = Object.entries(line.losses).filter(([, points]) => points > 0).sort((a, b) => b[1] - a[1]);
  if (!taken.length) return "无扣分";
  return h("ul", { class: "small" }, taken.map(([code, points]) => h("li", { dataset: { testid: `loss-${code}` } },
    `${components[code] || code} −${points.toFixed(1)}`)));
}
