// 现场照片: the picker that uploads photos for a 反馈 or 回访, and the thumbnails that show them.
// A photo is uploaded as soon as it is chosen (POST /api/v1/orders/{id}/photos, the file itself as
// the body); the form then sends its reference, photo:<id>, in `attachments`.

import { request } from "./api.js";
import { h } from "./dom.js";

const PREFIX = "photo:";

function photoUrl(orderId, photoId, size) {
  const base = `/api/v1/orders/${encodeURIComponent(orderId)}/photos/${encodeURIComponent(photoId)}`;
  return size ? `${base}?size=${size}` : base;
}

/** A thumbnail that opens the full photo in a new tab. */
function thumbnail(orderId, photoId) {
  return h("a", { href: photoUrl(orderId, photoId), target: "_blank", rel: "noopener", class: "photo",
    title: "查看原图", "data-testid": "photo-link" },
  h("img", { src: photoUrl(orderId, photoId, "thumb"), alt: "现场照片", loading: "lazy",
    "data-testid": "photo-thumb" }));
}

/** A timeline entry's attachments: photos as thumbnails, other references (a town system's own) as text. */
export function attachmentList(orderId, attachments) {
  const photos = attachments.filter((a) => a.startsWith(PREFIX));
  const others = attachments.filter((a) => !a.startsWith(PREFIX));
  return h("div", { class: "attachments" },
    photos.length ? h("div", { class: "photos" }, photos.map((a) => thumbnail(orderId, a.slice(PREFIX.length))))
      : null,
    others.length ? h("div", { class: "small" }, `附件：${others.join("，")}`) : null);
}

/** The references of the photos a form's picker uploaded. */
export const attachedPhotos = (form) => [...form.querySelectorAll("[data-reference]")].map((el) => el.dataset.reference);

/** What the form sends has changed: its next submit is another command, with another Idempotency-Key. */
const changed = (form) => form.dispatchEvent(new Event("input"));

/**
 * A file picker for JPEG and PNG photos of `orderId`; each chosen photo is uploaded at once and shown
 * with a button to remove it. `refuse(form, message)` shows a failed upload in the form.
 */
export function photoPicker(id, orderId, refuse) {
  const list = h("div", { class: "photos", "data-testid": `${id}-list` });
  const status = h("span", { class: "muted small", role: "status" });
  const input = h("input", { id, type: "file", accept: "image/jpeg,image/png", multiple: true, "data-testid": id });
  input.addEventListener("change", async () => {
    const form = input.form;
    const files = [...input.files];
    input.value = "";
    form.dataset.uploading = "1";
    try {
      for (const [index, file] of files.entries()) {
        status.textContent = `正在上传第 ${index + 1}/${files.length} 张照片…`;
        const photo = await request("POST", `/api/v1/orders/${encodeURIComponent(orderId)}/photos`, { file });
        if (!attachedPhotos(form).includes(photo.reference)) {
          const item = h("span", { class: "attached", "data-reference": photo.reference },
            thumbnail(orderId, photo.photo_id),
            h("button", { type: "button", class: "small", "aria-label": "移除这张照片",
              onclick: () => { item.remove(); changed(form); } }, "移除"));
          list.append(item);
        }
      }
    } catch (error) {
      refuse(form, `照片上传失败：${error.message}`);
    } finally {
      status.textContent = "";
      delete form.dataset.uploading;
      changed(form);
    }
  });
  return h("div", { class: "field" }, h("label", { for: id }, "现场照片（JPEG 或 PNG，可多张，可选）"), input, status, list);
}
