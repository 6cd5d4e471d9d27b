// Elements from data, as text only: names, URLs and response excerpts come from other people, so API
// data is never put in the page as markup (no innerHTML anywhere in the console).

export const $ = (id) => document.getElementById(id);

export const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
export const number = new Intl.NumberFormat();
export const millis = new Intl.NumberFormat(undefined, { style: "unit", unit: "millisecond", unitDisplay: "short" });
const plural = new Intl.PluralRules("en");
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

const PROPERTIES = new Set(["checked", "value", "disabled", "hidden", "selected"]);
const SVG = "http://www.w3.org/2000/svg";

function build(element, attributes, children) {
  for (const [key, value] of Object.entries(attributes || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") element.setAttribute("class", value);
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

export function h(tag, attributes, ...children) {
  return build(document.createElement(tag), attributes, children);
}

export function svg(tag, attributes, ...children) {
  return build(document.createElementNS(SVG, tag), attributes, children);
}

export function when(iso, none = "never") {
  if (!iso) return h("span", { class: "muted" }, none);
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return h("time", { datetime: iso, title: iso }, dateTime.format(date));
}

// "in 3 minutes", "2 hours ago": for times near now, with the full time on hover.
export function fromNow(iso) {
  const date = new Date(iso);
  const seconds = Math.round((date.getTime() - Date.now()) / 1000);
  const [value, unit] =
    Math.abs(seconds) < 60
      ? [seconds, "second"]
      : Math.abs(seconds) < 3600
        ? [Math.round(seconds / 60), "minute"]
        : Math.abs(seconds) < 86400
          ? [Math.round(seconds / 3600), "hour"]
          : [Math.round(seconds / 86400), "day"];
  return h("time", { datetime: iso, title: dateTime.format(date) }, relative.format(value, unit));
}

export function counted(n, one, many) {
  return `${number.format(n)} ${plural.select(n) === "one" ? one : many}`;
}

// An id: kept on one line (never one character wrapped onto the next), scrolled sideways when too long.
export const idCode = (id) => h("code", { class: "id" }, id);

export function facts(rows) {
  return h(
    "dl",
    { class: "facts" },
    rows.filter(Boolean).map(([term, detail, wide]) => h("div", { class: wide }, h("dt", {}, term), h("dd", {}, detail))),
  );
}
