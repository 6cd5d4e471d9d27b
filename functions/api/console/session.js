// The signed-in session and the API. The bearer token lives in memory; it goes to localStorage only
// when "remember me" is ticked, and it is only ever sent in the Authorization header (never in a URL,
// never logged).

const STORAGE_KEY = "bluehooks.console.token";
const API = new URL("..", import.meta.url); // the API is the console's parent: /console/session.js → /
const WRITERS = new Set(["OWNER", "ADMIN", "PROJECT_MANAGER"]);

export const session = { token: null, claims: null, remembered: false, catalog: [] };
export const revealed = new Map(); // webhook id → its secret, shown once after create or rotate
const refusedHandlers = [];

export const onRefused = (handler) => refusedHandlers.push(handler);

export function canWrite() {
  return WRITERS.has(session.claims?.role);
}

export function claimsOf(token) {
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

export function rememberedToken() {
  try {
    return storage()?.getItem(STORAGE_KEY) || null;
  } catch {
    return null;
  }
}

export function remember(token) {
  try {
    storage()?.setItem(STORAGE_KEY, token);
    return true;
  } catch {
    return false;
  }
}

export function forget() {
  try {
    storage()?.removeItem(STORAGE_KEY);
  } catch {
    // nothing was stored
  }
}

export function identityOf(token) {
  try {
    const { sub, company } = claimsOf(token);
    return { sub: String(sub ?? "unknown user"), company: String(company ?? "no company") };
  } catch {
    return { sub: "an unreadable token", company: "unknown" };
  }
}

export function sameIdentity(one, other) {
  const [a, b] = [identityOf(one), identityOf(other)];
  return a.sub === b.sub && a.company === b.company;
}

export function describe(token) {
  const { sub, company } = identityOf(token);
  return `${sub} of company ${company}`;
}

export class ApiError extends Error {
  constructor(status, message, errors) {
    super(message);
    this.status = status;
    this.errors = errors || [];
  }
}

export async function api(method, path, body) {
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
  if (response.status === 401) refusedHandlers.forEach((handler) => handler(message));
  throw error;
}

export const hook = (id, ...rest) => ["webhooks", encodeURIComponent(id), ...rest].join("/");

export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value) search.set(key, value);
  const text = search.toString();
  return text ? `?${text}` : "";
}

// Every item of a list route, page after page, up to `most` items: [items, whether more remain].
export async function every(path, params, most) {
  const items = [];
  let cursor = null;
  do {
    const page = await api("GET", path + query({ ...params, limit: "100", cursor }));
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor && items.length < most);
  return [items, Boolean(cursor)];
}
