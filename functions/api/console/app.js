// The webhooks console: vanilla JS, no build step, served by the API function at /console.
//
// Safety rules kept throughout: API data is only ever put in the page as text (textContent or
// text nodes, never innerHTML): webhook names, URLs and response excerpts come from other people.
// The bearer token lives in memory; it goes to localStorage only when "remember me" is ticked,
// and it is only ever sent in the Authorization header (never in a URL, never logged).
"use strict";

(() => {
  const STORAGE_KEY = "bluehooks.console.token";
  const API = new URL(".", location.href.split("#")[0]); // the API is the console's parent: /console → /
  const WRITERS = new Set(["OWNER", "ADMIN", "PROJECT_MANAGER"]);
  const POLL_MS = 1000;
  const WATCH_MS = 15000;
  const SETTLED = new Set(["succeeded", "dead", "dropped"]);
  const STATE_LABEL = {
    pending: "Pending",
    succeeded: "Succeeded",
    failed: "Failed, retrying",
    dead: "Dead",
    dropped: "Dropped",
  };
  const DISABLED_WHY = {
    GONE: "its endpoint answered 410 Gone",
    FAILING: "its deliveries kept failing",
  };

  const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
  const number = new Intl.NumberFormat();
  const millis = new Intl.NumberFormat(undefined, { style: "unit", unit: "millisecond", unitDisplay: "short" });
  const plural = new Intl.PluralRules("en");

  const session = { token: null, claims: null, remembered: false, catalog: [] };
  const revealed = new Map(); // webhook id → its secret, shown once after create or rotate
  let generation = 0; // bumped by every screen: async work of an older screen stops
  let watchTimer = null;
  let flash = null; // a notice to show on the next screen

  const $ = (id) => document.getElementById(id);

  // -- DOM helpers: elements from data, text only -------------------------------------------------

  const PROPERTIES = new Set(["checked", "value", "disabled", "hidden", "selected"]);

  function h(tag, attributes, ...children) {
    const element = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") element.className = value;
      else if (key.startsWith("on") && typeof value === "function") element.addEventListener(key.slice(2), value);
      else if (PROPERTIES.has(key)) element[key] = value;
      else element.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      element.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return element;
  }

  function when(iso, none = "never") {
    if (!iso) return h("span", { class: "muted" }, none);
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return iso;
    return h("time", { datetime: iso, title: iso }, dateTime.format(date));
  }

  function counted(n, one, many) {
    return `${number.format(n)} ${plural.select(n) === "one" ? one : many}`;
  }

  let noticeTimer = null;
  function notify(text) {
    $("alert").textContent = "";
    $("notice").textContent = text;
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(() => ($("notice").textContent = ""), 12000);
  }

  function alertError(text) {
    $("notice").textContent = "";
    $("alert").textContent = text;
  }

  function clearNotices() {
    $("notice").textContent = "";
    $("alert").textContent = "";
  }

  // Run an action with its button disabled; keep the keyboard focus on it (or on its repainted twin).
  let lastBusy = 0;
  async function busy(button, work) {
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

  // -- the token --------------------------------------------------------------------------------

  function claimsOf(token) {
    const parts = token.split(".");
    if (parts.length !== 3) throw new Error("a token has three parts separated by dots");
    const base64 = parts[1].replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(base64.padEnd(Math.ceil(base64.length / 4) * 4, "=")), (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes));
    if (!claims || typeof claims !== "object" || Array.isArray(claims)) throw new Error("its payload is not an object");
    return claims;
  }

  function storage() {
    try {
      return window.localStorage;
    } catch {
      return null; // storage blocked (e.g. a third-party iframe): nothing is remembered
    }
  }

  function rememberedToken() {
    try {
      return storage()?.getItem(STORAGE_KEY) || null;
    } catch {
      return null;
    }
  }

  function remember(token) {
    try {
      storage()?.setItem(STORAGE_KEY, token);
      return true;
    } catch {
      return false;
    }
  }

  function forget() {
    try {
      storage()?.removeItem(STORAGE_KEY);
    } catch {
      // nothing was stored
    }
  }

  function tokenFromFragment() {
    const fragment = location.hash.slice(1);
    if (!/(^|&)token=/.test(fragment)) return null;
    const token = new URLSearchParams(fragment).get("token");
    history.replaceState(null, "", location.pathname + location.search); // out of the address bar and history
    return token ? token.trim() : null;
  }

  function canWrite() {
    return WRITERS.has(session.claims?.role);
  }

  async function signIn(token, keep) {
    let claims;
    try {
      claims = claimsOf(token);
    } catch (error) {
      return showTokenView(`That doesn't look like a token: ${error.message}.`);
    }
    if (typeof claims.exp === "number" && claims.exp * 1000 <= Date.now()) {
      forget();
      return showTokenView(`This token expired on ${dateTime.format(new Date(claims.exp * 1000))}. Ask for a new one.`);
    }
    session.token = token;
    session.claims = claims;
    try {
      session.catalog = await api("GET", "event-types");
    } catch (error) {
      if (error.status !== 401) showTokenView(error.message);
      return;
    }
    if (keep !== LEAVE_STORED) {
      session.remembered = keep && remember(token);
      if (!keep) forget();
    }
    showIdentity();
    route();
  }

  // A link's token (#token=...) is for this tab only: it never replaces or erases a remembered one,
  // and one of another company or user than the token in use is taken only when the person agrees.
  const LEAVE_STORED = "leave-stored";

  async function signInFromLink(token) {
    const current = session.token || rememberedToken();
    if (current && current !== token && !sameIdentity(current, token)) {
      const switching = await confirmDialog({
        title: "Switch company?",
        text:
          `This link signs you in as ${describe(token)}. You are signed in as ${describe(current)}. ` +
          "Your remembered token stays in this browser either way.",
        confirm: "Use the link's token",
      });
      if (!switching) return session.token ? route() : signIn(current, true);
    }
    return signIn(token, LEAVE_STORED);
  }

  function identityOf(token) {
    try {
      const { sub, company } = claimsOf(token);
      return { sub: String(sub ?? "unknown user"), company: String(company ?? "no company") };
    } catch {
      return { sub: "an unreadable token", company: "unknown" };
    }
  }

  function sameIdentity(one, other) {
    const [a, b] = [identityOf(one), identityOf(other)];
    return a.sub === b.sub && a.company === b.company;
  }

  function describe(token) {
    const { sub, company } = identityOf(token);
    return `${sub} of company ${company}`;
  }

  function signOut() {
    const wasRemembered = session.remembered || rememberedToken() !== null;
    endSession();
    showTokenView();
    notify(wasRemembered ? "Signed out. The remembered token was removed from this browser." : "Signed out.");
  }

  function endSession() {
    stopWatching();
    forget();
    revealed.clear();
    Object.assign(session, { token: null, claims: null, remembered: false, catalog: [] });
    $("identity").hidden = true;
  }

  function tokenRefused(message) {
    endSession();
    showTokenView(`Your token was refused (${message}). Paste a new one to continue.`);
  }

  function showIdentity() {
    const { sub, company, role, projects, exp } = session.claims;
    const who = [`${sub ?? "unknown user"}`, company ? `company ${company}` : null];
    if (Array.isArray(projects) && projects.length) who.push(`projects ${projects.join(", ")}`);
    $("who-name").textContent = who.filter(Boolean).join(" · ");
    $("who-role").textContent = role ?? "no role";
    $("who-role").title = typeof exp === "number" ? `Token expires ${dateTime.format(new Date(exp * 1000))}` : "";
    $("sign-out").textContent = session.remembered ? "Sign out and forget token" : "Sign out";
    $("identity").hidden = false;
  }

  function showTokenView(error) {
    generation += 1;
    $("app-view").hidden = true;
    $("app-view").replaceChildren();
    $("token-view").hidden = false;
    document.title = "Sign in · Webhooks console";
    const input = $("token-input");
    input.value = "";
    $("token-error").textContent = error || "";
    input.setAttribute("aria-invalid", error ? "true" : "false");
    if (error) {
      clearNotices();
      input.focus();
    } else {
      $("token-title").focus();
    }
  }

  // -- the API ----------------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, message, errors) {
      super(message);
      this.status = status;
      this.errors = errors || [];
    }
  }

  async function api(method, path, body) {
    if (!session.token) throw new ApiError(401, "not signed in");
    const init = {
      method,
      headers: { Authorization: `Bearer ${session.token}`, Accept: "application/json" },
      cache: "no-store",
      credentials: "omit",
      referrerPolicy: "no-referrer",
    };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(new URL(path, API), init);
    } catch {
      throw new ApiError(0, "The API can't be reached. Check your connection and try again.");
    }
    if (response.status === 204) return null;
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    if (response.ok) return data;
    const message = data && typeof data.message === "string" ? data.message : `${response.status} ${response.statusText}`;
    const error = new ApiError(response.status, message, data && Array.isArray(data.errors) ? data.errors : []);
    if (response.status === 401) tokenRefused(message);
    throw error;
  }

  const hook = (id, ...rest) => ["webhooks", encodeURIComponent(id), ...rest].join("/");

  function query(params) {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) if (value) search.set(key, value);
    const text = search.toString();
    return text ? `?${text}` : "";
  }

  // What an action's failure shows: 401 is handled by api(), 404 of a webhook means it is gone.
  function failed(error, webhookId) {
    if (error.status === 401) return;
    if (error.status === 404 && webhookId) return gone();
    alertError(error.message);
  }

  // -- screens and routes -----------------------------------------------------------------------

  function go(path, message) {
    flash = message || null;
    const target = `#/${path}`;
    if (location.hash === target) route();
    else location.hash = target;
  }

  function route() {
    if (!session.token) return;
    stopWatching();
    clearNotices();
    if (flash) notify(flash);
    flash = null;
    let parts;
    try {
      parts = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
    } catch {
      parts = [];
    }
    if (parts[0] === "new") return canWrite() ? renderForm(null) : go("");
    if (parts[0] === "w" && parts[1]) {
      if (parts[2] === "edit") return canWrite() ? renderEdit(parts[1]) : go(`w/${encodeURIComponent(parts[1])}`);
      return renderDetail(parts[1]);
    }
    return renderList();
  }

  // A new screen: its title (focused, for screen readers and keyboards), under a link back when given.
  function screen(title, back, ...content) {
    generation += 1;
    $("token-view").hidden = true;
    const view = $("app-view");
    const heading = h("h1", { tabindex: "-1", id: "view-title" }, title);
    const backLink = back ? h("p", { class: "back-row" }, h("a", { href: back.href, class: "back" }, back.text)) : null;
    view.replaceChildren(...[backLink, heading, ...content].filter(Boolean));
    view.hidden = false;
    document.title = `${title} · Webhooks console`;
    heading.focus();
    return { generation, heading };
  }

  function retitle(heading, title) {
    heading.textContent = title;
    document.title = `${title} · Webhooks console`;
  }

  function gone() {
    screen(
      "This webhook is gone",
      null,
      h("p", { class: "panel" }, "It was deleted, or your token can no longer see it."),
      h("p", {}, h("a", { href: "#/", class: "button" }, "Back to all webhooks")),
    );
  }

  const readOnlyNote = () =>
    h("p", { class: "readonly-note" }, "Read-only view: your role can look at webhooks and deliveries, not change them.");

  function badges(webhook) {
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
  function healthFacts(webhook) {
    return [
      ["Events", eventsText(webhook.events)],
      ["Projects", projectsText(webhook.projectIds)],
      ["Last success", when(webhook.lastSuccessAt)],
      ["Last failure", when(webhook.lastFailureAt)],
    ];
  }

  function eventsText(events) {
    return events && events.length ? events.join(", ") : "All events";
  }

  function projectsText(projects) {
    return projects && projects.length ? projects.join(", ") : "All projects";
  }

  function facts(rows) {
    return h(
      "dl",
      { class: "facts" },
      rows.filter(Boolean).map(([term, detail, wide]) => h("div", { class: wide }, h("dt", {}, term), h("dd", {}, detail))),
    );
  }

  // -- the list of webhooks ---------------------------------------------------------------------

  function renderList() {
    const list = h("ul", { class: "cards", "aria-busy": "true" }, h("li", { class: "muted" }, "Loading…"));
    const more = h("button", { type: "button", class: "button", hidden: true }, "Load more");
    const tools = canWrite()
      ? h("div", { class: "toolbar" }, h("a", { href: "#/new", class: "button primary" }, "New webhook"))
      : readOnlyNote();
    const { generation: mine } = screen("Webhooks", null, tools, list, more);
    let cursor = null;
    let first = true;
    async function load() {
      const page = await api("GET", `webhooks${query({ limit: "50", cursor })}`);
      if (mine !== generation) return;
      if (first) list.replaceChildren();
      first = false;
      for (const webhook of page.items) list.append(card(webhook));
      if (!list.children.length) {
        const hint = canWrite() ? " Create one to start receiving events." : "";
        list.append(h("li", { class: "panel empty" }, `No webhooks yet.${hint}`));
      }
      cursor = page.nextCursor;
      more.hidden = !cursor;
      list.setAttribute("aria-busy", "false");
    }
    more.addEventListener("click", () => busy(more, load).catch((error) => failed(error)));
    load().catch((error) => failed(error));
  }

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

  // -- create and edit --------------------------------------------------------------------------

  async function renderEdit(id) {
    const { generation: mine } = screen("Loading webhook…", null);
    try {
      const webhook = await api("GET", hook(id));
      if (mine === generation) renderForm(webhook);
    } catch (error) {
      if (mine === generation) failed(error, id);
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

  function renderForm(existing) {
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
    const enabledBox = h("input", { type: "checkbox", id: "wh-enabled", checked: existing ? existing.enabled : true });
    const enabled = h(
      "div",
      { class: "field checkbox" },
      enabledBox,
      h("label", { for: "wh-enabled" }, "Enabled: deliver events to it"),
    );
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
        enabled: enabledBox.checked,
      };
      if (!body.url) return fieldError("url", "Enter the URL deliveries go to.").focus();
      const raw = filter.control.value.trim();
      if (raw) {
        try {
          body.filter = JSON.parse(raw);
        } catch (error) {
          return fieldError("filter", `This is not valid JSON: ${error.message}`).focus();
        }
        if (!body.filter || typeof body.filter !== "object" || Array.isArray(body.filter)) {
          return fieldError("filter", 'The filter must be a JSON object, e.g. {"project": {"id": ["p1"]}}.').focus();
        }
      }
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

  function changed(before, after) {
    const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
    const changes = {};
    if (!same(before.name, after.name)) changes.name = after.name;
    if (!same(before.url, after.url)) changes.url = after.url;
    if (!same([...before.events].sort(), [...after.events].sort())) changes.events = after.events;
    if (!same([...before.projectIds].sort(), [...after.projectIds].sort())) changes.projectIds = after.projectIds;
    if (!same(before.filter, after.filter)) changes.filter = after.filter;
    if (before.enabled !== after.enabled) changes.enabled = after.enabled;
    return changes;
  }

  // -- one webhook: summary, actions, delivery log, recovery ------------------------------------

  function renderDetail(id) {
    const state = { webhook: null, deliveries: [], cursor: null, expanded: new Set(), details: new Map() };
    const secretSlot = h("div");
    const summary = h("section", { class: "panel summary", "aria-label": "Webhook details" }, h("p", {}, "Loading…"));
    const actions = h("div", { class: "toolbar actions-bar", role: "group", "aria-label": "Actions" });
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
    const { generation: mine, heading } = screen(
      "Webhook",
      { href: "#/", text: "← All webhooks" },
      secretSlot,
      summary,
      canWrite() ? actions : readOnlyNote(),
      logSection,
      recoverSection,
    );
    const current = () => mine === generation;

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
          ["Id", h("code", {}, webhook.id)],
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
        element.addEventListener("click", () => busy(element, handler).catch((error) => failed(error, id)));
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

    async function reloadLog() {
      const page = await api(
        "GET",
        hook(id, "deliveries") + query({ limit: "25", status: status.value, event: eventSelect.value }),
      );
      if (!current()) return;
      state.deliveries = page.items;
      state.cursor = page.nextCursor;
      await loadDetails();
      paintLog();
    }

    async function loadOlder() {
      const page = await api(
        "GET",
        hook(id, "deliveries") + query({ limit: "25", status: status.value, event: eventSelect.value, cursor: state.cursor }),
      );
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
        h("span", { class: `state state-${delivery.state}` }, STATE_LABEL[delivery.state] || delivery.state),
        h("span", { class: "delivery-event" }, delivery.event),
        h("span", { class: "delivery-time" }, when(delivery.createdAt)),
        h("span", { class: "delivery-count" }, counted(delivery.attemptCount, "attempt", "attempts")),
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
          failed(error, id);
        }
        if (current()) paintLog();
      });
      const body = h("div", { class: "delivery-body", id: panelId, hidden: !open });
      if (open) body.append(...deliveryBody(delivery, state.details.get(delivery.deliveryId)));
      return h("li", { class: "delivery", "data-delivery-id": delivery.deliveryId }, toggleButton, body);
    }

    function deliveryBody(delivery, detail) {
      const parts = [
        facts([
          ["Delivery id", h("code", {}, delivery.deliveryId)],
          ["Event id", h("code", {}, delivery.eventId)],
          delivery.reason ? ["Reason", delivery.reason] : null,
          delivery.nextRetryAt ? ["Next retry", when(delivery.nextRetryAt)] : null,
        ]),
      ];
      const attempts = detail?.attempts ?? [];
      parts.push(
        attempts.length
          ? h("ol", { class: "attempts", "aria-label": "Attempts" }, attempts.map(attemptItem))
          : h("p", { class: "muted" }, detail ? "No attempt yet." : "Loading attempts…"),
      );
      if (canWrite()) {
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
          }).catch((error) => failed(error, id)),
        );
        parts.push(h("div", { class: "actions" }, retry));
      }
      return parts;
    }

    function attemptItem(attempt) {
      const ok = attempt.statusCode >= 200 && attempt.statusCode < 300;
      const outcome = attempt.statusCode != null ? `HTTP ${attempt.statusCode}` : "No response";
      return h(
        "li",
        { class: `attempt ${ok ? "attempt-ok" : "attempt-bad"}` },
        h(
          "p",
          { class: "attempt-head" },
          h("span", { class: "attempt-number" }, `Attempt ${number.format(attempt.attempt)}`),
          h("span", {}, when(attempt.at)),
          h("span", { class: "attempt-status" }, outcome),
          attempt.durationMs != null ? h("span", {}, millis.format(attempt.durationMs)) : null,
        ),
        attempt.error ? h("p", { class: "attempt-error" }, `Error: ${attempt.error}`) : null,
        attempt.responseExcerpt
          ? h("div", {}, h("p", { class: "excerpt-label" }, "Response body"), h("pre", { class: "excerpt" }, attempt.responseExcerpt))
          : h("p", { class: "muted" }, "No response body."),
        attempt.nextRetryAt ? h("p", { class: "attempt-next" }, "Next retry ", when(attempt.nextRetryAt)) : null,
      );
    }

    // Poll the log (and the webhook's health) for a few seconds after an action.
    function watch(deliveryId) {
      stopWatching();
      const until = Date.now() + WATCH_MS;
      let settledTicks = 0; // one more look after it settles: the webhook's health is written just after
      watching.textContent = "Watching for results…";
      const tick = async () => {
        watchTimer = null;
        if (!current()) return;
        try {
          await Promise.all([loadWebhook(), reloadLog()]);
        } catch (error) {
          watching.textContent = "";
          return failed(error, id);
        }
        const delivery = state.deliveries.find((item) => item.deliveryId === deliveryId);
        if (delivery && SETTLED.has(delivery.state)) settledTicks += 1;
        if (current() && Date.now() < until && settledTicks < 2) {
          watchTimer = setTimeout(tick, POLL_MS);
        } else {
          watching.textContent = "";
        }
      };
      watchTimer = setTimeout(tick, POLL_MS / 2);
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
          const result = await api("POST", hook(id, "recover"), { since: at.toISOString() });
          if (!current()) return;
          const more = result.remaining ? " More remain: press Recover again to queue the next ones." : "";
          const notSent = result.notSent?.length
            ? ` ${counted(result.notSent.length, "delivery is", "deliveries are")} outside the webhook's events or projects now: dropped, not sent (the log says why).`
            : "";
          notify(`${counted(result.queued, "failed delivery", "failed deliveries")} queued again.${more}${notSent}`);
          watch(null);
        }).catch((error) => failed(error, id));
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

    status.addEventListener("change", () => reloadLog().catch((error) => failed(error, id)));
    eventSelect.addEventListener("change", () => reloadLog().catch((error) => failed(error, id)));
    refresh.addEventListener("click", () =>
      busy(refresh, () => Promise.all([loadWebhook(), reloadLog()])).catch((error) => failed(error, id)),
    );
    older.addEventListener("click", () => busy(older, loadOlder).catch((error) => failed(error, id)));

    paintSecret();
    Promise.all([loadWebhook(), reloadLog()]).catch((error) => current() && failed(error, id));
  }

  function stopWatching() {
    if (watchTimer) clearTimeout(watchTimer);
    watchTimer = null;
  }

  function localInputValue(date) {
    const pad = (n) => String(n).padStart(2, "0");
    return (
      `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
      `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
    );
  }

  // -- the confirmation dialog ------------------------------------------------------------------

  function confirmDialog({ title, text, confirm, danger, extra }) {
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

  // -- start ------------------------------------------------------------------------------------

  function start() {
    $("skip-link").addEventListener("click", (event) => {
      event.preventDefault(); // not a route: focus the content
      $("main").focus();
    });
    $("confirm-ok").addEventListener("click", () => $("confirm-dialog").close("ok"));
    $("confirm-cancel").addEventListener("click", () => $("confirm-dialog").close("cancel"));
    $("sign-out").addEventListener("click", signOut);
    for (const id of ["notice", "alert"]) $(id).addEventListener("click", () => ($(id).textContent = ""));
    $("token-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const token = $("token-input").value.trim().replace(/^Bearer\s+/i, "");
      if (!token) {
        $("token-error").textContent = "Paste a token first.";
        $("token-input").setAttribute("aria-invalid", "true");
        return $("token-input").focus();
      }
      signIn(token, $("remember").checked);
    });
    window.addEventListener("hashchange", () => {
      const token = tokenFromFragment();
      if (token) return signInFromLink(token);
      route();
    });

    const fromLink = tokenFromFragment();
    if (fromLink) return signInFromLink(fromLink);
    const saved = rememberedToken();
    if (saved) return signIn(saved, true);
    showTokenView();
  }

  start();
})();
