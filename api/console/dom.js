// A tiny element builder: every piece of data goes in as text, never as HTML.

/** h("td", {class: "x", dataset: {testid: "y"}}, "text", child) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export const $ = (id) => document.getElementById(id);

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
  box.textContent = text;
  box.className = `flash ${kind}`;
  box.hidden = false;
  clearTimeout(flashTimer);
  flashTimer = setTimeout(() => { box.hidden = true; }, kind === "error" ? 10000 : 4000);
}
