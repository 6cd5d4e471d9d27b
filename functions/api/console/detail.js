// One webhook: its summary and actions, the 24-hour chart, the delivery log, and recovery.
import { deliveryChart } from "./chart.js";
import { attemptItem, deliveryFacts, requestView, rowParts, STATE_LABEL } from "./deliveries.js";
import { $, counted, facts, h, idCode, when } from "./dom.js";
import { headerNames } from "./headers.js";
import { alertError, busy, notify } from "./notices.js";
import { api, canWrite, every, hook, query, revealed, session } from "./session.js";
import {
  badges,
  confirmDialog,
  failed,
  go,
  healthFacts,
  readOnlyNote,
  retitle,
  screen,
  stopWatching,
  view,
} from "./views.js";

const POLL_MS = 1000;
const WATCH_MS = 15000;
const SETTLED = new Set(["succeeded", "dead", "dropped"]);
const COUNT_MOST = 1000; // what the recover confirmation counts at most

export function renderDetail(id) {
  const state = { webhook: null, deliveries: [], cursor: null, expanded: new Set(), details: new Map() };
  const secretSlot = h("div");
  const summary = h("section", { class: "panel summary", "aria-label": "Webhook details" }, h("p", {}, "Loading…"));
  const actions = h("div", { class: "toolbar actions-bar", role: "group", "aria-label": "Actions" });
  const chart = h(
    "section",
    { class: "panel chart-panel", "aria-labelledby": "chart-title" },
    h("h2", { id: "chart-title" }, "Deliveries, last 24 hours"),
    h("p", { class: "muted" }, "Loading…"),
  );
  const status = h("select", { id: "log-status" }, h("option", { value: "" }, "Any state"));
  for (const [value, label] of Object.entries(STATE_LABEL)) status.append(h("option", { value }, label));
  const eventSelect = h("select", { id: "log-event" }, h("option", { value: "" }, "Any event"));
  for (const type of session.catalog) eventSelect.append(h("option", { value: type.name }, type.name));
  const refresh = h("button", { type: "button", class: "button" }, "Refresh");
  const watching = h("p", { class: "watching", role: "status" });
  const log = h("ul", { class: "deliveries", "aria-busy": "true" });
  const older = h("button", { type: "button", class: "button", hidden: true }, "Load older deliveries");
  const logSection = h(
    "section",
    { class: "log", "aria-labelledby": "log-title" },
    h("h2", { id: "log-title" }, "Delivery log"),
    h(
      "div",
      { class: "log-filters" },
      h("div", { class: "field" }, h("label", { for: "log-status" }, "State"), status),
      h("div", { class: "field" }, h("label", { for: "log-event" }, "Event"), eventSelect),
      refresh,
    ),
    watching,
    log,
    older,
  );
  const recoverSection = canWrite() ? recoverForm() : null;
  const { current, heading } = screen(
    "Webhook",
    { href: "#/", text: "← All webhooks" },
    secretSlot,
    summary,
    canWrite() ? actions : readOnlyNote(),
    chart,
    logSection,
    recoverSection,
  );
  // A failure of this screen's work, shown only while it is the screen (a poll in flight across a delete 404s).
  const fail = (error) => current() && failed(error, id);

  function paintSecret() {
    const secret = revealed.get(id);
    secretSlot.replaceChildren(secret ? secretPanel(secret) : "");
  }

  function secretPanel(secret) {
    const value = h("code", { class: "secret", id: "secret-value" }, secret);
    const copy = h("button", { type: "button", class: "button primary" }, "Copy secret");
    copy.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(secret);
        copy.textContent = "Copied";
        notify("The secret is on your clipboard.");
      } catch {
        getSelection().selectAllChildren(value);
        notify("Copying was refused by the browser: the secret is selected, press Ctrl+C (⌘C) to copy it.");
      }
    });
    const done = h("button", { type: "button", class: "button" }, "I've stored it, hide it");
    done.addEventListener("click", () => {
      revealed.delete(id);
      paintSecret();
      heading.focus();
    });
    return h(
      "section",
      { class: "secret-panel", "aria-labelledby": "secret-title", tabindex: "-1", id: "secret-panel" },
      h("h2", { id: "secret-title" }, "Signing secret"),
      h(
        "p",
        { class: "warning" },
        h("strong", {}, "Copy it now: it is shown only this once. "),
        "Your receiver needs it to verify the webhook-signature header of each delivery. Keep it out of source control.",
      ),
      h("div", { class: "secret-row" }, value, copy),
      done,
    );
  }

  function paintSummary() {
    const webhook = state.webhook;
    retitle(heading, webhook.name);
    summary.replaceChildren(
      h("div", { class: "summary-head" }, badges(webhook)),
      h("p", { class: "url" }, webhook.url),
      facts([
        ...healthFacts(webhook),
        ["Created", when(webhook.createdAt)],
        ["Updated", when(webhook.updatedAt)],
        ["Id", idCode(webhook.id)],
        ["Rate limit", webhook.rateLimit ? counted(webhook.rateLimit, "delivery a second", "deliveries a second") : "Unlimited"],
        ["Custom headers", headerNames(webhook)],
        ["Filter", webhook.filter ? h("pre", { class: "code" }, JSON.stringify(webhook.filter, null, 2)) : "None", "wide"],
      ]),
    );
    if (canWrite()) paintActions();
  }

  function paintActions() {
    const webhook = state.webhook;
    const focused = document.activeElement?.dataset?.action;
    const button = (action, label, handler, extra = "") => {
      const element = h("button", { type: "button", class: `button ${extra}`, "data-action": action }, label);
      element.addEventListener("click", () => busy(element, handler).catch(fail));
      return element;
    };
    actions.replaceChildren(
      h("a", { href: `#/w/${encodeURIComponent(id)}/edit`, class: "button", "data-action": "edit" }, "Edit"),
      button("toggle", webhook.enabled ? "Disable" : "Enable", toggle),
      button("test", "Send test", sendTest),
      button("rotate", "Rotate secret", rotate),
      button("delete", "Delete", remove, "danger"),
    );
    if (focused) actions.querySelector(`[data-action="${focused}"]`)?.focus();
  }

  async function loadWebhook() {
    const webhook = await api("GET", hook(id));
    if (!current()) return;
    state.webhook = webhook;
    paintSummary();
  }

  async function loadChart() {
    const drawn = await deliveryChart(id, chart.clientWidth - 32); // the panel's padding
    if (current()) chart.replaceChildren(chart.firstChild, drawn);
  }

  async function toggle() {
    const enabled = !state.webhook.enabled;
    state.webhook = await api("PATCH", hook(id), { enabled });
    if (!current()) return;
    paintSummary();
    notify(enabled ? "Enabled: events are delivered to it again." : "Disabled: nothing is delivered until you enable it.");
  }

  async function sendTest() {
    const delivery = await api("POST", hook(id, "test"));
    if (!current()) return;
    notify("Test ping queued: its result appears in the delivery log below.");
    await reloadLog();
    watch(delivery.deliveryId);
  }

  async function rotate() {
    const keep = h("input", { type: "checkbox", id: "rotate-drop-old" });
    const extra = h(
      "div",
      { class: "field checkbox" },
      keep,
      h("label", { for: "rotate-drop-old" }, "Stop signing with the old secret at once"),
    );
    const ok = await confirmDialog({
      title: "Rotate the signing secret?",
      text: "A new secret is made and shown once. The old one keeps signing too (a second signature) for an overlap, 24 hours by default, so your receiver can switch over.",
      confirm: "Rotate secret",
      extra,
    });
    if (!ok) return;
    const rotated = await api("POST", hook(id, "rotate-secret"), { keepPreviousSecret: !keep.checked });
    if (!current()) return;
    revealed.set(id, rotated.secret);
    state.webhook = rotated;
    paintSummary();
    paintSecret();
    notify("Secret rotated: copy the new one now.");
    $("secret-panel")?.focus();
  }

  async function remove() {
    const ok = await confirmDialog({
      title: `Delete “${state.webhook.name}”?`,
      text: "Nothing is delivered to it afterwards, and its delivery log goes with it. This can't be undone.",
      confirm: "Delete webhook",
      danger: true,
    });
    if (!ok) return;
    await api("DELETE", hook(id));
    revealed.delete(id);
    go("", `Webhook “${state.webhook.name}” deleted.`);
  }

  // -- the delivery log

  const logQuery = (cursor) =>
    hook(id, "deliveries") + query({ limit: "25", status: status.value, event: eventSelect.value, cursor });

  async function reloadLog() {
    const page = await api("GET", logQuery(null));
    if (!current()) return;
    state.deliveries = page.items;
    state.cursor = page.nextCursor;
    await loadDetails();
    paintLog();
  }

  async function loadOlder() {
    const page = await api("GET", logQuery(state.cursor));
    if (!current()) return;
    state.deliveries.push(...page.items);
    state.cursor = page.nextCursor;
    paintLog();
  }

  async function loadDetails() {
    const shown = new Set(state.deliveries.map((delivery) => delivery.deliveryId));
    const wanted = [...state.expanded].filter((deliveryId) => shown.has(deliveryId));
    const details = await Promise.all(
      wanted.map((deliveryId) => api("GET", hook(id, "deliveries", encodeURIComponent(deliveryId)))),
    );
    for (const detail of details) state.details.set(detail.deliveryId, detail);
  }

  function paintLog() {
    const focused = document.activeElement?.dataset?.focusKey;
    log.replaceChildren();
    state.deliveries.forEach((delivery, index) => log.append(deliveryItem(delivery, index)));
    if (!state.deliveries.length) {
      const filtered = status.value || eventSelect.value;
      log.append(h("li", { class: "panel empty" }, filtered ? "No deliveries match these filters." : "No deliveries yet."));
    }
    older.hidden = !state.cursor;
    log.setAttribute("aria-busy", "false");
    if (focused) log.querySelector(`[data-focus-key="${CSS.escape(focused)}"]`)?.focus();
  }

  function deliveryItem(delivery, index) {
    const open = state.expanded.has(delivery.deliveryId);
    const panelId = `delivery-${index}`;
    const toggleButton = h(
      "button",
      {
        type: "button",
        class: "delivery-toggle",
        "aria-expanded": String(open),
        "aria-controls": panelId,
        "data-focus-key": `toggle:${delivery.deliveryId}`,
      },
      rowParts(delivery),
    );
    toggleButton.addEventListener("click", async () => {
      if (state.expanded.has(delivery.deliveryId)) {
        state.expanded.delete(delivery.deliveryId);
        paintLog();
        return;
      }
      state.expanded.add(delivery.deliveryId);
      try {
        await loadDetails();
      } catch (error) {
        fail(error);
      }
      if (current()) paintLog();
    });
    const body = h("div", { class: "delivery-body", id: panelId, hidden: !open });
    if (open) body.append(...deliveryBody(delivery, state.details.get(delivery.deliveryId)));
    return h("li", { class: "delivery", "data-delivery-id": delivery.deliveryId }, toggleButton, body);
  }

  function deliveryBody(delivery, detail) {
    const attempts = detail?.attempts ?? [];
    const parts = [
      deliveryFacts(delivery),
      attempts.length
        ? h("ol", { class: "attempts", "aria-label": "Attempts" }, attempts.map(attemptItem))
        : h("p", { class: "muted" }, detail ? "No attempt yet." : "Loading attempts…"),
      requestView(detail?.request),
    ];
    // A delivery waiting for its rate-limit slot is sent then: the API refuses to queue it twice (409).
    if (canWrite() && !(delivery.state === "pending" && delivery.waitingUntil)) {
      const retry = h(
        "button",
        { type: "button", class: "button", "data-focus-key": `retry:${delivery.deliveryId}` },
        "Retry now",
      );
      retry.addEventListener("click", () =>
        busy(retry, async () => {
          await api("POST", hook(id, "deliveries", encodeURIComponent(delivery.deliveryId), "retry"));
          if (!current()) return;
          notify("Retry queued: the delivery is sent again now, with a fresh signature.");
          watch(delivery.deliveryId);
        }).catch(fail),
      );
      parts.push(h("div", { class: "actions" }, retry));
    }
    return parts;
  }

  // Poll the log (and the webhook's health) for a few seconds after an action.
  function watch(deliveryId) {
    stopWatching();
    const until = Date.now() + WATCH_MS;
    let settledTicks = 0; // one more look after it settles: the webhook's health is written just after
    watching.textContent = "Watching for results…";
    const tick = async () => {
      view.watch = null;
      if (!current()) return;
      try {
        await Promise.all([loadWebhook(), reloadLog(), loadChart()]);
      } catch (error) {
        watching.textContent = "";
        return fail(error);
      }
      const delivery = state.deliveries.find((item) => item.deliveryId === deliveryId);
      if (delivery && SETTLED.has(delivery.state)) settledTicks += 1;
      if (current() && Date.now() < until && settledTicks < 2) {
        view.watch = setTimeout(tick, POLL_MS);
      } else {
        watching.textContent = "";
      }
    };
    view.watch = setTimeout(tick, POLL_MS / 2);
  }

  // How many deliveries a recover since `at` would queue: the failed and the dead ones created since.
  async function redeliverable(at) {
    const since = at.toISOString();
    const counts = await Promise.all(
      ["failed", "dead"].map((state) => every(hook(id, "deliveries"), { status: state, since }, COUNT_MOST)),
    );
    return [counts.reduce((sum, [items]) => sum + items.length, 0), counts.some(([, more]) => more)];
  }

  function recoverForm() {
    const since = h("input", {
      type: "datetime-local",
      id: "recover-since",
      required: true,
      step: "1",
      value: localInputValue(new Date(Date.now() - 24 * 3600 * 1000)),
      "aria-describedby": "recover-hint",
    });
    const submit = h("button", { type: "submit", class: "button" }, "Recover");
    const form = h(
      "form",
      { class: "recover-form", novalidate: true },
      h("div", { class: "field" }, h("label", { for: "recover-since" }, "Redeliver failed deliveries created since"), since),
      submit,
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const at = new Date(since.value);
      if (!since.value || Number.isNaN(at.getTime())) return alertError("Choose the time to recover from.");
      busy(submit, async () => {
        const [count, more] = await redeliverable(at);
        if (!current()) return;
        if (!count) return notify(`No failed or dead delivery since ${when(at.toISOString()).textContent}: nothing to recover.`);
        const ok = await confirmDialog({
          title: `Recover ${counted(count, "delivery", "deliveries")}${more ? " or more" : ""}?`,
          text:
            `This queues ${more ? "at least " : ""}${counted(count, "failed or dead delivery", "failed or dead deliveries")} ` +
            `created since ${when(at.toISOString()).textContent} again, each with a fresh signature. ` +
            "Ones the webhook no longer subscribes to are dropped instead, with the reason.",
          confirm: `Queue ${counted(count, "delivery", "deliveries")}`,
        });
        if (!ok || !current()) return;
        const result = await api("POST", hook(id, "recover"), { since: at.toISOString() });
        if (!current()) return;
        const rest = result.remaining ? " More remain: press Recover again to queue the next ones." : "";
        const notSent = result.notSent?.length
          ? ` ${counted(result.notSent.length, "delivery is", "deliveries are")} outside the webhook's events or projects now: dropped, not sent (the log says why).`
          : "";
        notify(`${counted(result.queued, "failed delivery", "failed deliveries")} queued again.${rest}${notSent}`);
        watch(null);
      }).catch(fail);
    });
    return h(
      "section",
      { class: "panel recover", "aria-labelledby": "recover-title" },
      h("h2", { id: "recover-title" }, "Recover"),
      h(
        "p",
        { class: "hint", id: "recover-hint" },
        "After an outage of your endpoint: every failed or dead delivery since then is sent again, in your local time zone.",
      ),
      form,
    );
  }

  status.addEventListener("change", () => reloadLog().catch(fail));
  eventSelect.addEventListener("change", () => reloadLog().catch(fail));
  refresh.addEventListener("click", () =>
    busy(refresh, () => Promise.all([loadWebhook(), reloadLog(), loadChart()])).catch(fail),
  );
  older.addEventListener("click", () => busy(older, loadOlder).catch(fail));

  paintSecret();
  Promise.all([loadWebhook(), reloadLog(), loadChart()]).catch(fail);
}

function localInputValue(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
  );
}
