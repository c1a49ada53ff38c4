// A tiny element builder: every piece of data goes in as text, never as HTML, and without the bidi
// controls (U+202A–U+202E, U+2066–U+2069, marks) that would let a summary reorder what the screen shows.

const BIDI_CONTROLS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** `value` as text with its bidi controls removed. */
export function plain(value) {
  return String(value).replace(BIDI_CONTROLS, "");
}

/** h("td", {class: "x", dataset: {testid: "y"}}, "text", child) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, plain(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(plain(child)));
  }
  return el;
}

export const $ = (id) => document.getElementById(id);

/** An order id that opens the order's detail in the queue (app.js routes #/order/<id>). */
export const orderLink = (orderId) => h("a", { href: `#/order/${encodeURIComponent(orderId)}`, dataset: { testid: "order-link" } },
  orderId);

export function fill(container, nodes) {
  container.replaceChildren(...nodes);
}

/** A row spanning the table saying there is nothing to show. */
export function emptyRow(columns, text) {
  return h("tr", { class: "empty-row" }, h("td", { colspan: columns }, text));
}

let flashTimer;
/** A message at the top of the page: errors stay until closed, notes fade after a few seconds. */
export function flash(text, kind = "error") {
  const box = $("flash");
  box.textContent = plain(text);
  box.className = `flash ${kind}`;
  box.hidden = false;
  clearTimeout(flashTimer);
  flashTimer = setTimeout(() => { box.hidden = true; }, kind === "error" ? 10000 : 4000);
}

/** Run `work` (a view's load), showing its failure at the top of the page; a lost session (401) says
 * so itself, by sending the user to sign in. */
export async function guarded(work) {
  try {
    await work();
  } catch (error) {
    if (error.status !== 401) flash(error.message);
  }
}
