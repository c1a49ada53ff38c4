// 工单队列: the list in scope with live countdowns, one-click 签收, and the detail panel.

import { actionForms, send } from "./actions.js";
import { ApiError, get, serverNow, url } from "./api.js";
import { $, fill, flash, h } from "./dom.js";
import { countdown, isFinished, span, when } from "./format.js";
import { attachmentList } from "./photos.js";

const PAGE = 50;

export function createQueue(session) {
  let offset = 0;
  let selected = null; // the order id shown in the detail panel
  let shownActions = "";
  let loading = null;

  function filters() {
    const state = $("filter-state").value;
    return {
      // "在办": every state still in the loop (挂账 included, it is still the town's).
      state: state === "" ? session.reference.open_states : state === "*" ? [] : [state],
      town: session.me.district ? $("filter-town").value : "",
      overdue: $("filter-overdue").checked,
      // 区中心代管: the orders the district centre runs for towns not onboarded.
      district_run: session.me.district && $("filter-district").checked ? "true" : "",
      q: $("filter-q").value.trim(),
      sort: $("filter-sort").value,
    };
  }

  function setup() {
    const stateSelect = $("filter-state");
    for (const [code, name] of Object.entries(session.reference.states)) {
      stateSelect.append(h("option", { value: code }, name));
    }
    if (session.me.district) {
      $("filter-town-label").hidden = false;
      $("filter-district-label").hidden = false;
      // The district centre's operator works those orders: its queue starts with them.
      $("filter-district").checked = session.me.role === "district_operator";
      for (const town of session.reference.towns) $("filter-town").append(h("option", { value: town.code }, town.name));
    }
    let typing;
    $("queue-filters").addEventListener("submit", (e) => e.preventDefault());
    $("queue-filters").addEventListener("change", () => { offset = 0; load(); });
    $("filter-q").addEventListener("input", () => {
      clearTimeout(typing);
      typing = setTimeout(() => { offset = 0; load(); }, 300);
    });
    $("page-prev").addEventListener("click", () => { offset = Math.max(0, offset - PAGE); load(); });
    $("page-next").addEventListener("click", () => { offset += PAGE; load(); });
    $("new-orders-notice").addEventListener("click", () => {
      $("new-orders-notice").hidden = true;
      offset = 0;
      load();
    });
  }

  /** Reload the visible page; concurrent calls share one request. */
  function load() {
    if (loading) return loading.then(() => load());
    loading = (async () => {
      const wanted = filters();
      $("orders-csv").href = url("/api/v1/orders", { ...wanted, format: "csv" });
      try {
        const page = await get("/api/v1/orders", { ...wanted, limit: PAGE, offset });
        render(page);
      } catch (error) {
        if (error.status !== 401) flash(error.message);
      }
    })().finally(() => { loading = null; });
    return loading;
  }

  function render(page) {
    $("order-total").textContent = `共 ${page.total} 条`;
    fill($("order-rows"), page.items.map(row));
    $("order-empty").hidden = page.items.length > 0;
    $("page-info").textContent = page.total ? `第 ${offset + 1}–${offset + page.items.length} 条` : "";
    $("page-prev").disabled = offset === 0;
    $("page-next").disabled = offset + page.items.length >= page.total;
    tick();
  }

  function row(order) {
    const canAck = order.allowed_actions.includes("acknowledge");
    const ackForm = canAck ? h("form", { class: "inline", novalidate: true }, h("button", {
      type: "submit", class: "primary small", "data-testid": "ack-button",
      "aria-label": `签收工单 ${order.order_id}` }, "签收")) : null;
    ackForm?.addEventListener("submit", (e) => {
      e.preventDefault();
      send(ackForm, order.order_id, { path: "acknowledge", body: {}, label: "签收" }, { done: afterCommand });
    });
    return h("tr", {
      "data-order-id": order.order_id, "data-testid": "order-row", "data-state": order.state,
      class: order.order_id === selected ? "selected" : null,
    },
    h("td", {}, h("button", { type: "button", class: "link", "data-testid": "order-open",
      onclick: () => open(order.order_id) }, order.order_id)),
    h("td", {}, order.town_name),
    h("td", {}, order.matter_type, order.priority !== "normal" ? h("span", { class: "tag" }, "紧急") : null),
    h("td", { class: "summary" }, order.summary, h("div", { class: "muted small" }, order.address)),
    h("td", {}, h("span", { class: `state state-${order.state}`, "data-testid": "order-state" }, order.state_name)),
    h("td", {}, clock(order)),
    h("td", {}, ackForm));
  }

  /** A countdown cell the 1-second tick keeps current. */
  function clock(order) {
    return h("span", { class: "countdown", "data-testid": "countdown", "data-order": JSON.stringify({
      opened_at: order.opened_at, clock: order.clock }) });
  }

  function tick() {
    const now = serverNow();
    for (const el of document.querySelectorAll(".countdown[data-order]")) {
      const shown = countdown(JSON.parse(el.dataset.order), now);
      el.textContent = shown ? shown.text : "—";
      el.dataset.level = shown ? shown.level : "none";
    }
  }

  async function afterCommand(order) {
    $("new-orders-notice").hidden = true; // the operator is at work on the queue: they have seen it
    await load();
    if (order && (selected === order.order_id || !selected)) show(order);
  }

  async function open(orderId) {
    // Opening the order already shown keeps its forms as they are: what the operator typed or picked.
    if (orderId !== selected) shownActions = "";
    selected = orderId;
    for (const tr of document.querySelectorAll("#order-rows tr")) {
      tr.classList.toggle("selected", tr.dataset.orderId === orderId);
    }
    await refreshDetail();
    $("order-detail").focus?.();
  }

  async function refreshDetail() {
    if (!selected) return;
    try {
      show(await get(`/api/v1/orders/${encodeURIComponent(selected)}`));
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        close();
        flash("该工单已转出本单位或无权查看");
      } else if (error.status !== 401) {
        flash(error.message);
      }
    }
  }

  function close() {
    selected = null;
    shownActions = "";
    $("order-detail").hidden = true;
    $("order-detail").replaceChildren();
  }

  /** Draw the order; the action forms are kept as they are (with what the user typed) unless they changed. */
  function show(order) {
    selected = order.order_id;
    const panel = $("order-detail");
    panel.hidden = false;
    panel.tabIndex = -1;
    const actionsKey = `${order.state}|${order.allowed_actions.join(",")}`;
    let actions = panel.querySelector("#detail-actions");
    if (!actions || actionsKey !== shownActions) {
      const forms = actionForms(order, { reference: session.reference, done: afterCommand });
      actions = h("section", { id: "detail-actions", "aria-label": "可执行操作" },
        forms.length ? forms : h("p", { class: "muted" }, isFinished(order.state) ? "工单已结束" : "当前无可执行操作"));
      shownActions = actionsKey;
    }
    const states = session.reference.states;
    panel.replaceChildren(
      h("div", { class: "section-head" },
        h("h3", { id: "detail-title" }, `工单 ${order.order_id}`),
        h("button", { type: "button", class: "small", "aria-label": "关闭详情", onclick: close }, "关闭")),
      h("p", {}, h("span", { class: `state state-${order.state}`, "data-testid": "detail-state" }, order.state_name),
        " ", clock(order)),
      h("dl", { class: "facts" },
        fact("镇街", order.town_name), fact("事项类型", order.matter_type), fact("简要情况", order.summary),
        fact("地址", order.address), fact("派单时间", when(order.opened_at)),
        fact("签收时限", when(order.deadlines.acknowledge)), fact("反馈时限", when(order.deadlines.report)),
        fact("办结时限", when(order.deadlines.resolve)), fact("退单次数", order.returns),
        fact("报警次数", order.reports)),
      h("h4", {}, "报警人"),
      order.callers.length ? h("ul", { class: "callers", "data-testid": "callers" }, order.callers.map((c) =>
        h("li", {}, when(c.received_at), " ", c.name || "（未留姓名）", " ", c.phone || "（未留电话）")))
        : h("p", { class: "muted" }, "无"),
      h("h4", {}, "警情信息"),
      h("ul", { class: "feed-incidents", "data-testid": "feed-incidents" }, order.incidents.map(feedIncident)),
      actions,
      h("h4", {}, "处置记录"),
      order.timeline.length ? h("ol", { class: "timeline", "data-testid": "timeline" },
        order.timeline.map((e) => entry(order.order_id, e, states))) : h("p", { class: "muted" }, "暂无记录"),
    );
    tick();
  }

  const fact = (term, value) => [h("dt", {}, term), h("dd", {}, value ?? "—")];

  /** One incident behind the order as the feed described it: what it adds is shown, never routed on. */
  function feedIncident(i) {
    const bits = [
      i.category_name || i.category_code ? `类别：${i.category_name || i.category_code}` : null,
      i.feed_priority && `警情级别：${i.feed_priority}`,
      i.disposition && `处警结果：${i.disposition}`,
      i.officer_initiated ? "民警主动发现" : null,
      ...Object.entries(i.attributes).map(([key, value]) => `${key}：${value}`),
    ].filter(Boolean);
    return h("li", { "data-incident": i.incident_id },
      when(i.received_at), ` 警情编号 ${i.incident_id} · ${i.source_system} · ${i.channel_name}`,
      bits.length ? h("div", { class: "small" }, bits.join("；")) : null);
  }

  function entry(orderId, e, states) {
    const d = e.details || {};
    const reason = d.reason_code
      ? session.reference.return_reasons.find((r) => r.code === d.reason_code)?.name || d.reason_code : null;
    const town = (code) => session.reference.towns.find((t) => t.code === code)?.name || code;
    const bits = [
      e.from_state && e.to_state && e.from_state !== e.to_state
        ? `${states[e.from_state] || e.from_state} → ${states[e.to_state] || e.to_state}` : null,
      reason && `原因：${reason}`,
      d.to_town && `转至：${town(d.to_town)}`,
      d.extension_s && `延期 ${span(d.extension_s)}`,
      d.satisfied !== undefined && (d.satisfied ? "群众满意" : "群众不满意"),
      d.text && `说明：${d.text}`,
    ].filter(Boolean);
    return h("li", { class: e.accepted ? "" : "rejected", "data-kind": e.kind },
      h("time", { datetime: e.at }, when(e.at)), " ",
      h("strong", {}, e.kind_name), e.accepted ? "" : "（未通过）",
      e.actor_user ? h("span", { class: "muted", title: e.actor_user }, ` · ${e.actor_name || e.actor_user}`) : null,
      bits.length ? h("div", { class: "small" }, bits.join("；")) : null,
      Array.isArray(d.attachments) && d.attachments.length ? attachmentList(orderId, d.attachments) : null);
  }

  function reset() {
    close();
    offset = 0;
    $("order-rows").replaceChildren();
    $("new-orders-notice").hidden = true;
  }

  return { setup, load, open, refreshDetail, tick, reset };
}
