// Create and edit a webhook, with the filter tester: the fan-out's own matcher (POST /filters/test) on
// a sample event before the filter is saved.
import { h } from "./dom.js";
import { headersEditor } from "./headers.js";
import { busy } from "./notices.js";
import { api, hook, query, revealed, session } from "./session.js";
import { failed, gone, go, screen } from "./views.js";

export async function renderEdit(id) {
  const { current } = screen("Loading webhook…", null);
  try {
    const webhook = await api("GET", hook(id));
    if (current()) renderForm(webhook);
  } catch (error) {
    if (current()) failed(error, id);
  }
}

function field(id, label, control, hint) {
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  control.id = id;
  control.setAttribute("aria-describedby", hint ? `${hintId} ${errorId}` : errorId);
  const error = h("p", { class: "field-error", id: errorId });
  const wrap = h(
    "div",
    { class: "field" },
    h("label", { for: id }, label),
    control,
    error,
    hint ? h("p", { class: "hint", id: hintId }, hint) : null,
  );
  return { wrap, control, error };
}

// The filter box's text as a filter: [filter or null, or an error message].
function parseFilter(raw) {
  if (!raw.trim()) return [null, null];
  let filter;
  try {
    filter = JSON.parse(raw);
  } catch (error) {
    return [null, `This is not valid JSON: ${error.message}`];
  }
  if (!filter || typeof filter !== "object" || Array.isArray(filter)) {
    return [null, 'The filter must be a JSON object, e.g. {"project": {"id": ["p1"]}}.'];
  }
  return [filter, null];
}

