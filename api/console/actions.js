// The action forms of one order: only those its `allowed_actions` permit for this user.
// Each form keeps one Idempotency-Key per intended action (the command and the button chosen):
// a double click or a retry after a network failure resends the same key, so the server applies
// the command at most once; choosing the other button of a two-way decision, or editing the form,
// is a different command and gets a new key.

import { newKey, request } from "./api.js";
import { flash, h } from "./dom.js";
import { attachedPhotos, photoPicker } from "./photos.js";

const field = (id, label, control) => h("div", { class: "field" }, h("label", { for: id }, label), control);
const note = (prefix, placeholder = "备注（可选）") =>
  field(`${prefix}-text`, "说明", h("textarea", { id: `${prefix}-text`, name: "text", rows: 2, maxlength: 4000,
    placeholder }));
const submit = (testid, label, attrs = {}) =>
  h("button", { type: "submit", class: attrs.class || "primary", "data-testid": testid, ...attrs }, label);

function townSelect(id, towns, exclude) {
  return h("select", { id, name: "target_town", required: true },
    h("option", { value: "" }, "请选择镇街"),
    towns.filter((t) => t.code !== exclude).map((t) => h("option", { value: t.code },
      t.onboarded ? t.name : `${t.name}（未上线，区中心代管）`)));
}

const text = (form) => form.elements.text?.value.trim() || null;

/**
 * The forms for `order`: `ctx.reference` gives towns and return reasons, `ctx.done(order, label)` is
 * called with the order after a command is accepted.
 */
export function actionForms(order, ctx) {
  const allowed = new Set(order.allowed_actions);
  const forms = [];
  const add = (id, title, body, toPayload) => {
    const form = h("form", { id, class: "action-form", "data-testid": id, novalidate: true },
      h("h4", {}, title), body,
      h("p", { class: "error form-error", role: "alert", hidden: true }));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (form.dataset.uploading) return invalid(form, "照片正在上传，请稍候再提交");
      const intent = toPayload(form, event.submitter);
      if (intent) send(form, order.order_id, { ...intent, choice: event.submitter?.value || "" }, ctx);
    });
    form.addEventListener("input", () => { forgetKey(form); });
    forms.push(form);
  };

  if (allowed.has("acknowledge")) {
    add("ack-form", "签收", submit("detail-ack", "签收"), () => ({ path: "acknowledge", body: {}, label: "签收" }));
  }
  if (allowed.has("report")) {
    add("report-form", "反馈处置情况", [
      field("report-text", "处置情况", h("textarea", { id: "report-text", name: "text", rows: 4, required: true,
        maxlength: 4000, placeholder: "到场时间、处置经过、结果", "data-testid": "report-text" })),
      photoPicker("report-photos", order.order_id, invalid),
      submit("report-submit", "提交反馈"),
    ], (form) => {
      const body = text(form);
      if (!body) return invalid(form, "请填写处置情况");
      return { path: "report", body: { text: body, attachments: attachedPhotos(form) }, label: "反馈" };
    });
  }
  if (allowed.has("request_return")) {
    add("return-form", "退单", [
      field("return-reason", "退单原因", h("select", { id: "return-reason", name: "reason_code", required: true,
        "data-testid": "return-reason" }, h("option", { value: "" }, "请选择退单原因"),
      ctx.reference.return_reasons.map((r) => h("option", { value: r.code }, r.name)))),
      note("return", "补充说明（可选）"),
      submit("return-submit", "申请退单", { class: "warn" }),
    ], (form) => {
      const code = form.elements.reason_code.value;
      if (!code) return invalid(form, "请选择退单原因");
      return { path: "return", body: { reason_code: code, text: text(form) }, label: "退单" };
    });
  }
  if (allowed.has("request_extension")) {
    add("extension-form", "申请延期", [
      field("extension-hours", "延长时长（小时）", h("input", { id: "extension-hours", name: "hours", type: "number",
        min: 0.5, max: 2160, step: 0.5, value: 24, required: true })),
      note("extension", "延期理由"),
      submit("extension-submit", "申请延期"),
    ], (form) => {
      const hours = Number(form.elements.hours.value);
      if (!(hours > 0)) return invalid(form, "请填写延长的小时数");
      return { path: "extension", body: { hours, text: text(form) }, label: "延期申请" };
    });
  }
  if (allowed.has("approve_report") || allowed.has("reject_report")) {
    add("review-form", "审核反馈", [note("review", "审核意见"),
      h("div", { class: "buttons" }, submit("review-approve", "审核通过", { value: "yes" }),
        submit("review-reject", "审核不通过（重办）", { value: "no", class: "warn" }))],
    (form, button) => ({ path: "review", body: { approved: button?.value === "yes", text: text(form) },
      label: button?.value === "yes" ? "审核通过" : "审核不通过" }));
  }
  if (allowed.has("record_callback")) {
    add("callback-form", "回访", [note("callback", "回访记录"), photoPicker("callback-photos", order.order_id, invalid),
      h("div", { class: "buttons" }, submit("callback-yes", "群众满意", { value: "yes" }),
        submit("callback-no", "不满意（重办）", { value: "no", class: "warn" }))],
    (form, button) => ({ path: "callback", body: { satisfied: button?.value === "yes", text: text(form),
      attachments: attachedPhotos(form) }, label: "回访" }));
  }
  if (allowed.has("approve_return") || allowed.has("reject_return")) {
    add("return-decision-form", "退单审核", [
      field("return-target", "改派至", townSelect("return-target", ctx.reference.towns, order.town_code)),
      note("return-decision", "审核意见"),
      h("div", { class: "buttons" }, submit("return-approve", "同意退单并改派", { value: "yes" }),
        submit("return-refuse", "退单驳回", { value: "no", class: "warn" }))],
    (form, button) => {
      const approved = button?.value === "yes";
      const target = form.elements.target_town.value;
      if (approved && !target) return invalid(form, "请选择改派的镇街");
      return { path: "return-decision", body: { approved, target_town: approved ? target : null, text: text(form) },
        label: approved ? "改派" : "退单驳回" };
    });
  }
  if (allowed.has("transfer")) {
    add("transfer-form", "转派", [
      field("transfer-target", "转派至", townSelect("transfer-target", ctx.reference.towns, order.town_code)),
      note("transfer"), submit("transfer-submit", "转派")],
    (form) => {
      const target = form.elements.target_town.value;
      if (!target) return invalid(form, "请选择转派的镇街");
      return { path: "transfer", body: { target_town: target, text: text(form) }, label: "转派" };
    });
  }
  if (allowed.has("approve_extension") || allowed.has("refuse_extension")) {
    add("extension-decision-form", "延期审批", [note("extension-decision", "审批意见"),
      h("div", { class: "buttons" }, submit("extension-approve", "同意延期", { value: "yes" }),
        submit("extension-refuse", "不同意延期", { value: "no", class: "warn" }))],
    (form, button) => ({ path: "extension-decision", body: { approved: button?.value === "yes", text: text(form) },
      label: "延期审批" }));
  }
  if (allowed.has("park")) {
    add("park-form", "挂账", [note("park", "挂账理由"), submit("park-submit", "挂账", { class: "warn" })],
      (form) => ({ path: "park", body: { text: text(form) }, label: "挂账" }));
  }
  if (allowed.has("unpark")) {
    add("unpark-form", "解除挂账", [note("unpark"), submit("unpark-submit", "解除挂账")],
      (form) => ({ path: "unpark", body: { text: text(form) }, label: "解除挂账" }));
  }
  if (allowed.has("merge")) {
    add("merge-form", "并单", [
      field("merge-into", "并入工单编号", h("input", { id: "merge-into", name: "into", maxlength: 32, required: true })),
      note("merge"), submit("merge-submit", "并单", { class: "warn" })],
    (form) => {
      const into = form.elements.into.value.trim();
      if (!into) return invalid(form, "请填写并入的工单编号");
      return { path: "merge", body: { into, text: text(form) }, label: "并单" };
    });
  }
  if (allowed.has("withdraw")) {
    add("withdraw-form", "撤单", [note("withdraw", "撤单理由"), submit("withdraw-submit", "撤单", { class: "danger" })],
      (form) => (window.confirm(`确定撤销工单 ${order.order_id}？撤单后不可恢复。`)
        ? { path: "withdraw", body: { text: text(form) }, label: "撤单" } : null));
  }
  return forms;
}

