// The console's entry: sign in, pick the views this role has, and keep them current over SSE.
// Nothing about callers is ever written to localStorage or logged; signing out reloads the page,
// which also drops everything held in memory.

import { get, request } from "./api.js";
import { createBoard } from "./board.js";
import { createCockpit } from "./cockpit.js";
import { $, plain } from "./dom.js";
import { useReference } from "./format.js";
import { createInbox, inboxSummary } from "./inbox.js";
import { createNotifier } from "./notify.js";
import { createQueue } from "./queue.js";

// Roles that see the supervisor board (a town leader sees only their own town's lines).
const BOARD_ROLES = new Set(["district_dispatcher", "district_supervisor", "admin", "town_leader"]);
// Roles that see 区中心待办 (待定位, 死信).
const INBOX_ROLES = new Set(["district_dispatcher", "district_supervisor", "admin"]);

const session = { me: null, reference: null };
let queue = null;
let board = null;
let cockpit = null;
let inbox = null;
let notifier = null;
let stream = null;
let knownOrders = null;

async function boot() {
  try {
    session.me = await get("/api/v1/me");
  } catch {
    showLogin();
    return;
  }
  await enter();
}

/** The console, or first the password form when an administrator's reset requires a new password. */
async function enter() {
  if (!session.me.must_change_password) {
    await start();
    return;
  }
  $("login-view").hidden = true;
  $("password-view").hidden = false;
  $("password-old").focus();
}

async function changePassword(event) {
  event.preventDefault();
  const old = $("password-old").value;
  const fresh = $("password-new").value;
  const error = $("password-error");
  error.hidden = true;
  if (!old || !fresh) {
    error.textContent = "请输入原密码和新密码";
  } else if (fresh !== $("password-again").value) {
    error.textContent = "两次输入的新密码不一致";
  } else {
    $("password-submit").disabled = true;
    try {
      session.me = await request("POST", "/api/v1/me/password", { body: { old, new: fresh } });
      for (const id of ["password-old", "password-new", "password-again"]) $(id).value = "";
      $("password-view").hidden = true;
      await start();
      return;
    } catch (failure) {
      error.textContent = failure.message;
    } finally {
      $("password-submit").disabled = false;
    }
  }
  error.hidden = false;
}

function showLogin() {
  $("app-view").hidden = true;
  $("login-view").hidden = false;
  if (new URLSearchParams(window.location.search).has("expired")) {
    $("login-error").textContent = "登录已过期，请重新登录";
    $("login-error").hidden = false;
    window.history.replaceState(null, "", "/console/");
  }
  $("login-username").focus();
}

async function signIn(event) {
  event.preventDefault();
  const username = $("login-username").value.trim();
  const password = $("login-password").value;
  const error = $("login-error");
  error.hidden = true;
  if (!username || !password) {
    error.textContent = "请输入用户名和密码";
    error.hidden = false;
    return;
  }
  $("login-submit").disabled = true;
  try {
    session.me = await request("POST", "/api/v1/session", { body: { username, password } });
    $("login-password").value = "";
    await enter();
  } catch (failure) {
    error.textContent = failure.message;
    error.hidden = false;
  } finally {
    $("login-submit").disabled = false;
  }
}

async function signOut() {
  try {
    await request("DELETE", "/api/v1/session");
  } catch {
    // Signed out already (expired session): the reload below shows the login page either way.
  }
  stream?.close();
  window.location.replace("/console/");
}

