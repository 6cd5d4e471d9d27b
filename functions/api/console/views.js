// Screens: one at a time in #app-view, each with a focused title; what several screens show of a webhook;
// the confirmation dialog.
import { $, h, when } from "./dom.js";
import { alertError, notify } from "./notices.js";

const DISABLED_WHY = {
  GONE: "its endpoint answered 410 Gone",
  FAILING: "its deliveries kept failing",
};

// view.generation is bumped by every screen: async work of an older screen stops. view.watch is the
// pending poll of a webhook's page, stopped by any new screen.
export const view = { generation: 0, watch: null, flash: null, route: () => {} };

export function stopWatching() {
  clearTimeout(view.watch);
  view.watch = null;
}

export function go(path, message) {
  view.generation += 1; // this screen's async work stops now (a pending poll too), not when the next screen paints
  view.flash = message || null;
  const target = `#/${path}`;
  if (location.hash === target) view.route();
  else location.hash = target;
}

export function takeFlash() {
  if (view.flash) notify(view.flash);
  view.flash = null;
}

// A new screen: its title (focused, for screen readers and keyboards), under a link back when given.
export function screen(title, back, ...content) {
  view.generation += 1;
  const mine = view.generation;
  $("token-view").hidden = true;
  const place = $("app-view");
  const heading = h("h1", { tabindex: "-1", id: "view-title" }, title);
  const backLink = back ? h("p", { class: "back-row" }, h("a", { href: back.href, class: "back" }, back.text)) : null;
  place.replaceChildren(...[backLink, heading, ...content].filter(Boolean));
  place.hidden = false;
  document.title = `${title} · Webhooks console`;
  heading.focus();
  return { current: () => mine === view.generation, heading };
}

export function retitle(heading, title) {
  heading.textContent = title;
  document.title = `${title} · Webhooks console`;
}

export function gone() {
  screen(
    "This webhook is gone",
    null,
    h("p", { class: "panel" }, "It was deleted, or your token can no longer see it."),
    h("p", {}, h("a", { href: "#/", class: "button" }, "Back to all webhooks")),
  );
}

// What an action's failure shows: 401 is handled by the session, 404 of a webhook means it is gone.
export function failed(error, webhookId) {
  if (error.status === 401) return;
  if (error.status === 404 && webhookId) return gone();
  alertError(error.message);
}

export const readOnlyNote = () =>
  h("p", { class: "readonly-note" }, "Read-only view: your role can look at webhooks and deliveries, not change them.");

export function badges(webhook) {
  const healthy = webhook.status === "HEALTHY";
  return h(
    "span",
    { class: "badges" },
    h("span", { class: `badge ${healthy ? "badge-ok" : "badge-bad"}` }, webhook.status),
    webhook.enabled
      ? null
      : [
          h("span", { class: "badge badge-off" }, "DISABLED"),
          h("span", { class: "why" }, disabledWhy(webhook.disabledReason)),
        ],
  );
}

function disabledWhy(reason) {
  if (!reason) return "Disabled by its owner.";
  return `Disabled automatically: ${DISABLED_WHY[reason] || reason}.`;
}

// What the list and the webhook's page both show of it.
export function healthFacts(webhook) {
  return [
    ["Events", listText(webhook.events, "All events")],
    ["Projects", listText(webhook.projectIds, "All projects")],
    ["Last success", when(webhook.lastSuccessAt)],
    ["Last failure", when(webhook.lastFailureAt)],
  ];
}

const listText = (items, all) => (items && items.length ? items.join(", ") : all);

export function confirmDialog({ title, text, confirm, danger, extra }) {
  const dialog = $("confirm-dialog");
  $("confirm-title").textContent = title;
  $("confirm-text").textContent = text;
  $("confirm-extra").replaceChildren(...(extra ? [extra] : []));
  const ok = $("confirm-ok");
  ok.textContent = confirm;
  ok.className = `button ${danger ? "danger" : "primary"}`;
  return new Promise((resolve) => {
    // `close` is dispatched later than close(): one of an earlier question may arrive after this one
    // is asked, when the dialog is open again. Only a close that leaves the dialog closed answers.
    const answered = () => {
      if (dialog.open) return;
      dialog.removeEventListener("close", answered);
      resolve(dialog.returnValue === "ok");
    };
    dialog.addEventListener("close", answered);
    dialog.returnValue = "";
    dialog.showModal();
    $("confirm-cancel").focus(); // the safe choice first
  });
}

export function confirmButtons() {
  $("confirm-ok").addEventListener("click", () => $("confirm-dialog").close("ok"));
  $("confirm-cancel").addEventListener("click", () => $("confirm-dialog").close("cancel"));
}
