// 驾驶舱: the district → town → village cockpit, each figure drilling down to the orders behind it.
// Charts use the vendored Apache ECharts with its SVG renderer (the console's CSP is default-src 'self').

import * as echarts from "./vendor/echarts/echarts.esm.min.js";
import { get, url } from "./api.js";
import { $, fill, guarded, h } from "./dom.js";
import { showHotspots } from "./hotspots.js";
import { showSafety } from "./safety.js";

const RATES = ["acknowledge_on_time", "report_on_time", "resolution", "satisfaction", "diverted"];
const COUNTS = [["received", "接警数"], ["dispatched", "派单数"], ["closed", "办结数"], ["returned", "退单数"],
  ["reopened", "重办数"], ["breached", "超时工单"], ["escalated", "督办工单"], ["open_disputes", "在办重点纠纷"]];
const percent = (rate) => (rate === null || rate === undefined ? "—" : `${(rate * 100).toFixed(1)}%`);

/** The cockpit view; `session.me` decides where it starts (a town role: its own town). */
export function createCockpit(session) {
  const me = session.me;
  const state = { town: null, village: null, from: "", to: "" };
  const charts = [];

  function path() {
    if (state.village) return `/api/v1/cockpit/towns/${state.town}/villages/${state.village}`;
    if (state.town) return `/api/v1/cockpit/towns/${state.town}`;
    return "/api/v1/cockpit/district";
  }

  function period() {
    const p = {};
    if (state.from) p.from = state.from;
    if (state.to) p.to = state.to;
    return p;
  }

  function go(town, village) {
    state.town = town;
    state.village = village;
    return load();
  }

  async function load() {
    if (me.unit_code && !state.town && !["district_dispatcher", "district_supervisor", "district_operator",
      "admin"].includes(me.role)) state.town = me.unit_code;
    const view = await get(path(), period());
    render(view);
    drawMap(view, await townMap());
    await panels(view);
  }

  let areas = null; // the towns' boundaries the caller may see, fetched once: none, no map

  async function townMap() {
    if (areas === null) {
      const found = await get("/api/v1/cockpit/map");
      if (found.features.length) echarts.registerMap("fengqiao", found);
      areas = found.features;
    }
    return areas;
  }

  /** The towns on their boundaries, each labelled with its name and 派单数 (colour is not the only signal). */
  function drawMap(view, features) {
    const el = $("cockpit-map");
    el.hidden = !features.length || view.level === "village";
    if (el.hidden) return;
    const shown = view.level === "district" ? view.units : [{ ...view.total, code: view.code }];
    const byCode = Object.fromEntries(shown.map((u) => [u.code, u]));
    const names = Object.fromEntries(features.map((f) => [f.properties.town_code, f.properties.name]));
    const counted = (p) => Number.isFinite(p.value);
    chart(el, {
      title: { text: "派单数分布（标签为镇街与派单数）", textStyle: { fontSize: 14 } },
      tooltip: { formatter: (p) => (counted(p) ? `${names[p.name]}：派单 ${p.value} 件，办结率 `
        + `${percent(byCode[p.name].rates.resolution)}` : names[p.name]) },
      visualMap: { min: 0, max: Math.max(1, ...shown.map((u) => u.dispatched)), text: ["多", "少"],
        left: 0, bottom: 0 },
      series: [{ type: "map", map: "fengqiao", nameProperty: "town_code", roam: false, selectedMode: false,
        data: features.filter((f) => byCode[f.properties.town_code]).map((f) => ({
          name: f.properties.town_code, value: byCode[f.properties.town_code].dispatched })),
        label: { show: true, formatter: (p) => (counted(p) ? `${names[p.name]}\n${p.value} 件` : names[p.name]) } }],
    });
    const drawn = charts[charts.length - 1];
    if (view.level === "district") drawn.on("click", (p) => { if (names[p.name]) go(p.name, null); });
  }

  /** 高发区域 and 平安指数 (of the period's last month) beside the town's figures; the district's own. */
  async function panels(view) {
    if (view.level === "village") return;
    const town = view.level === "town" ? view.code : null;
    await Promise.all([guarded(() => showHotspots(me, town)), guarded(() => showSafety(view.period_to, town))]);
  }

  function crumbs(view) {
    const trail = [];
    const district = !["town_operator", "town_leader"].includes(me.role);
    if (district) trail.push(h("a", { href: "#/cockpit", onclick: (e) => { e.preventDefault(); go(null, null); } }, "全区"));
    if (view.town_code) {
      trail.push(h("a", { href: "#/cockpit", dataset: { testid: "crumb-town" },
        onclick: (e) => { e.preventDefault(); go(view.town_code, null); } }, view.level === "town" ? view.name : "镇街"));
    }
    if (view.level === "village") trail.push(h("span", {}, view.name));
    return trail.flatMap((node, i) => (i ? [" › ", node] : [node]));
  }

  // The orders behind a figure: of the view's whole, or of one unit's row (a town, the district centre, a village).
  function drill(figure, value, unit) {
    const params = { ...period(), figure, limit: 500 };
    if (state.town) params.town = state.town;
    if (state.village) params.village = state.village;
    if (unit) params[state.town ? "village" : "town"] = unit;
    return h("a", { href: "#/cockpit", class: "drill", dataset: { testid: `drill-${figure}` },
      onclick: async (e) => { e.preventDefault(); await showOrders(params, figure); } }, String(value));
  }

  async function showOrders(params, figure) {
    const page = await get("/api/v1/orders", params);
    fill($("cockpit-orders"), [
      h("h3", {}, `工单明细（${Object.fromEntries(COUNTS)[figure] || figure}，共 ${page.total} 件）`),
      h("ul", { dataset: { testid: "cockpit-order-list" } }, page.items.map((o) => h("li", {},
        h("a", { href: `#/order/${encodeURIComponent(o.order_id)}` }, o.order_id), ` ${o.state_name} ${o.summary}`))),
    ]);
  }

  function unitRow(unit, view) {
    const child = view.level === "district" ? () => go(unit.code, null) : () => go(state.town, unit.code);
    // A town not onboarded: the district centre works and is charged with its orders (docs/cockpit.md).
    const districtRun = view.level === "district"
      && session.reference.towns.some((t) => t.code === unit.code && !t.onboarded);
    // The district centre's own line (its dispatches for towns not onboarded) has no view below it.
    const centre = view.level === "district" && unit.code === view.code;
    const name = centre ? h("span", { title: "区中心代办未接入镇街工单的派单及时效" }, unit.name)
      : h("a", { href: "#/cockpit", onclick: (e) => { e.preventDefault(); child(); } }, unit.name);
    return h("tr", { dataset: { testid: "cockpit-unit", code: unit.code } },
      h("th", {}, name,
        districtRun ? h("span", { class: "muted small", title: "未接入镇街：工单由区中心代办，派单及时效计入区中心" },
          "（区中心代管）") : null),
      ...COUNTS.map(([key]) => h("td", {}, unit[key] ? drill(key, unit[key], unit.code) : "0")),
      ...RATES.map((key) => h("td", {}, percent(unit.rates[key]))));
  }

  function chart(el, option) {
    const c = echarts.init(el, null, { renderer: "svg", locale: "ZH" });
    c.setOption({ animation: false, aria: { enabled: true, decal: { show: true } }, ...option });
    charts.push(c);
  }

  function render(view) {
    charts.splice(0).forEach((c) => c.dispose());
    $("cockpit-title").textContent = `${view.name} 驾驶舱（${view.period_from} 至 ${view.period_to}）`;
    fill($("cockpit-crumbs"), crumbs(view));
    $("cockpit-csv").href = url(path(), { ...period(), format: "csv" });
    fill($("cockpit-cards"), [...COUNTS.map(([key, name]) => h("div", { class: "card figure", dataset: { testid: `total-${key}` } },
      h("span", {}, name), h("strong", {}, view.total[key] ? drill(key, view.total[key]) : "0"))),
    ...RATES.map((key) => h("div", { class: "card figure", dataset: { testid: `rate-${key}` } },
      h("span", {}, view.terms[key]), h("strong", {}, percent(view.total.rates[key]))))]);
    const head = h("tr", {}, h("th", {}, view.level === "district" ? "镇街" : "村社"),
      ...COUNTS.map(([, name]) => h("th", {}, name)), ...RATES.map((key) => h("th", {}, view.terms[key])));
    fill($("cockpit-units"), [h("thead", {}, head), h("tbody", {}, view.units.map((u) => unitRow(u, view)))]);
    $("cockpit-units").hidden = view.level === "village";
    $("cockpit-panels").hidden = view.level === "village";
    fill($("cockpit-orders"), []);
    const ranked = [...view.units].filter((u) => u.dispatched && u.code !== view.code)  // towns, not the centre
      .sort((a, b) => b.dispatched - a.dispatched);
    $("cockpit-rank").hidden = view.level === "village";
    if (view.level !== "village") {
      chart($("cockpit-rank"), {
        title: { text: "派单数排名（标签为办结率）", textStyle: { fontSize: 14 } },
        grid: { left: 120, right: 60 }, xAxis: { type: "value" },
        yAxis: { type: "category", inverse: true, data: ranked.map((u) => u.name) },
        series: [{ type: "bar", data: ranked.map((u) => u.dispatched),
          label: { show: true, position: "right",
            formatter: (p) => `${p.value} 件 · 办结 ${percent(ranked[p.dataIndex].rates.resolution)}` } }],
      });
    }
    chart($("cockpit-trend"), {
      title: { text: "近 12 个月趋势", textStyle: { fontSize: 14 } }, tooltip: { trigger: "axis" },
      legend: { top: 24 }, grid: { top: 60 }, xAxis: { type: "category", data: view.trend.map((p) => p.month) },
      yAxis: [{ type: "value", name: "件" }, { type: "value", name: "%", max: 100 }],
      series: [
        { name: "派单数", type: "line", symbol: "circle", data: view.trend.map((p) => p.dispatched), label: { show: true } },
        { name: "办结率", type: "line", symbol: "triangle", lineStyle: { type: "dashed" }, yAxisIndex: 1,
          data: view.trend.map((p) => (p.rates.resolution === null ? null : +(p.rates.resolution * 100).toFixed(1))) },
      ],
    });
    const last = view.trend[view.trend.length - 1];
    $("cockpit-change").textContent = last
      ? `${last.month} 办结率 ${percent(last.rates.resolution)}，同比 ${signed(last.year_on_year.resolution)}，环比 ${signed(last.month_on_month.resolution)}`
      : "";
    fill($("cockpit-ages"), view.open_orders.length ? [h("h3", {}, "在办工单（按状态、时长）"),
      h("ul", {}, view.open_orders.map((b) => h("li", {}, `${b.state_name} · ${b.band} 天：${b.orders} 件`)))] : []);
    fill($("cockpit-village"), view.level === "village" ? [
      h("p", { dataset: { testid: "repeat-callers" } }, `重复报警人：${view.repeat_callers} 人，共 ${view.repeat_caller_reports} 次`),
      h("h3", {}, "重复点位"), h("ul", {}, view.repeat_places.map((p) => h("li", {}, `${p.address}：${p.orders} 件`))),
      h("h3", {}, "按月、事项类型"), h("ul", {}, view.matters.map((m) => h("li", {}, `${m.month} ${m.matter_type}：${m.orders} 件`))),
    ] : []);
  }

  function signed(delta) {
    if (delta === null || delta === undefined) return "—";
    return `${delta >= 0 ? "+" : ""}${(delta * 100).toFixed(1)} 个百分点`;
  }

  function setup() {
    $("cockpit-period").addEventListener("submit", (e) => {
      e.preventDefault();
      state.from = $("cockpit-from").value;
      state.to = $("cockpit-to").value;
      load();
    });
  }

  return { setup, load, go };
}
