// The webhook editor's custom headers: rows of name and value, sent with every delivery. Values are
// write-only (like the secret), so an edit shows the names only, and PATCH replaces the whole set: the
// set is sent only when the user changed it, and then every value must be entered again.
import { counted, h } from "./dom.js";

// The API's limits (customheaders.py), as hints while typing; the API's own 422 has the last word.
const MAX_HEADERS = 20;
const MAX_VALUE_BYTES = 1024;
const RESERVED = new Set(
  ["host", "content-type", "content-length", "transfer-encoding", "connection", "user-agent", "x-signature"].concat(
    ["keep-alive", "proxy-connection", "te", "trailer", "upgrade", "expect"],
  ),
);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const VALUE = /^([\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?)?$/;
const bytes = (text) => new TextEncoder().encode(text).length;

// What the API would say of one row, or "": a hint, never a block.
function hintFor(name, value, names) {
  const lower = name.toLowerCase();
  if (name && !TOKEN.test(name)) return "A name holds letters, digits and !#$%&'*+-.^_`|~ only: no spaces or colons.";
  if (RESERVED.has(lower) || lower.startsWith("webhook-")) {
    return `${name} is reserved: the delivery contract or HTTP sets it.`;
  }
  if (name && names.filter((other) => other.toLowerCase() === lower).length > 1) return `${name} is given twice.`;
  if (bytes(value) > MAX_VALUE_BYTES) return `The value is ${bytes(value)} bytes: at most ${MAX_VALUE_BYTES}.`;
  if (!VALUE.test(value)) return "A value holds printable ASCII only: no tab or line break, no space at either end.";
  return "";
}

// The section, and what the form needs of it: `read()` → {headers} (undefined: unchanged, keep them;
// null: clear them; an object: the new set) or {problem, control} for a row to fix first.
export function headersEditor(existing) {
  const kept = existing?.headers ?? [];
  let changed = false;
  let serial = 0;
  const rows = [];
  const list = h("div", { class: "header-rows" });
  const error = h("p", { class: "field-error", id: "wh-headers-error" });
  const state = h("p", { class: "hint header-state", id: "wh-headers-state", role: "status" });
  const add = h("button", { type: "button", class: "button small" }, "Add a header");
  const clear = h("button", { type: "button", class: "button small danger" }, "Remove all headers");
  const keep = kept.length === 1 ? "the value blank to keep the header as it is" : "every value blank to keep them";
  const intro = kept.length
    ? `Values are write-only: never shown again. Leave ${keep}; to change anything here, enter every value ` +
      "again (saving replaces the whole set)."
    : "Sent with every delivery, e.g. a static API key your receiver checks. Values are write-only: never shown " +
      "again after saving.";

  function row(name, fromServer) {
    const n = ++serial;
    const nameBox = h("input", {
      type: "text",
      id: `wh-header-${n}-name`,
      autocomplete: "off",
      spellcheck: "false",
      value: name,
      "aria-describedby": `wh-header-${n}-hint wh-headers-error`,
    });
    const valueBox = h("input", {
      type: "password",
      id: `wh-header-${n}-value`,
      autocomplete: "new-password", // never a saved password filled in
      spellcheck: "false",
      placeholder: fromServer ? "write-only: enter again to change" : "",
      "aria-describedby": `wh-header-${n}-hint wh-headers-error`,
    });
    const hint = h("p", { class: "hint header-hint", id: `wh-header-${n}-hint`, "aria-live": "polite" });
    const remove = h("button", { type: "button", class: "button small" }, "Remove");
    const nameLabel = h("span");
    const valueLabel = h("span");
    const element = h(
      "div",
      { class: "header-row" },
      h("div", { class: "field" }, h("label", { for: nameBox.id }, nameLabel), nameBox),
      h("div", { class: "field" }, h("label", { for: valueBox.id }, valueLabel), valueBox),
      remove,
      hint,
    );
    const entry = { element, nameBox, valueBox, hint, fromServer, remove, nameLabel, valueLabel };
    remove.addEventListener("click", () => {
      rows.splice(rows.indexOf(entry), 1);
      element.remove();
      touched();
      (rows.at(-1)?.nameBox ?? add).focus(); // focus stays in the section, never lost to <body>
    });
    element.addEventListener("input", touched);
    rows.push(entry);
    list.append(element);
    return entry;
  }

  // Each row's hint, the buttons and the line that says what saving will do.
  function touched(event) {
    if (event !== false) changed = true;
    const names = rows.map((entry) => entry.nameBox.value.trim());
    rows.forEach((entry, index) => {
      entry.nameLabel.textContent = `Header ${index + 1} name`;
      entry.valueLabel.textContent = `Header ${index + 1} value`;
      const named = names[index] ? ` (${names[index]})` : "";
      entry.remove.setAttribute("aria-label", `Remove header ${index + 1}${named}`);
      entry.hint.textContent = hintFor(names[index], entry.valueBox.value, names);
    });
    add.disabled = rows.length >= MAX_HEADERS;
    clear.hidden = !rows.length;
    state.textContent = summary();
  }

  function summary() {
    if (rows.length >= MAX_HEADERS) return `${MAX_HEADERS} headers: the most a webhook may have.`;
    const saved = counted(kept.length, "header", "headers");
    if (!changed) return kept.length ? `${saved} saved: kept unless you change them.` : "";
    if (!existing) return "";
    return rows.length ? "Saving replaces every header with the ones above." : "Saving removes every header.";
  }

  add.addEventListener("click", () => {
    row("", false).nameBox.focus();
    touched();
  });
  clear.addEventListener("click", () => {
    rows.splice(0).forEach((entry) => entry.element.remove());
    touched();
    add.focus();
  });
  kept.forEach((name) => row(name, true));
  touched(false);

  function read() {
    for (const entry of rows) [entry.nameBox, entry.valueBox].forEach((box) => box.removeAttribute("aria-invalid"));
    if (existing && !changed) return { headers: undefined };
    const headers = {};
    for (const entry of rows) {
      const name = entry.nameBox.value.trim();
      const value = entry.valueBox.value;
      if (!name && !value) continue; // an empty row: nothing meant
      if (!name) return invalid(entry.nameBox, "Name this header, or remove its row.");
      if (entry.fromServer && !value) {
        const why = "values are write-only and saving replaces the whole set";
        return invalid(entry.valueBox, `Enter the value of ${name} again: ${why}.`);
      }
      headers[name] = value;
    }
    if (!Object.keys(headers).length) return { headers: existing ? null : undefined };
    return { headers };
  }

  function invalid(control, problem) {
    control.setAttribute("aria-invalid", "true");
    error.textContent = problem;
    return { problem, control };
  }

  // The row the API most likely refused (the first with a hint), for its 422 to point at.
  function control() {
    const hinted = rows.find((entry) => entry.hint.textContent) ?? rows[0];
    if (!hinted) return null;
    return /^(A|The) value/.test(hinted.hint.textContent) ? hinted.valueBox : hinted.nameBox;
  }

  const element = h(
    "fieldset",
    { class: "field custom-headers", "aria-describedby": "wh-headers-hint wh-headers-state" },
    h("legend", {}, "Custom headers"),
    h("p", { class: "hint", id: "wh-headers-hint" }, intro),
    list,
    error,
    h("div", { class: "inline-actions" }, add, clear),
    state,
  );
  return { element, error, read, control };
}

// The detail's line: the names only, as GET gives them.
export function headerNames(webhook) {
  const names = webhook.headers ?? [];
  if (!names.length) return "None";
  const listed = names.flatMap((name, index) => [index ? ", " : "", h("code", {}, name)]);
  return h("span", { class: "header-names" }, listed, h("span", { class: "muted" }, " (values write-only)"));
}
