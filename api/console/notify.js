// 提醒: a desktop notification and an optional tone for what is new in the user's scope — a new order,
// an SLA warning (预警) or breach (超时) — and a banner while the live stream is lost.
//
// Whenever the stream says the scope changed, the newest orders and today's alerts are read and their
// ids compared with those seen before; the first reading, taken before the stream opens (app.js), only
// remembers, so nothing that existed when the page loaded notifies. A notification names the town, the matter type and the order, never a
// summary or a caller: it stays on the screen and in the system's notification list.

import { get } from "./api.js";
import { $ } from "./dom.js";

const SOUND_KEY = "fengqiao.sound"; // "on" | "off": a preference, nothing personal
const ASKED_KEY = "fengqiao.notify.asked"; // permission is asked once, from the button, never again
const NEWEST = 50; // orders read per look: more than can open between two looks

export function createNotifier() {
  let seenOrders = null; // Set of order ids; null until the first look
  let seenAlerts = null;
  let looking = Promise.resolve();
  let audio = null;

  function setup() {
    const ask = $("notify-enable");
    ask.hidden = !canAsk();
    ask.addEventListener("click", async () => {
      localStorage.setItem(ASKED_KEY, "1");
      ask.hidden = true;
      await Notification.requestPermission();
    });
    const sound = $("sound-toggle");
    sound.checked = localStorage.getItem(SOUND_KEY) === "on";
    sound.addEventListener("change", () => {
      localStorage.setItem(SOUND_KEY, sound.checked ? "on" : "off");
      if (sound.checked) tone(1); // a sample, and the click unlocks audio for later tones
    });
  }

  const canAsk = () => "Notification" in window && Notification.permission === "default" &&
    localStorage.getItem(ASKED_KEY) !== "1";

  /** The live stream's state: a lost connection shows the banner until it is open again. */
  function connection(open) {
    $("connection-lost").hidden = open;
  }

  /** After a `changed` event: notify what is new since the last look (looks run one at a time). */
  function check() {
    looking = looking.then(look, look);
    return looking;
  }

  async function look() {
    let orders;
    let alerts;
    try {
      [orders, alerts] = await Promise.all([
        get("/api/v1/orders", { sort: "opened", limit: NEWEST }),
        get("/api/v1/alerts", { kind: ["warning", "breach"], days: 1 }),
      ]);
    } catch {
      return; // the next change looks again; the banner or the sign-in page says what went wrong
    }
    const fresh = [];
    const orderIds = new Set(orders.items.map((o) => o.order_id));
    if (seenOrders) {
      for (const o of orders.items) {
        if (!seenOrders.has(o.order_id)) fresh.push(["新工单", o, `order:${o.order_id}`, 1]);
      }
    }
    const alertKeys = new Set(alerts.map(alertKey));
    if (seenAlerts) {
      for (const a of alerts) {
        const beeps = a.kind === "breach" ? 2 : 1;
        if (!seenAlerts.has(alertKey(a))) fresh.push([a.kind_name, a, `alert:${alertKey(a)}`, beeps]);
      }
    }
    // Remembered as a union: an order that scrolls out of the newest page is not new when it comes back.
    seenOrders = new Set([...(seenOrders || []), ...orderIds]);
    seenAlerts = new Set([...(seenAlerts || []), ...alertKeys]);
    for (const [title, item, tag] of fresh) show(title, item, tag);
    if (fresh.length) tone(Math.max(...fresh.map((f) => f[3])));
  }

  function show(title, item, tag) {
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    const note = new Notification(title, {
      body: `${item.town_name} · ${item.matter_type} · ${item.order_id}`, tag, lang: "zh-CN",
    });
    note.onclick = () => {
      window.focus();
      window.location.hash = `#/order/${encodeURIComponent(item.order_id)}`;
      note.close();
    };
  }

  /** `beeps` short tones (two for a breach), generated: no sound file to serve or cache. */
  function tone(beeps) {
    if (localStorage.getItem(SOUND_KEY) !== "on" || !window.AudioContext) return;
    audio = audio || new AudioContext();
    audio.resume();
    for (let i = 0; i < beeps; i += 1) {
      const start = audio.currentTime + i * 0.3;
      const oscillator = audio.createOscillator();
      const gain = audio.createGain();
      oscillator.frequency.value = 880;
      gain.gain.setValueAtTime(0.0001, start);
      gain.gain.exponentialRampToValueAtTime(0.25, start + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.2);
      oscillator.connect(gain).connect(audio.destination);
      oscillator.start(start);
      oscillator.stop(start + 0.22);
    }
  }

  return { setup, connection, check };
}

const alertKey = (a) => `${a.order_id}|${a.stage}|${a.kind}|${a.at}`;
