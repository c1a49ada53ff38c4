// 监督看板: 红黄黑榜 and the month's key-dispute list, SLA alerts, figures by town and key disputes, each with
// its CSV export.

import { get, serverNow, url } from "./api.js";
import { createDisputeList } from "./disputes.js";
import { $, emptyRow, fill, flash, guarded, h, orderLink } from "./dom.js";
import { percent, pointsDelta, recentMonths, scoreDelta, thisMonth, when } from "./format.js";
import { inboxSummary } from "./inbox.js";

const ALERT_KINDS = { warning: "预警", breach: "超时", escalation: "督办" };
const ALERT_PAGE = 200; // rows per page of the alert log; 加载更多 adds another
// Who may print the district's 月度通报 (the API's DISTRICT_ROLES).
const REPORT_ROLES = new Set(["district_dispatcher", "district_supervisor", "district_operator", "admin"]);
const COUNTS = [["dispatched", "派单"], ["acknowledged", "签收"], ["reported", "反馈"], ["closed", "办结"],
  ["returned", "退单"], ["reopened", "重办"]];

export function createBoard(session) {
  let alertLimit = ALERT_PAGE;
  const reports = REPORT_ROLES.has(session.me.role);
  const disputeList = createDisputeList(session, () => disputes());

  function setup() {
    $("ranking-month").addEventListener("change", () => Promise.all([ranking(), monthList()]));
    disputeList.setup();
    $("alert-kind").addEventListener("change", () => { alertLimit = ALERT_PAGE; alerts(); });
    $("alerts-more").addEventListener("click", () => { alertLimit += ALERT_PAGE; alerts(); });
  }

  // The months up to the engine's own (serverNow), not the PC's: "this month" is the server's month.
  // A select, not <input type="month">: Safari and Firefox lack it, Chromium labels it in the OS locale.
  function months() {
    const select = $("ranking-month");
    const chosen = select.value;
    const options = recentMonths(25, new Date(serverNow()));
    fill(select, options.map((m) => h("option", { value: m.value }, m.label)));
    if (options.some((m) => m.value === chosen)) select.value = chosen;
  }

  async function load() {
    months();
    await Promise.all([ranking(), monthList(), alerts(), figures(), disputes(), misroutes(), inbox()]);
  }

  /** The chosen month's 重点矛盾纠纷清单. */
  const monthList = () => disputeList.load($("ranking-month").value || thisMonth(new Date(serverNow())));

  const ranking = () => guarded(async () => {
    const month = $("ranking-month").value || thisMonth(new Date(serverNow()));
    $("ranking-csv").href = url("/api/v1/rankings/monthly", { month, format: "csv" });
    // 月度通报 of the chosen month: the page to read or print, and the PDF ready to send.
    $("report-html").hidden = $("report-pdf").hidden = !reports;
    $("report-html").href = url(`/api/v1/reports/monthly/${month}`);
    $("report-pdf").href = url(`/api/v1/reports/monthly/${month}`, { format: "pdf" });
    const view = await get("/api/v1/rankings/monthly", { month });
    const indicators = Object.entries(view.indicators);
    $("ranking-weights").textContent = `${view.month} 月度考评，权重：` +
      indicators.map(([code, name]) => `${name} ${view.weights[code]}`).join("，") + "。括号内为同比（百分点）。";
    fill($("ranking-head"), [h("tr", {},
      ["名次", "镇街", "榜单", "得分", "得分同比", ...COUNTS.map(([, n]) => n), ...indicators.map(([, n]) => n)]
        .map((t) => h("th", { scope: "col" }, t)))]);
    const columns = 5 + COUNTS.length + indicators.length;
    // Best first; towns not graded (too few orders) after them, in the bundle's order.
    const lines = [...view.lines].sort((a, b) => (a.rank ?? Infinity) - (b.rank ?? Infinity));
    fill($("ranking-rows"), lines.length ? lines.map((line) => h("tr", {
      "data-testid": "ranking-row", "data-town": line.town_code, "data-grade": line.grade },
    h("td", {}, line.rank ?? "—"),
    h("th", { scope: "row" }, line.town_name),
    h("td", {}, h("span", { class: `grade grade-${line.grade}`, "data-testid": "ranking-grade" }, line.grade_name)),
    h("td", { "data-testid": "ranking-score" }, line.score === null ? "—" : line.score.toFixed(1)),
    h("td", { class: trendClass(line.trend_score) }, scoreDelta(line.trend_score)),
    COUNTS.map(([key]) => h("td", { "data-count": key }, line[key])),
    indicators.map(([code]) => h("td", { "data-rate": code }, percent(line.rates[code]),
      line.trend_rates[code] !== null && line.trend_rates[code] !== undefined
        ? h("span", { class: "muted small" }, `（${pointsDelta(line.trend_rates[code])}）`) : null))))
      : [emptyRow(columns, "本月暂无数据")]);
  });

  const alerts = () => guarded(async () => {
    const kind = $("alert-kind").value;
    $("alerts-csv").href = url("/api/v1/alerts", { kind, format: "csv" });
    const rows = await get("/api/v1/alerts", { kind, limit: alertLimit });
    $("alerts-more").hidden = rows.length < alertLimit; // a full page: there may be more
    fill($("alert-rows"), rows.length ? rows.map((a) => h("tr", { "data-testid": "alert-row", "data-kind": a.kind },
      h("td", {}, when(a.at)),
      h("td", {}, h("span", { class: `alert alert-${a.kind.split(".")[0].replace(/_\d+$/, "")}` }, a.kind_name)),
      h("td", {}, a.town_name), h("td", {}, orderLink(a.order_id)), h("td", {}, a.matter_type),
      h("td", { class: "summary" }, a.summary)))
      : [emptyRow(6, kind ? `近30天无${ALERT_KINDS[kind]}` : "近30天无预警、超时或督办")]);
  });

  const figures = () => guarded(async () => {
    $("figures-csv").href = url("/api/v1/towns/figures", { format: "csv" });
    const rows = await get("/api/v1/towns/figures");
    fill($("figure-rows"), rows.length ? rows.map((f) => h("tr", { "data-testid": "figure-row", "data-town": f.town_code },
      h("th", { scope: "row" }, f.town_name),
      ["orders", "open", "awaiting_ack", "overdue", "closed", "breaches", "escalations"].map((k) =>
        h("td", { "data-figure": k, class: k === "overdue" && f[k] ? "bad" : null }, f[k]))))
      : [emptyRow(8, "暂无工单")]);
  });

  const disputes = () => guarded(async () => {
    $("disputes-csv").href = url("/api/v1/disputes", { format: "csv" });
    const rows = await get("/api/v1/disputes");
    fill($("dispute-rows"), rows.length ? rows.map((d) => h("tr", { "data-testid": "dispute-row" },
      h("td", {}, orderLink(d.order_id)), h("td", {}, d.town_name), h("td", {}, d.matter_type), h("td", {}, d.reports),
      h("td", {}, d.responsible_leader || "待指定"), h("td", {}, d.responsible_unit || "待指定"),
      h("td", {}, d.responsible_person || "待指定"), h("td", {}, when(d.resolution_due)),
      h("td", {}, d.state_name)))
      : [emptyRow(9, "暂无重点矛盾纠纷")]);
  });

  // District roles only: a town's board has no such card (the API answers 403).
  async function misroutes() {
    try {
      const rows = await get("/api/v1/misroutes", { months: 3 });
      $("misroutes-card").hidden = false;
      $("misroutes-csv").href = url("/api/v1/misroutes", { months: 3, format: "csv" });
      fill($("misroute-rows"), rows.length ? rows.map((m) => h("tr", { "data-testid": "misroute-row" },
        h("td", {}, m.month), h("td", {}, m.rule_id), h("td", {}, m.wrong_town), h("td", {}, m.police),
        h("td", {}, m.total)))
        : [emptyRow(5, "近三个月没有误派")]);
    } catch (error) {
      if (error.status === 403) $("misroutes-card").hidden = true;
      else if (error.status !== 401) flash(error.message);
    }
  }

  // District roles only, like the misroutes: what waits in 区中心待办, linking there.
  async function inbox() {
    try {
      $("board-inbox-text").textContent = (await inboxSummary()).text;
      $("board-inbox").hidden = false;
    } catch (error) {
      if (error.status === 403) $("board-inbox").hidden = true;
      else if (error.status !== 401) flash(error.message);
    }
  }

  return { setup, load };
}

function trendClass(delta) {
  if (delta === null || delta === undefined || delta === 0) return null;
  return delta > 0 ? "up" : "down";
}
