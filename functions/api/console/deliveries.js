// How the delivery log shows a delivery: its row (state, last error, next retry), its attempts (each
// with its run: a retry or recover starts a new one), and the request we send.
import { counted, facts, fromNow, h, idCode, millis, number, when } from "./dom.js";

export const STATE_LABEL = {
  pending: "Pending",
  succeeded: "Succeeded",
  failed: "Failed, retrying",
  dead: "Dead",
  dropped: "Dropped",
};

// Not settled, and held back until a time the API gives (rate limited, or its endpoint unhealthy): waiting.
const isWaiting = (delivery) => ["pending", "failed"].includes(delivery.state) && Boolean(delivery.waitingUntil);

// Why it waits, in the API's words ("rate limited: at …", "endpoint unhealthy: next probe at …"), the time
// shown as the reader's.
function waitingFor(delivery) {
  const why = (delivery.reason || "waiting until").replace(/ at \S+$/, "");
  const until = delivery.waitingUntil;
  return [h("span", { class: "label" }, `${why[0].toUpperCase()}${why.slice(1)}`), " at ", when(until), " (", fromNow(until), ")"];
}

// What the collapsed row says after the state: when, what failed last, when it goes again.
export function rowParts(delivery) {
  const waiting = isWaiting(delivery);
  return [
    waiting
      ? h("span", { class: "state state-waiting" }, "Waiting")
      : h("span", { class: `state state-${delivery.state}` }, STATE_LABEL[delivery.state] || delivery.state),
    h("span", { class: "delivery-event" }, delivery.event),
    h("span", { class: "delivery-time" }, when(delivery.createdAt)),
    h("span", { class: "delivery-count" }, counted(delivery.attemptCount, "attempt", "attempts")),
    delivery.lastError && delivery.state !== "succeeded"
      ? h("span", { class: "delivery-error" }, h("span", { class: "label" }, "Last error: "), delivery.lastError)
      : null,
    delivery.nextRetryAt && delivery.state === "failed" && !waiting
      ? h("span", { class: "delivery-next" }, h("span", { class: "label" }, "Next retry "), fromNow(delivery.nextRetryAt))
      : null,
    waiting ? h("span", { class: "delivery-waiting" }, waitingFor(delivery)) : null,
  ];
}

export function deliveryFacts(delivery) {
  return facts([
    ["Delivery id", idCode(delivery.deliveryId)],
    ["Event id", idCode(delivery.eventId)],
    delivery.reason && !isWaiting(delivery) ? ["Reason", delivery.reason] : null, // a waiting one's is on its row
    delivery.nextRetryAt && !isWaiting(delivery) ? ["Next retry", when(delivery.nextRetryAt)] : null,
    isWaiting(delivery) ? ["Waiting until", when(delivery.waitingUntil)] : null,
  ]);
}

export function attemptItem(attempt) {
  const ok = attempt.statusCode >= 200 && attempt.statusCode < 300;
  const outcome = attempt.statusCode != null ? `HTTP ${attempt.statusCode}` : "No response";
  return h(
    "li",
    { class: `attempt ${ok ? "attempt-ok" : "attempt-bad"}` },
    h(
      "p",
      { class: "attempt-head" },
      h(
        "span",
        { class: "attempt-number" },
        `Run ${number.format((attempt.run ?? 0) + 1)} · Attempt ${number.format(attempt.attempt)}`,
      ),
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

// The request as the API shows it (GET of one delivery): signatures and custom header values hidden.
export function requestView(request) {
  if (!request) return null;
  const headers = Object.entries(request.headers).map(([name, value]) => `${name}: ${value}`);
  return h(
    "details",
    { class: "request" },
    h("summary", {}, "The request we send"),
    h("p", { class: "request-line" }, h("code", {}, `${request.method} ${request.url}`)),
    h("p", { class: "excerpt-label" }, "Headers"),
    h("pre", { class: "request-headers" }, headers.join("\n")),
    h("p", { class: "excerpt-label" }, "Body"),
    h("pre", { class: "request-body" }, JSON.stringify(request.body, null, 2)),
    request.bodyComplete
      ? null
      : h("p", { class: "hint" }, "A large payload: the log keeps its head only, the rest is in the payload bucket."),
  );
}
