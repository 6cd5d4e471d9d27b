// A webhook's deliveries of the last 24 hours by outcome, an hour a bar, drawn as SVG from the log's
// list route (GET /webhooks/{id}/deliveries?since=): no storage of its own, no library.
import { counted, h, number, svg } from "./dom.js";
import { every, hook } from "./session.js";

const HOURS = 24;
const MOST = 2000; // pages of the log read at most; the caption says when there were more
export const OUTCOMES = [
  ["succeeded", "Succeeded"],
  ["failed", "Failed, retrying"],
  ["pending", "Pending"],
  ["dead", "Dead"],
  ["dropped", "Dropped"],
];
const [HEIGHT, LEFT, BOTTOM] = [160, 34, 22];

// `width`: the room it has, in CSS pixels; drawn to it, one unit a pixel, so its labels keep their size.
export async function deliveryChart(webhookId, width) {
  const end = Date.now();
  const start = end - HOURS * 3600 * 1000;
  const [deliveries, more] = await every(
    hook(webhookId, "deliveries"),
    { since: new Date(start).toISOString() },
    MOST,
  );
  const hours = Array.from({ length: HOURS }, () => Object.fromEntries(OUTCOMES.map(([state]) => [state, 0])));
  const totals = Object.fromEntries(OUTCOMES.map(([state]) => [state, 0]));
  for (const delivery of deliveries) {
    // One created while the page was read (or by a clock ahead of this one) is in the last hour, not left out.
    const hour = Math.min(HOURS - 1, Math.floor((Date.parse(delivery.createdAt) - start) / 3600000));
    if (hour < 0 || !(delivery.state in totals)) continue;
    hours[hour][delivery.state] += 1;
    totals[delivery.state] += 1;
  }
  const caption = summary(totals, Object.values(totals).reduce((a, b) => a + b, 0), more);
  return h(
    "figure",
    { class: "chart" },
    h("figcaption", { id: "chart-caption" }, caption),
    deliveries.length ? drawing(hours, start, Math.max(280, Math.round(width))) : null, // no empty axes: the caption says there is nothing
    deliveries.length ? h(
      "ul",
      { class: "legend", "aria-hidden": "true" },
      OUTCOMES.map(([state, label]) => h("li", {}, h("span", { class: `swatch fill-${state}` }), label)),
    ) : null,
  );
}

function summary(totals, count, more) {
  if (!count) return "No deliveries in the last 24 hours.";
  const parts = OUTCOMES.filter(([state]) => totals[state]).map(([state, label]) => `${number.format(totals[state])} ${label.toLowerCase()}`);
  const newest = more ? ` (the newest ${number.format(count)} only)` : "";
  return `${counted(count, "delivery", "deliveries")} in the last 24 hours${newest}: ${parts.join(", ")}.`;
}

function drawing(hours, start, width) {
  const tallest = Math.max(1, ...hours.map((hour) => Object.values(hour).reduce((a, b) => a + b, 0)));
  const plot = HEIGHT - BOTTOM;
  const slot = (width - LEFT) / HOURS;
  const shapes = [
    svg("line", { x1: LEFT, x2: width, y1: plot, y2: plot, class: "axis" }),
    svg("text", { x: LEFT - 6, y: 12, class: "tick", "text-anchor": "end" }, number.format(tallest)),
    svg("text", { x: LEFT - 6, y: plot, class: "tick", "text-anchor": "end" }, "0"),
  ];
  hours.forEach((hour, index) => {
    let top = plot;
    const from = new Date(start + index * 3600000);
    for (const [state, label] of OUTCOMES) {
      if (!hour[state]) continue;
      const tall = (hour[state] / tallest) * (plot - 8);
      top -= tall;
      shapes.push(
        svg(
          "rect",
          { x: LEFT + index * slot + 2, y: top, width: slot - 4, height: tall, class: `fill-${state}` },
          svg("title", {}, `${from.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}: ${hour[state]} ${label.toLowerCase()}`),
        ),
      );
    }
    if (index % 6 === 0 && LEFT + index * slot + 90 < width) {  // never over the "now" at the end
      const label = from.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
      shapes.push(svg("text", { x: LEFT + index * slot + 2, y: HEIGHT - 4, class: "tick" }, label));
    }
  });
  shapes.push(svg("text", { x: width, y: HEIGHT - 4, class: "tick", "text-anchor": "end" }, "now"));
  return svg(
    "svg",
    { viewBox: `0 0 ${width} ${HEIGHT}`, role: "img", "aria-labelledby": "chart-caption", class: "chart-drawing" },
    shapes,
  );
}