async function start() {
  const me = session.me;
  session.reference = await get("/api/v1/reference");
  useReference(session.reference);
  $("login-view").hidden = true;
  $("app-view").hidden = false;
  // 区督办员 signed in as 区督办员 reads once, not 「区督办员（区督办员）」.
  $("me-name").textContent = plain(me.display_name === me.role_name ? me.role_name
    : `${me.display_name}（${me.role_name}）`);
  $("me-unit").textContent = plain(me.unit_name);
  $("tab-board").hidden = !BOARD_ROLES.has(me.role);
  document.body.dataset.role = me.role;
  queue = createQueue(session);
  queue.setup();
  notifier = createNotifier();
  notifier.setup();
  if (BOARD_ROLES.has(me.role)) {
    board = createBoard(session);
    board.setup();
    cockpit = createCockpit(session);
    cockpit.setup();
  }
  $("tab-cockpit").hidden = !cockpit;
  $("tab-inbox").hidden = !INBOX_ROLES.has(me.role);
  if (INBOX_ROLES.has(me.role)) {
    inbox = createInbox(session);
    inbox.setup();
  }
  setInterval(() => queue.tick(), 1000);
  window.addEventListener("hashchange", route);
  await route();
  // The notifier's first look, before the stream opens: what is there now never notifies, and what
  // arrives once the stream is open always does (a first look on the stream's first event raced it).
  await notifier.check();
  listen();
}

/** #/board: the supervisors' board; #/inbox: 区中心待办; #/order/<id>: that order in the queue's detail
 * (the board and the inbox link there). */
async function route() {
  const views = { board: board && "#/board", inbox: inbox && "#/inbox", cockpit: cockpit && "#/cockpit" };
  const shown = Object.keys(views).find((name) => views[name] === window.location.hash) || "queue";
  const linked = window.location.hash.match(/^#\/order\/(.+)$/);
  for (const name of ["queue", "board", "inbox", "cockpit"]) {
    $(`${name}-view`).hidden = name !== shown;
    $(`tab-${name}`).toggleAttribute("aria-current", name === shown);
  }
  await current().load();
  if (linked) await queue.open(decodeURIComponent(linked[1]));
  countInbox();
}

/** The view on screen. */
function current() {
  if (!$("board-view").hidden) return board;
  if (!$("cockpit-view").hidden) return cockpit;
  if (!$("inbox-view").hidden) return inbox;
  return queue;
}

/** The 待办 tab's badge: what waits for the district. */
async function countInbox() {
  if (!inbox) return;
  try {
    const { waiting, text } = await inboxSummary();
    const badge = $("inbox-count");
    badge.textContent = String(waiting);
    badge.hidden = waiting === 0;
    $("tab-inbox").title = text;
  } catch {
    // Shown again at the next change; an error here is the stream's or the session's to report.
  }
}

/** Reload what is on screen whenever the server says orders in scope changed. */
function listen() {
  stream = new EventSource("/api/v1/stream");
  const status = $("live-status");
  stream.addEventListener("open", () => {
    status.dataset.state = "open";
    status.title = "实时推送已连接";
    notifier.connection(true);
  });
  stream.addEventListener("changed", (event) => {
    const data = JSON.parse(event.data);
    if (knownOrders !== null && data.orders > knownOrders) {
      const notice = $("new-orders-notice");
      const earlier = Number(notice.dataset.count || 0) * (notice.hidden ? 0 : 1);
      notice.dataset.count = String(earlier + data.orders - knownOrders);
      notice.textContent = `新工单 ${notice.dataset.count} 条（点击查看）`;
      notice.hidden = false;
    }
    knownOrders = data.orders;
    notifier.check(); // also after a reconnection: what arrived meanwhile is new
    if (data.initial) return; // the views were just loaded
    current().load();
    if (current() === queue) queue.refreshDetail();
    countInbox();
  });
  stream.addEventListener("error", () => {
    // EventSource reconnects by itself (retry: 3000) unless the server refused it (e.g. 401).
    status.dataset.state = stream.readyState === EventSource.CLOSED ? "closed" : "reconnecting";
    status.title = "实时推送中断，正在重连…";
    notifier.connection(false);
    if (stream.readyState === EventSource.CLOSED) {
      setTimeout(async () => {
        try {
          await get("/api/v1/me");
          listen();
        } catch {
          // 401 sends us to the login page through the signed-out event.
        }
      }, 5000);
    }
  });
}

window.addEventListener("fengqiao:signed-out", () => {
  stream?.close();
  if (!$("app-view").hidden) window.location.replace("/console/?expired");
});

$("login-form").addEventListener("submit", signIn);
$("password-form").addEventListener("submit", changePassword);
$("logout").addEventListener("click", signOut);
$("password-logout").addEventListener("click", signOut);
boot();
