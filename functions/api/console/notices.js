// Notices (in the page's flow under the top bar, so they never cover content) and busy buttons.
import { $ } from "./dom.js";

let noticeTimer = null;

export function notify(text) {
  $("alert").textContent = "";
  $("notice").textContent = text;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => ($("notice").textContent = ""), 12000);
}

export function alertError(text) {
  $("notice").textContent = "";
  $("alert").textContent = text;
}

export function clearNotices() {
  $("notice").textContent = "";
  $("alert").textContent = "";
}

// Run an action with its button disabled; keep the keyboard focus on it (or on its repainted twin).
let lastBusy = 0;
export async function busy(button, work) {
  const mine = ++lastBusy; // a later action's button keeps the focus
  const hadFocus = document.activeElement === button;
  const key = button.dataset.action || button.dataset.focusKey;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
    const lost = document.activeElement === document.body || document.activeElement === null;
    if (hadFocus && lost && mine === lastBusy) {
      const twin = key && document.querySelector(`[data-action="${key}"], [data-focus-key="${CSS.escape(key)}"]`);
      (button.isConnected ? button : twin)?.focus();
    }
  }
}
