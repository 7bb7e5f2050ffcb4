// Overview (analysts): KPI tiles beside their targets, trends, volume by dimension,
// breaches by rule, the funnel, anomalies; figures open the events they were built from.
import { get } from "../api.js";
import { bars, lines } from "../charts.js";
import { card, field, h, percent, select, table, text } from "../dom.js";

// KPI → the count its numerator is made of (/v1/kpis/explain `metric`).
const TILES = [
  ["response_rate", "Response rate", percent, "responses_in_target"],
  ["fcr_rate", "First-contact resolution", percent, "fcr"],
  ["return_rate", "Return rate", percent, "returned_orders"],
  ["csat", "CSAT (1-5)", (v) => text(v), "csat"],
  ["nps", "NPS", (v) => text(v), "nps_answers"],
  ["complaint_rate", "Complaint rate", percent, "complaint_cases"],
];
const GRAINS = ["day", "week", "month"];
const MAX_ANOMALY_DAYS = 366;

const dayBefore = (day, days) => new Date(Date.parse(day) - days * 86400000).toISOString().slice(0, 10);

function tile([name, title, format, metric], row, explain) {
  const target = row.targets[name];
  const state = target ? (target.met === true ? "met" : target.met === false ? "missed" : "") : "";
  return h("div", { class: `tile ${state}`, id: `tile-${name}`, "data-value": JSON.stringify(row[name]) },
    h("div", {}, title),
    h("div", { class: "value" }, format(row[name])),
    h("div", { class: "target" }, target
      ? `target ${target.direction === "at_least" ? "≥" : "≤"} ${format(target.target)} (${target.rule}) · ${state || "no data"}`
      : "no target"),
    h("a", { href: "#", onclick: (e) => { e.preventDefault(); explain(metric); } }, "explain"));
}

export async function render(container) {
  const params = new URLSearchParams(location.hash.split("?")[1] || "");
  const grain = GRAINS.includes(params.get("grain")) ? params.get("grain") : "day";
  const [total, daily] = await Promise.all([get("/v1/kpis"), get("/v1/kpis", { group_by: "day" })]);
  const row = total.rows[0];
  const days = daily.rows.map((r) => r.day);
  container.append(h("h1", {}, "Overview"));
  if (!row || !days.length) {
    container.append(card(null, h("p", { id: "no-data" }, "No facts yet: publish journeys, then reload.")));
    return;
  }
  const [first, last] = [days[0], days[days.length - 1]];
  const from = days.length > MAX_ANOMALY_DAYS ? dayBefore(last, MAX_ANOMALY_DAYS - 1) : first;
  const [trend, channel, store, group, funnel, anomalies] = await Promise.all([
    grain === "day" ? daily : get("/v1/kpis", { group_by: grain }),
    get("/v1/kpis", { group_by: "channel" }),
    get("/v1/kpis", { group_by: "store" }),
    get("/v1/kpis", { group_by: "agent_group" }),
    get("/v1/kpis/funnel", { start: first, end: last }),
    get("/v1/anomalies", { start: from, end: last }),
  ]);

  const explainBox = h("div", { id: "explain" });
  const explainDay = select("day", days.slice().reverse(), last);
  const explainMetric = h("input", { name: "metric", value: "contacts", size: 24 });
  async function explain(metric, day, where = {}) {
    explainMetric.value = metric;
    if (day) explainDay.value = day;
    const found = await get("/v1/kpis/explain", { metric, day: explainDay.value, limit: 100, ...where });
    const scope = Object.entries(where).map(([k, v]) => ` ${k} ${v}`).join("");
    explainBox.replaceChildren(
      h("p", {}, `${found.count} events make ${found.metric} on ${found.day}${scope} (${found.tz})`),
      table(found.events, [["occurred_at", "event time"], ["type"], ["ref"], ["subkey"], ["value"], ["event_id"], ["detected_by"]]));
  }

  container.append(
    h("p", { class: "muted" }, `${first} – ${last}, report zone ${total.tz}; targets of policy ${total.policy_version}.`),
    h("div", { class: "tiles", id: "tiles" }, TILES.map((t) => tile(t, row, explain))),
  );
  const trendChart = h("div", { class: "chart", id: "trend-chart" });
  const grainPick = select("grain", GRAINS, grain);
  grainPick.addEventListener("change", () => { location.hash = `#/overview?grain=${grainPick.value}`; });
  const breaches = Object.entries(row.breaches).sort((a, b) => b[1] - a[1]);
  const breachChart = h("div", { class: "chart" });
  container.append(
    h("div", { class: "grid2" },
      card("Trends", h("div", { class: "filters" }, field("by", grainPick)), trendChart),
      card("Breaches by rule",
        breachChart,
        table(breaches.map(([rule, n]) => ({ rule, breaches: n })), [["rule"], ["breaches"]],
          { id: "breaches", onRow: (r) => explain(`breaches:${r.rule}`) }))),
  );
  const volume = [["channel", channel], ["store", store], ["agent_group", group]].map(([name, answer]) => {
    const element = h("div", { class: "chart" });
    return [name, answer, element];
  });
  container.append(h("div", { class: "grid2" }, volume.map(([name, , element]) => card(`Volume by ${name}`, element))));
  const stages = Object.entries(funnel.stages);
  container.append(h("div", { class: "grid2" },
    card("Journey funnel (R-KPI-08)", h("div", { id: "funnel" },
      table(stages.map(([stage, contacts]) => ({ stage, contacts })), [["stage"], ["contacts"]]),
      h("p", {}, `Consultation conversion: ${percent(funnel.conversion_rate)} (${funnel.converted} of ${funnel.pre_sale_contacts}); after-sales resolution: ${percent(funnel.after_sales_resolution_rate)}`))),
    card("Anomalies (R-KPI-06)", anomalies.anomalies.length
      ? table(anomalies.anomalies, [["dimension"], ["value"], ["flagged_days", "flagged days", (v) => h("span", { class: "flag" }, text(v))]], { id: "anomalies" })
      : h("p", { id: "anomalies" }, `None flagged from ${anomalies.start} to ${anomalies.end}.`))));
  container.append(card("Explain: the events a daily figure is made of",
    h("form", { class: "filters", onsubmit: (e) => { e.preventDefault(); explain(explainMetric.value); } },
      field("metric", explainMetric), field("day", explainDay), h("button", {}, "Explain")),
    explainBox));

  const labels = trend.rows.map((r) => r[grain]);
  const series = TILES.slice(0, 3).concat([TILES[5]]).map(([name, title]) => [title, trend.rows.map((r) => r[name])]);
  lines(trendChart, labels, series, (e) => grain === "day" && explain(TILES[e.seriesIndex === 3 ? 5 : e.seriesIndex][3], e.name));
  bars(breachChart, breaches.map(([rule]) => rule), [["breaches", breaches.map(([, n]) => n)]], (e) => explain(`breaches:${e.name}`));
  for (const [name, answer, element] of volume) {
    const rows = answer.rows.slice().sort((a, b) => b.contacts - a.contacts).slice(0, 12);
    bars(element, rows.map((r) => r[name] ?? "(none)"), [["contacts", rows.map((r) => r.contacts)], ["cases", rows.map((r) => r.cases)]],
      (e) => e.name !== "(none)" && explain(e.seriesIndex ? "cases" : "contacts", undefined, { [name]: e.name }));
  }
}
