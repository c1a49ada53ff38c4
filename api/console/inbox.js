// 区中心待办 (district roles): incidents waiting to be placed in a town (待定位) and feed records that
// could not be read (死信). The dispatcher's desk places an incident in a town, merges it into an
// order or marks it police, and re-drives a dead letter after a fix; the supervisor reads.

import { get, request, serverNow, url } from "./api.js";
import { $, emptyRow, fill, flash, guarded, h, plain } from "./dom.js";
import { span, when } from "./format.js";

const DECIDERS = new Set(["district_dispatcher", "admin"]);

export function createInbox(session) {
  const decides = DECIDERS.has(session.me.role);
  let open = null; // the review item in the dialog

  function setup() {
    $("review-state").addEventListener("change", () => reviews());
    $("review-dialog-close").addEventListener("click", () => $("review-dialog").close());
    $("review-place").addEventListener("click", () => decide("place", { town_code: $("review-town").value }));
    $("review-merge").addEventListener("click", () => {
      const into = $("review-into").value.trim();
      if (!into) {
        $("review-dialog-error").textContent = "请填写并入的工单编号";
        $("review-dialog-error").hidden = false;
        return;
      }
      decide("merge", { into });
    });
    $("review-police").addEventListener("click", () => decide("police", {}));
  }

  async function load() {
    await Promise.all([reviews(), deadLetters()]);
  }

  const reviews = () => guarded(async () => {
    const state = $("review-state").value;
    $("reviews-csv").href = url("/api/v1/reviews", { state, format: "csv" });
    const rows = await get("/api/v1/reviews", { state });
    $("review-total").textContent = `${rows.length} 件`;
    const waiting = state === "open";
    fill($("review-rows"), rows.length ? rows.map((r) => h("tr", { "data-testid": "review-row", "data-review": r.review_id },
      h("td", {}, when(r.queued_at), waiting ? h("div", { class: "muted small" }, `已等待${waited(r.queued_at)}`) : null),
      h("td", {}, r.reason_name), h("td", {}, r.matter_type || "—"),
      h("td", { class: "summary" }, r.summary), h("td", {}, r.address || "—"),
      h("td", { class: "small" }, r.candidates.length ? `候选：${r.candidates.map((t) => t.name).join("、")}` : null,
        r.evidence.length ? h("div", { class: "muted" }, r.evidence.join("；")) : null),
      h("td", {}, waiting
        ? (decides ? h("button", { type: "button", class: "primary", "data-testid": "review-open",
          onclick: () => show(r) }, "处置") : "待区调度员处置")
        : [r.state_name, r.town_name ? `：${r.town_name}` : "",
          r.order_id ? h("div", {}, h("a", { href: `#/order/${encodeURIComponent(r.order_id)}` }, r.order_id)) : null,
          h("div", { class: "muted small" }, `${r.decided_by || ""} ${when(r.decided_at)}`)])))
      : [emptyRow(7, waiting ? "没有待定位的警情" : "暂无记录")]);
  });

  const deadLetters = () => guarded(async () => {
    $("dead-letters-csv").href = url("/api/v1/dead-letters", { format: "csv" });
    const rows = await get("/api/v1/dead-letters");
    $("dead-letter-total").textContent = `${rows.filter((d) => !d.redriven_at).length} 条待处理`;
    fill($("dead-letter-rows"), rows.length ? rows.map((d) => h("tr", { "data-testid": "dead-letter-row" },
      h("td", {}, when(d.dead_lettered_at)), h("td", {}, d.reason_name), h("td", { class: "summary small" }, d.detail),
      h("td", { class: "small" }, `${d.source_topic} #${d.partition ?? "—"}:${d.offset ?? "—"}`),
      h("td", {}, d.redriven_at ? `已重投（${when(d.redriven_at)}）` : d.redrives ? `重投 ${d.redrives} 次后仍无法读取` : "—"),
      h("td", {}, decides && !d.redriven_at ? h("button", { type: "button", "data-testid": "dead-letter-redrive",
        onclick: () => redrive(d) }, "重投") : null)))
      : [emptyRow(6, "没有死信")]);
  });

  function show(item) {
    open = item;
    const towns = session.reference.towns;
    const candidates = new Set(item.candidates.map((t) => t.code));
    // The evidence's candidates first, then every other town, in the bundle's order.
    const ordered = [...towns.filter((t) => candidates.has(t.code)), ...towns.filter((t) => !candidates.has(t.code))];
    fill($("review-town"), ordered.map((t) => h("option", { value: t.code },
      `${t.name}${candidates.has(t.code) ? "（候选）" : ""}${t.onboarded ? "" : "（区中心代管）"}`)));
    $("review-dialog-summary").textContent = plain(item.summary);
    $("review-dialog-meta").textContent = plain(`${item.reason_name} · ${item.matter_type || "—"} · 地址：${item.address || "无"}`);
    $("review-into").value = "";
    $("review-note").value = "";
    $("review-dialog-error").hidden = true;
    $("review-dialog").showModal();
  }

  async function decide(action, body) {
    if (action === "police" && !window.confirm("确认该警情属于警务事项，转回公安处置？")) return;
    const note = $("review-note").value.trim();
    try {
      const result = await request("POST", `/api/v1/reviews/${encodeURIComponent(open.review_id)}/${action}`,
        { body: { ...body, text: note || null } });
      $("review-dialog").close();
      flash(result.order_id ? `${result.state_name}：工单 ${result.order_id}` : result.state_name, "note");
      await reviews();
    } catch (error) {
      if (error.status === 401) return;
      $("review-dialog-error").textContent = error.message;
      $("review-dialog-error").hidden = false;
      if (error.status === 409) await reviews(); // decided meanwhile, by someone else
    }
  }

  async function redrive(letter) {
    try {
      await request("POST", `/api/v1/dead-letters/${letter.fingerprint}/redrive`);
      flash("已重投，等待重新读取", "note");
    } catch (error) {
      if (error.status !== 401) flash(error.message);
    }
    await deadLetters();
  }

  return { setup, load };
}

/** The board's line on what waits for the district, and the tab's count; nothing for town roles. */
export async function inboxSummary() {
  const summary = await get("/api/v1/inbox");
  const oldest = summary.review_oldest_at ? `，最久已等待${waited(summary.review_oldest_at)}` : "";
  return {
    waiting: summary.reviews_waiting + summary.dead_letters_waiting,
    text: `待定位 ${summary.reviews_waiting} 件${oldest}；死信 ${summary.dead_letters_waiting} 条`,
  };
}

/** How long since `iso`, by the server's clock: "2小时5分钟". */
const waited = (iso) => span((serverNow() - Date.parse(iso)) / 1000);
