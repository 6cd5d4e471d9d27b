// The list of webhooks: every one the token may see, searchable, newest first by default.
import { counted, facts, h } from "./dom.js";
import { canWrite, every } from "./session.js";
import { badges, failed, healthFacts, readOnlyNote, screen } from "./views.js";

const MOST = 2000; // a company's webhooks fit: more are left out, and the count says so
const ORDERS = {
  newest: (a, b) => b.createdAt.localeCompare(a.createdAt),
  oldest: (a, b) => a.createdAt.localeCompare(b.createdAt),
  name: (a, b) => a.name.localeCompare(b.name),
};

export function renderList() {
  const list = h("ul", { class: "cards", "aria-busy": "true" }, h("li", { class: "muted" }, "Loading…"));
  const search = h("input", { type: "search", id: "list-search", autocomplete: "off", spellcheck: "false" });
  const order = h(
    "select",
    { id: "list-order" },
    h("option", { value: "newest" }, "Newest first"),
    h("option", { value: "oldest" }, "Oldest first"),
    h("option", { value: "name" }, "Name A–Z"),
  );
  const shown = h("p", { class: "list-count", role: "status" });
  const tools = h(
    "div",
    { class: "toolbar list-tools" },
    h("div", { class: "field grow" }, h("label", { for: "list-search" }, "Search by name, URL, id or event"), search),
    h("div", { class: "field" }, h("label", { for: "list-order" }, "Order"), order),
    canWrite() ? h("a", { href: "#/new", class: "button primary" }, "New webhook") : null,
  );
  const { current } = screen("Webhooks", null, canWrite() ? null : readOnlyNote(), tools, shown, list);
  let webhooks = [];
  let more = false;

  function paint() {
    const words = search.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    const found = webhooks
      .filter((webhook) => words.every((word) => haystack(webhook).includes(word)))
      .sort(ORDERS[order.value]);
    list.replaceChildren(...found.map(card));
    if (!webhooks.length) {
      const hint = canWrite() ? " Create one to start receiving events." : "";
      list.append(h("li", { class: "panel empty" }, `No webhooks yet.${hint}`));
    } else if (!found.length) {
      list.append(h("li", { class: "panel empty" }, "No webhook matches this search."));
    }
    const total = counted(webhooks.length, "webhook", "webhooks") + (more ? " (the first ones only)" : "");
    shown.textContent = words.length ? `${found.length} of ${total}` : total;
    list.setAttribute("aria-busy", "false");
  }

  search.addEventListener("input", paint);
  order.addEventListener("change", paint);
  every("webhooks", {}, MOST)
    .then(([items, remaining]) => {
      if (!current()) return;
      [webhooks, more] = [items, remaining];
      paint();
    })
    .catch((error) => current() && failed(error));
}

const haystack = (webhook) =>
  [webhook.name, webhook.url, webhook.id, ...(webhook.events || [])].join("\n").toLowerCase();

function card(webhook) {
  return h(
    "li",
    { class: "card", "data-webhook-id": webhook.id },
    h(
      "div",
      { class: "card-head" },
      h("h2", { class: "card-title" }, h("a", { href: `#/w/${encodeURIComponent(webhook.id)}` }, webhook.name)),
      badges(webhook),
    ),
    h("p", { class: "url" }, webhook.url),
    facts(healthFacts(webhook)),
  );
}
