// 高发区域 in the cockpit: a town's areas (the district view: all of them), each with its incidents and the
// orders behind them, its 专项整治 and before/after counts; district leads mark an area for targeted work.

import { get, request } from "./api.js";
import { $, emptyRow, fill, flash, h, orderLink } from "./dom.js";
import { when } from "./format.js";

// Who may mark 专项整治 (the API's DISTRICT_LEADS, api/hotspots.py).
export const DISTRICT_LEADS = new Set(["district_supervisor", "district_dispatcher", "admin"]);
const OUTCOMES = { police: "转警务", work_order: "工单", review: "待定位" };

/** Fill #cockpit-hotspots with the areas of `town` (null: the whole district). */
export async function showHotspots(me, town) {
  const view = await get("/api/v1/hotspots", { town });
  const leads = DISTRICT_LEADS.has(me.role);
  const head = ["区域", ...(town ? [] : ["镇街"]), "事项类型", `近${view.window_days}天`, "预期", "专项整治", "警情与工单"];
  $("cockpit-hotspots").dataset.town = town || "district"; // which areas it shows, once they are there
  fill($("cockpit-hotspots"), [
    h("h3", {}, "高发区域"),
    h("p", { class: "muted small" }, `近 ${view.window_days} 天某类事项明显多于该地点此前 ${view.baseline_days} 天的水平`
      + `（至少 ${view.min_count} 起，P < ${view.p_value}）。`),
    h("div", { class: "table-wrap" }, h("table", { class: "cockpit-table", dataset: { testid: "hotspot-table" } },
      h("thead", {}, h("tr", {}, head.map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, view.areas.length ? view.areas.map((a) => area(a, town, leads, () => showHotspots(me, town)))
        : [emptyRow(head.length, "当前没有高发区域")]))),
  ]);
}

function area(a, town, leads, reload) {
  return h("tr", { dataset: { testid: "hotspot-row", place: a.place, matter: a.matter_type } },
    h("th", { scope: "row" }, a.place_name, a.hotspot ? null : h("span", { class: "muted small" }, "（已不属高发）")),
    town ? null : h("td", {}, a.town_name || "—"),
    h("td", {}, a.matter_type),
    h("td", { dataset: { testid: "hotspot-count" } }, String(a.count)),
    h("td", {}, a.expected === null ? "—" : a.expected.toFixed(1)),
    h("td", { dataset: { testid: "hotspot-campaign" } }, campaign(a.campaign), leads ? campaignForm(a, reload) : null),
    h("td", {}, incidents(a)));
}

function campaign(c) {
  if (!c) return h("span", { class: "muted" }, "未开展");
  const effect = c.fell === null ? "刚开始，尚无对比" : `${c.fell ? "下降" : "未下降"}`;
  return h("div", {}, h("strong", {}, "专项整治中"), h("br"), `责任单位：${c.responsible_unit}`, h("br"),
    `复查日期：${c.review_on}`, c.note ? [h("br"), `说明：${c.note}`] : null, h("br"),
    h("span", { dataset: { testid: "hotspot-effect" } },
      `整治前后各 ${c.days} 天：前 ${c.before} 起，后 ${c.after} 起（${effect}）`));
}

function incidents(a) {
  return h("details", {}, h("summary", {}, `${a.incidents.length} 起警情，${a.orders.length} 件工单`),
    h("ul", { class: "small" }, a.incidents.map((i) => h("li", {}, `${when(i.at)} ${OUTCOMES[i.outcome] || i.outcome} `,
      i.order_id ? orderLink(i.order_id) : null))));
}

/** 标记专项整治 (or change it): responsible unit, review date, note. */
function campaignForm(a, reload) {
  const c = a.campaign;
  const unit = h("input", { required: true, maxlength: 64, value: c?.responsible_unit, dataset: { testid: "campaign-unit" } });
  const review = h("input", { type: "date", required: true, value: c?.review_on, dataset: { testid: "campaign-review" } });
  const note = h("input", { maxlength: 500, value: c?.note, dataset: { testid: "campaign-note" } });
  const submit = h("button", { type: "submit", class: "small primary", dataset: { testid: "campaign-submit" } },
    c ? "更新" : "开展专项整治");
  async function save(event) {
    event.preventDefault();
    submit.disabled = true;
    try {
      await request("PUT", "/api/v1/hotspots/campaign", { body: { place: a.place, matter_type: a.matter_type,
        responsible_unit: unit.value.trim(), review_on: review.value, note: note.value.trim() || null } });
      flash(`已将${a.place_name}（${a.matter_type}）列入专项整治`, "ok");
      await reload();
    } catch (error) {
      if (error.status !== 401) flash(error.message);
      submit.disabled = false;
    }
  }
  return h("details", { class: "inline-form" }, h("summary", {}, c ? "修改专项整治" : "列入专项整治"),
    h("form", { onsubmit: save, dataset: { testid: "campaign-form" } },
      h("label", {}, "责任单位 ", unit), h("label", {}, "复查日期 ", review), h("label", {}, "说明 ", note), submit));
}