export function renderForm(existing) {
  const creating = !existing;
  const name = field(
    "wh-name",
    "Name",
    h("input", { type: "text", maxlength: "200", autocomplete: "off", value: existing?.name ?? "" }),
    "Optional: shown in this console and in every delivery. Empty: named after the URL's host.",
  );
  const url = field(
    "wh-url",
    "Endpoint URL",
    h("input", {
      type: "url",
      inputmode: "url",
      required: true,
      autocomplete: "off",
      spellcheck: "false",
      value: existing?.url ?? "",
    }),
    "Where deliveries are POSTed: an https URL on a public address.",
  );

  const chosen = new Set(existing?.events ?? []);
  const boxes = session.catalog.map((type) =>
    h(
      "div",
      { class: "check" },
      h("input", { type: "checkbox", id: `ev-${type.name}`, value: type.name, checked: chosen.has(type.name) }),
      h(
        "label",
        { for: `ev-${type.name}` },
        h("span", { class: "event-name" }, type.name),
        h("span", { class: "event-text" }, type.description),
      ),
    ),
  );
  const eventsError = h("p", { class: "field-error", id: "wh-events-error" });
  const setAll = (checked) => boxes.forEach((box) => (box.querySelector("input").checked = checked));
  const events = h(
    "fieldset",
    { class: "field events", "aria-describedby": "wh-events-hint wh-events-error" },
    h("legend", {}, "Events"),
    h("p", { class: "hint", id: "wh-events-hint" }, "Tick none to receive every event, new ones included."),
    h(
      "div",
      { class: "inline-actions" },
      h("button", { type: "button", class: "button small", onclick: () => setAll(true) }, "Tick all"),
      h("button", { type: "button", class: "button small", onclick: () => setAll(false) }, "Untick all"),
    ),
    h("div", { class: "event-grid" }, boxes),
    eventsError,
  );

  const projects = field(
    "wh-projects",
    "Projects",
    h("input", {
      type: "text",
      autocomplete: "off",
      spellcheck: "false",
      value: (existing?.projectIds ?? []).join(", "),
    }),
    "Project ids, comma-separated. Empty: events of every project.",
  );
  const filterText = existing?.filter ? JSON.stringify(existing.filter, null, 2) : "";
  const filter = field(
    "wh-filter",
    "Filter (JSON)",
    h("textarea", { rows: "6", spellcheck: "false", class: "code", value: filterText }),
    [
      "Optional: an EventBridge event pattern matched against the payload, e.g. ",
      h("code", {}, '{"currentValue": {"title": [{"prefix": "urgent"}]}}'),
      ". Empty: no filter.",
    ],
  );
  const rateLimit = field(
    "wh-rate-limit",
    "Rate limit (deliveries a second)",
    h("input", { type: "number", min: "1", max: "10000", step: "1", inputmode: "numeric", value: existing?.rateLimit ?? "" }),
    "Optional: 1 to 10,000. Deliveries past it wait their turn (shown as Waiting), never counted as attempts. Empty: unlimited.",
  );
  const enabledBox = h("input", { type: "checkbox", id: "wh-enabled", checked: existing ? existing.enabled : true });
  const enabled = h(
    "div",
    { class: "field checkbox" },
    enabledBox,
    h("label", { for: "wh-enabled" }, "Enabled: deliver events to it"),
  );
  const headers = headersEditor(existing);
  const formError = h("p", { class: "form-error", role: "alert", id: "form-error" });
  const save = h("button", { type: "submit", class: "button primary" }, creating ? "Create webhook" : "Save changes");
  const back = creating ? "#/" : `#/w/${encodeURIComponent(existing.id)}`;
  const form = h(
    "form",
    { class: "panel form", novalidate: true },
    name.wrap,
    url.wrap,
    events,
    projects.wrap,
    filter.wrap,
    filterTester(filter.control, existing),
    rateLimit.wrap,
    headers.element,
    enabled,
    formError,
    h("div", { class: "actions" }, save, h("a", { href: back, class: "button" }, "Cancel")),
  );
  const slots = {
    name: [name.error, name.control],
    url: [url.error, url.control],
    events: [eventsError, boxes[0]?.querySelector("input")],
    projectIds: [projects.error, projects.control],
    filter: [filter.error, filter.control],
    rateLimit: [rateLimit.error, rateLimit.control],
    get headers() {
      return [headers.error, headers.control()];
    },
  };

  function clearErrors() {
    formError.textContent = "";
    for (const [error, control] of Object.values(slots)) {
      error.textContent = "";
      control?.removeAttribute("aria-invalid");
    }
  }

  function fieldError(slot, message) {
    const [error, control] = slots[slot];
    error.textContent = message;
    control?.setAttribute("aria-invalid", "true");
    return control;
  }

  function showApiError(error) {
    if (error.status === 401) return;
    if (error.status === 404 && !creating) return gone();
    const focus = [];
    if (error.status === 422 && error.errors.length) {
      const unplaced = [];
      for (const problem of error.errors) {
        const slot = Array.isArray(problem.loc) ? problem.loc[1] : null;
        const text = String(problem.msg || error.message).replace(/^Value error, /, "");
        if (slot in slots) focus.push(fieldError(slot, text));
        else unplaced.push(text);
      }
      if (unplaced.length || !focus.length) formError.textContent = error.message;
    } else if (error.status === 400 && /^url\b/i.test(error.message)) {
      focus.push(fieldError("url", error.message));
    } else {
      formError.textContent = error.message;
    }
    (focus[0] || save).focus();
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors();
    const body = {
      name: name.control.value.trim() || null,
      url: url.control.value.trim(),
      events: boxes.map((box) => box.querySelector("input")).filter((box) => box.checked).map((box) => box.value),
      projectIds: projects.control.value
        .split(",")
        .map((id) => id.trim())
        .filter(Boolean),
      filter: null,
      rateLimit: rateLimit.control.value.trim() === "" ? null : Number(rateLimit.control.value),
      enabled: enabledBox.checked,
    };
    if (!body.url) return fieldError("url", "Enter the URL deliveries go to.").focus();
    const [parsed, problem] = parseFilter(filter.control.value);
    if (problem) return fieldError("filter", problem).focus();
    body.filter = parsed;
    const headerSet = headers.read();
    if (headerSet.control) return headerSet.control.focus();
    if (headerSet.headers !== undefined) body.headers = headerSet.headers;
    await busy(save, async () => {
      try {
        if (creating) {
          if (!body.name) delete body.name;
          if (!body.filter) delete body.filter;
          const created = await api("POST", "webhooks", body);
          revealed.set(created.id, created.secret);
          go(`w/${encodeURIComponent(created.id)}`, `Webhook “${created.name}” created.`);
        } else {
          const changes = changed(existing, body);
          if (Object.keys(changes).length) await api("PATCH", hook(existing.id), changes);
          go(`w/${encodeURIComponent(existing.id)}`, Object.keys(changes).length ? "Changes saved." : "Nothing changed.");
        }
      } catch (error) {
        showApiError(error);
      }
    });
  });

  const title = creating ? "New webhook" : `Edit “${existing.name}”`;
  screen(title, { href: back, text: creating ? "← All webhooks" : "← Back to the webhook" }, form);
}

