// The console's entry: sign in, pick the views this role has, and keep them current over SSE.
// Nothing about callers is ever written to localStorage or logged; signing out reloads the page,
// which also drops everything held in memory.

import { get, request } from "./api.js";
import { createBoard } from "./board.js";
import { $ } from "./dom.js";
import { useReference } from "./format.js";
import { createNotifier } from "./notify.js";
import { createQueue } from "./queue.js";

// Roles that see the supervisor board (a town leader sees only their own town's lines).
const BOARD_ROLES = new Set(["district_dispatcher", "district_supervisor", "admin", "town_leader"]);

const session = { me: null, reference: null };
let queue = null;
let board = null;
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
  await start();
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
    await start();
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
  $("me-name").textContent = me.display_name === me.role_name ? me.role_name : `${me.display_name}（${me.role_name}）`;
  $("me-unit").textContent = me.unit_name;
  $("tab-board").hidden = !BOARD_ROLES.has(me.role);
  document.body.dataset.role = me.role;
  queue = createQueue(session);
  queue.setup();
  notifier = createNotifier();
  notifier.setup();
  if (BOARD_ROLES.has(me.role)) {
    board = createBoard();
    board.setup();
  }
  setInterval(() => queue.tick(), 1000);
  window.addEventListener("hashchange", route);
  await route();
  listen();
}

/** #/board: the supervisors' board; #/order/<id>: that order in the queue's detail (the board links there). */
async function route() {
  const wantsBoard = window.location.hash === "#/board" && board;
  const linked = window.location.hash.match(/^#\/order\/(.+)$/);
  $("queue-view").hidden = Boolean(wantsBoard);
  $("board-view").hidden = !wantsBoard;
  $("tab-queue").toggleAttribute("aria-current", !wantsBoard);
  $("tab-board").toggleAttribute("aria-current", Boolean(wantsBoard));
  if (wantsBoard) await board.load();
  else await queue.load();
  if (linked) await queue.open(decodeURIComponent(linked[1]));
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
    if (!$("board-view").hidden) board.load();
    else {
      queue.load();
      queue.refreshDetail();
    }
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
$("logout").addEventListener("click", signOut);
boot();