function invalid(form, message) {
  const box = form.querySelector(".form-error");
  box.textContent = message;
  box.hidden = false;
  return null;
}

function forgetKey(form) {
  delete form.dataset.key;
  delete form.dataset.keyFor;
}

/**
 * Run one command; while it is in flight the form's buttons are disabled. Its key is kept for
 * a retry of the same `path` and `choice` (the submit button's value) and renewed for another.
 */
export async function send(form, orderId, { path, body, label, choice = "" }, ctx) {
  if (form.dataset.busy) return;
  form.dataset.busy = "1";
  const buttons = [...form.querySelectorAll("button")];
  buttons.forEach((b) => { b.disabled = true; });
  const box = form.querySelector(".form-error");
  if (box) box.hidden = true;
  const keyFor = `${path}|${choice}`;
  if (!form.dataset.key || form.dataset.keyFor !== keyFor) {
    form.dataset.key = newKey();
    form.dataset.keyFor = keyFor;
  }
  try {
    const result = await request("POST", `/api/v1/orders/${encodeURIComponent(orderId)}/${path}`,
      { body, key: form.dataset.key });
    forgetKey(form);
    // A request (退单, 延期) or a report waits for someone's decision: it was sent, not yet done.
    const awaiting = ["return_requested", "extension_requested", "reported"].includes(result.order?.state);
    flash(result.status === "duplicate" ? `${label}已提交过，未重复执行`
      : awaiting ? `${label}已提交，待审核` : `${label}成功`, "ok");
    await ctx.done(result.order);
  } catch (error) {
    // A network failure keeps the key: pressing again retries the same command, not a second one.
    if (error.status !== 0) forgetKey(form);
    if (box) { box.textContent = error.message; box.hidden = false; }
    flash(error.message);
  } finally {
    delete form.dataset.busy;
    buttons.forEach((b) => { b.disabled = false; });
  }
}
