// The webhooks console: plain ES modules, no build step, served by the API function at /console.
// This module signs in and out and routes; each screen is a module of its own (list, form, detail).
import { renderDetail } from "./detail.js";
import { $, dateTime } from "./dom.js";
import { renderEdit, renderForm } from "./form.js";
import { renderList } from "./list.js";
import { clearNotices, notify } from "./notices.js";
import {
  api,
  canWrite,
  claimsOf,
  describe,
  forget,
  onRefused,
  remember,
  rememberedToken,
  revealed,
  sameIdentity,
  session,
} from "./session.js";
import { confirmButtons, confirmDialog, go, stopWatching, takeFlash, view } from "./views.js";

// A link's token (#token=...) is for this tab only: it never replaces or erases a remembered one.
const LEAVE_STORED = "leave-stored";

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

// One of another company or user than the token in use is taken only when the person agrees.
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

function tokenFromFragment() {
  const fragment = location.hash.slice(1);
  if (!/(^|&)token=/.test(fragment)) return null;
  const token = new URLSearchParams(fragment).get("token");
  history.replaceState(null, "", location.pathname + location.search); // out of the address bar and history
  return token ? token.trim() : null;
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
  view.generation += 1;
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

function route() {
  if (!session.token) return;
  stopWatching();
  clearNotices();
  takeFlash();
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

function start() {
  view.route = route;
  onRefused(tokenRefused);
  confirmButtons();
  $("skip-link").addEventListener("click", (event) => {
    event.preventDefault(); // not a route: focus the content
    $("main").focus();
  });
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