// The filter tester: a sample (an event type's example, or a recent delivery's body), editable, and the
// fan-out's verdict on it for the filter as it stands in the box, saved or not.
function filterTester(filterBox, existing) {
  const pick = h(
    "select",
    { id: "ft-pick" },
    h("option", { value: "" }, "Choose a sample…"),
    h(
      "optgroup",
      { label: "Example of an event type" },
      session.catalog.map((type) => h("option", { value: `type:${type.name}` }, type.name)),
    ),
  );
  const recent = h("optgroup", { label: "A recent delivery of this webhook" });
  const sample = h("textarea", {
    id: "ft-event",
    rows: "8",
    spellcheck: "false",
    class: "code",
    "aria-describedby": "ft-event-hint",
  });
  const run = h("button", { type: "button", class: "button" }, "Test the filter");
  const verdict = h("p", { class: "ft-verdict", id: "ft-verdict", role: "status" });

  if (existing) {
    pick.append(recent);
    api("GET", hook(existing.id, "deliveries") + query({ limit: "10" }))
      .then((page) => {
        for (const delivery of page.items) {
          const label = `${delivery.event} · ${new Date(delivery.createdAt).toLocaleString()}`;
          recent.append(h("option", { value: `delivery:${delivery.deliveryId}` }, label));
        }
      })
      .catch(() => recent.remove()); // the tester works without them
  }

  pick.addEventListener("change", async () => {
    const [kind, key] = pick.value.split(/:(.*)/s);
    let body = null;
    if (kind === "type") body = session.catalog.find((type) => type.name === key)?.example;
    if (kind === "delivery") {
      try {
        body = (await api("GET", hook(existing.id, "deliveries", encodeURIComponent(key)))).request?.body;
      } catch (error) {
        return show("bad", `That delivery can't be read: ${error.message}`);
      }
    }
    if (body) sample.value = JSON.stringify(body, null, 2);
  });

  function show(kind, text) {
    verdict.className = `ft-verdict ft-${kind}`;
    verdict.textContent = text;
  }

  run.addEventListener("click", () =>
    busy(run, async () => {
      const [filter, problem] = parseFilter(filterBox.value);
      if (problem) return show("bad", `The filter: ${problem}`);
      if (!filter) return show("ok", "No filter: every event of the webhook's events and projects is delivered.");
      let event;
      try {
        event = JSON.parse(sample.value);
      } catch (error) {
        return show("bad", `The sample is not valid JSON: ${error.message}`);
      }
      try {
        const answer = await api("POST", "filters/test", { filter, event });
        const reason = answer.reason ? ` (${answer.reason})` : "";
        if (answer.matches) show("ok", `Matches: this event would be delivered.${reason}`);
        else show("no", `No match: this event would not be delivered.${reason}`);
      } catch (error) {
        if (error.status === 401) return;
        const detail = error.errors.map((problem) => String(problem.msg).replace(/^Value error, /, "")).join("; ");
        show("bad", detail || error.message);
      }
    }),
  );

  return h(
    "fieldset",
    { class: "field filter-tester" },
    h("legend", {}, "Try the filter before saving"),
    h("div", { class: "field" }, h("label", { for: "ft-pick" }, "Sample"), pick),
    h(
      "div",
      { class: "field" },
      h("label", { for: "ft-event" }, "Event (a delivery body, JSON)"),
      sample,
      h("p", { class: "hint", id: "ft-event-hint" }, "Paste an event, or choose a sample above and change it."),
    ),
    h("div", { class: "inline-actions" }, run),
    verdict,
  );
}

function changed(before, after) {
  const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  const changes = {};
  if (!same(before.name, after.name)) changes.name = after.name;
  if (!same(before.url, after.url)) changes.url = after.url;
  if (!same([...before.events].sort(), [...after.events].sort())) changes.events = after.events;
  if (!same([...before.projectIds].sort(), [...after.projectIds].sort())) changes.projectIds = after.projectIds;
  if (!same(before.filter, after.filter)) changes.filter = after.filter;
  if (before.enabled !== after.enabled) changes.enabled = after.enabled;
  if ((before.rateLimit ?? null) !== after.rateLimit) changes.rateLimit = after.rateLimit;
  if (after.headers !== undefined) changes.headers = after.headers; // set only when changed: values are write-only
  return changes;
}
