// The console's one door to /api/v1: JSON in and out, the API's Chinese `message` on failure.
// The session is an HttpOnly cookie, so nothing here ever sees or stores a secret.

// The server's clock minus ours, from each answer's X-Fengqiao-Time header (the engine's own clock,
// in milliseconds): countdowns stay right on a town PC whose clock is off by minutes. Under 2 s is
// the request's own latency, ignored.
let skewMs = 0;

/** Now, by the server's clock as far as we know it. */
export function serverNow() {
  return Date.now() + skewMs;
}

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.message || `请求失败（${status}）`);
    this.status = status;
    this.code = problem?.code || "error";
  }
}

/** A fresh key for one intended action; resending it makes a retry or a double click harmless. */
export function newKey() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** "/api/v1/orders" + {state: ["a", "b"], q: "x", town: ""} → "...?state=a&state=b&q=x" (blank values dropped). */
export function url(path, params = {}) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    for (const one of Array.isArray(value) ? value : [value]) {
      if (one !== undefined && one !== null && one !== "" && one !== false) search.append(key, String(one));
    }
  }
  const text = search.toString();
  return text ? `${path}?${text}` : path;
}

/** A JSON `body`, or a `file` (a photo) sent as it is, with its own type. */
export async function request(method, path, { body, key, file } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (file) headers["Content-Type"] = file.type || "application/octet-stream";
  if (key) headers["Idempotency-Key"] = key;
  let response;
  try {
    response = await fetch(path, {
      method, headers, credentials: "same-origin", cache: "no-store",
      body: file || (body === undefined ? undefined : JSON.stringify(body)),
    });
  } catch {
    throw new ApiError(0, { code: "network", message: "无法连接服务器，请检查网络后重试" });
  }
  const date = Date.parse(response.headers.get("x-fengqiao-time") || "");
  if (!Number.isNaN(date)) skewMs = Math.abs(date - Date.now()) > 2000 ? date - Date.now() : 0;
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = new ApiError(response.status, data);
    if (response.status === 401 && path !== "/api/v1/session") {
      window.dispatchEvent(new CustomEvent("fengqiao:signed-out"));
    }
    throw error;
  }
  return data;
}

export const get = (path, params) => request("GET", url(path, params));
