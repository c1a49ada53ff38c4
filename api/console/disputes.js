// 重点矛盾纠纷清单 on the board: the month's key-dispute list. District leads issue it (下发) and assign each
// dispute's 包案领导, unit, person and deadline; everyone sees its progress (化解 / 结转) and the figures
// per town; a town sees its own list, read-only.

import { get, request } from "./api.js";
import { $, emptyRow, fill, flash, guarded, h, orderLink } from "./dom.js";
import { fromLocalInput, localInput, percent, when } from "./format.js";
import { DISTRICT_LEADS } from "./hotspots.js";

/** `changed` runs after an issue or assignment (the board's other key-dispute card shows the same people). */
export function createDisputeList(session, changed) {
  const leads = DISTRICT_LEADS.has(session.me.role);
  let month = null;

  const load = (chosen) => guarded(async () => {
    month = chosen;
    const view = await get(`/api/v1/dispute-lists/${month}`);
    $("dispute-list-title").textContent = `${view.month} 重点矛盾纠纷清单`;
    $("dispute-list-status").textContent = view.issued ? "已下发" : "本月清单尚未下发";
    $("dispute-list-issue").hidden = $("dispute-list-assign").hidden = !leads;
    $("dispute-list-issue").textContent = view.issued ? "补充下发" : "下发本月清单";
    fill($("dispute-list-rows"), view.disputes.length ? view.disputes.map(row)
      : [emptyRow(leads ? 9 : 8, view.issued ? "本月清单为空" : "本月清单尚未下发")]);
    fill($("dispute-list-figures"), view.figures.map((f) => h("tr", {
      dataset: { testid: "dispute-figure", town: f.town_code || "total" } },
    h("th", { scope: "row" }, f.town_name), h("td", {}, f.issued), h("td", {}, f.resolved), h("td", {}, percent(f.rate)))));
  });

  function row(d) {
    return h("tr", { dataset: { testid: "dispute-list-row", order: d.order_id } },
      h("td", {}, orderLink(d.order_id),
        d.carried_over ? h("span", { class: "dispute-tag", dataset: { testid: "carried-over" } }, "结转") : null),
      h("td", {}, d.town_name), h("td", {}, d.matter_type), h("td", {}, d.reports),
      h("td", { class: "summary" }, d.summary),
      h("td", { dataset: { testid: "dispute-progress" } }, progress(d)),
      h("td", {}, when(d.resolution_due)),
      h("td", { dataset: { testid: "dispute-assignee" } }, assignee(d)),
      leads ? h("td", {}, assignForm(d)) : null);
  }

  function progress(d) {
    if (d.resolved) return h("span", { class: "resolved" }, `已化解（${when(d.resolved_at)}）`);
    return h("span", { class: d.overdue ? "overdue" : null }, `${d.overdue ? "已超期，" : ""}未化解 · ${d.state_name}`);
  }

  function assignee(d) {
    return [`包案领导：${d.responsible_leader || "待指定"}`, `责任单位：${d.responsible_unit || "待指定"}`,
      `责任人：${d.responsible_person || "待指定"}`].flatMap((line, i) => (i ? [h("br"), line] : [line]));
  }

  /** 包案: one dispute's leader, unit, person and deadline. */
  function assignForm(d) {
    const input = (testid, value, attrs = {}) => h("input", { required: true, maxlength: 64, value, dataset: { testid }, ...attrs });
    const leader = input("assign-leader", d.responsible_leader);
    const unit = input("assign-unit", d.responsible_unit);
    const person = input("assign-person", d.responsible_person);
    const due = input("assign-due", localInput(d.resolution_due), { type: "datetime-local", maxlength: null });
    const submit = h("button", { type: "submit", class: "small primary", dataset: { testid: "assign-submit" } }, "保存");
    async function save(event) {
      event.preventDefault();
      submit.disabled = true;
      try {
        await request("PUT", `/api/v1/dispute-lists/${month}/${encodeURIComponent(d.order_id)}`, { body: {
          responsible_leader: leader.value.trim(), responsible_unit: unit.value.trim(),
          responsible_person: person.value.trim(), resolution_due: fromLocalInput(due.value) } });
        flash(`已更新 ${d.order_id} 的包案信息`, "ok");
        await Promise.all([load(month), changed()]);
      } catch (error) {
        if (error.status !== 401) flash(error.message);
        submit.disabled = false;
      }
    }
    return h("details", { class: "inline-form" }, h("summary", {}, "包案"),
      h("form", { onsubmit: save, dataset: { testid: "assign-form" } }, h("label", {}, "包案领导 ", leader),
        h("label", {}, "责任单位 ", unit), h("label", {}, "责任人 ", person), h("label", {}, "化解期限 ", due), submit));
  }

  async function issue() {
    const button = $("dispute-list-issue");
    button.disabled = true;
    try {
      const result = await request("POST", `/api/v1/dispute-lists/${month}`);
      flash(`已下发 ${result.month} 清单，新增 ${result.added} 件`, "ok");
      await Promise.all([load(month), changed()]);
    } catch (error) {
      if (error.status !== 401) flash(error.message);
    } finally {
      button.disabled = false;
    }
  }

  function setup() {
    $("dispute-list-issue").addEventListener("click", issue);
  }

  return { setup, load };
}
