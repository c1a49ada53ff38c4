// Dates, durations, rates and the countdown rule, in zh-CN and Beijing time.

const ZONE = "Asia/Shanghai";
const stamp = new Intl.DateTimeFormat("zh-CN", {
  timeZone: ZONE, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
  hour12: false,
});

export function when(iso) {
  return iso ? stamp.format(new Date(iso)) : "—";
}

/** 3725 s → "01:02:05", 90061 s → "1天 01:01:01". */
export function duration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const days = Math.floor(s / 86400);
  const hms = [Math.floor((s % 86400) / 3600), Math.floor((s % 3600) / 60), s % 60]
    .map((n) => String(n).padStart(2, "0")).join(":");
  return days ? `${days}天 ${hms}` : hms;
}

/** A length of time in words, for a span people asked for: 172800 s → "2天", 108000 s → "1天6小时", 1800 s → "30分钟". */
export function span(seconds) {
  const s = Math.max(0, Math.round(seconds));
  const parts = [[Math.floor(s / 86400), "天"], [Math.floor((s % 86400) / 3600), "小时"], [Math.floor((s % 3600) / 60), "分钟"]]
    .filter(([n]) => n > 0).map(([n, unit]) => `${n}${unit}`);
  return parts.length ? parts.join("") : "0分钟";
}

// Finished states (办结, 撤单, 并单) come from GET /api/v1/reference (router/domain/lifecycle.py FINISHED).
let finished = new Set();

/** Take the state lists from the reference data; app.js calls it once after signing in. */
export function useReference(reference) {
  finished = new Set(reference.finished_states);
}

export function isFinished(state) {
  return finished.has(state);
}

/**
 * The deadline an order is racing now, as the server defines it (`order.clock`, router/domain/sla.py
 * RUNNING): 签收 until acknowledged, then 反馈; none while a 退单/延期 request or the report waits for a
 * decision, while parked, or once finished.
 */
export function nextDeadline(order) {
  return order.clock && order.clock.due ? { stage: order.clock.stage_name, due: order.clock.due } : null;
}

/**
 * The countdown's colour:
 *   red    ("over") — the deadline has passed;
 *   yellow ("warn") — less than 20% of the stage's window is left (the bundle's last SLA warning,
 *                     warn_at 0.8), or less than 30 minutes — but the 30 minutes never cover more
 *                     than the second half of a short window (a 30-minute 签收 turns yellow after 15);
 *   green  ("ok")   — otherwise.
 * The window runs from the order's dispatch (opened_at) to the deadline; a stage whose clock
 * started later (low priority: at 签收) is measured from dispatch all the same, a little early.
 */
export function countdown(order, now = Date.now()) {
  const next = nextDeadline(order);
  if (!next) return null;
  const due = Date.parse(next.due);
  const left = (due - now) / 1000;
  const window = Math.max(0, (due - Date.parse(order.opened_at)) / 1000);
  const warnBelow = Math.max(0.2 * window, Math.min(30 * 60, 0.5 * window));
  let level = "ok";
  if (left <= 0) level = "over";
  else if (left < warnBelow) level = "warn";
  const text = left <= 0 ? `${next.stage}已超时 ${duration(-left)}` : `${next.stage}剩余 ${duration(left)}`;
  return { level, text, stage: next.stage };
}

export function percent(rate) {
  return rate === null || rate === undefined ? "—" : `${(rate * 100).toFixed(1)}%`;
}

/** 同比 of a rate, in percentage points: 0.021 → "+2.1"; null → "". */
export function pointsDelta(delta) {
  if (delta === null || delta === undefined) return "";
  const points = delta * 100;
  return `${points > 0 ? "+" : ""}${points.toFixed(1)}`;
}

export function scoreDelta(delta) {
  if (delta === null || delta === undefined) return "—";
  return `${delta > 0 ? "+" : ""}${delta.toFixed(1)}`;
}

/** The `count` months up to this one, newest first: [{value: "2024-05", label: "2024年5月"}, ...]. */
export function recentMonths(count, now = new Date()) {
  let [year, month] = thisMonth(now).split("-").map(Number);
  const months = [];
  for (let i = 0; i < count; i += 1) {
    months.push({ value: `${year}-${String(month).padStart(2, "0")}`, label: `${year}年${month}月` });
    [year, month] = month === 1 ? [year - 1, 12] : [year, month - 1];
  }
  return months;
}

export function thisMonth(now = new Date()) {
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone: ZONE, year: "numeric", month: "2-digit" })
    .formatToParts(now);
  const get = (type) => parts.find((p) => p.type === type).value;
  return `${get("year")}-${get("month")}`;
}

const inputStamp = new Intl.DateTimeFormat("sv-SE", {
  timeZone: ZONE, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
  hour12: false,
});

/** An instant as a datetime-local input's value in Beijing time: "2026-11-30T09:00". */
export function localInput(iso) {
  return iso ? inputStamp.format(new Date(iso)).replace(" ", "T") : "";
}

/** A datetime-local value, read as Beijing time (no daylight saving), as an ISO instant. */
export function fromLocalInput(value) {
  return `${value}:00+08:00`;
}
