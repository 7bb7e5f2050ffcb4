// Case (auditors): the state as of a time or version, its SLA clocks, the timeline of
// facts and decisions with their source coordinates, verify, what-if under another policy
// version (differences highlighted), and a printable view.
import { get } from "../api.js";
import { card, field, h, kv, problem, select, table, text } from "../dom.js";

const SUMMARY = ["case_ref", "customer_id", "classification", "topic", "priority", "status", "channels",
  "store_id", "agent_group", "opened_at", "first_response_at", "resolved_at", "closed_at", "owner",
  "due_at", "escalation_level", "reopen_count", "policy_version", "version", "recorded_at", "as_of"];

function source(s) {
  return s ? `${s.topic}[${s.partition}]@${s.offset} · ${s.event_id}` : "–";
}

function cause(c) {
  if (!c) return "–";
  return c.kind === "watermark" ? "watermark" : `${c.kind} v${c.version} ${c.type}`;
}

function outcome(o) {
  if (!o) return h("span", { class: "badge" }, "undecided");
  return h("span", { class: `badge ${o.met ? "met" : "breached"}` },
    `${o.met ? "met" : "breached"} (target ${text(o.target)} s, actual ${text(o.actual)} s)`);
}

export async function render(container, ref, { go }) {
  const refInput = h("input", { name: "case_ref", value: ref || "", size: 32, required: true });
  container.append(h("h1", {}, "Case"), card(null,
    h("form", { class: "filters", id: "case-pick", onsubmit: (e) => { e.preventDefault(); go("case", refInput.value.trim()); } },
      field("case reference", refInput), h("button", {}, "Open"))));
  if (!ref) return;
  const [state, history, policies] = await Promise.all([
    get(`/v1/cases/${encodeURIComponent(ref)}`),
    get(`/v1/cases/${encodeURIComponent(ref)}/history`, { limit: 1000 }),
    get("/v1/policies"),
  ]);
  const stateBox = h("div", { id: "case-state" });
  const asOf = h("input", { name: "as_of", placeholder: "2026-03-02T10:00:00+08:00, a date, or a version", size: 36 });
  async function showState(point) {
    const shown = point ? await get(`/v1/cases/${encodeURIComponent(ref)}`, { as_of: point }) : state;
    const clocks = shown.clocks || { open: [], outcomes: [] };
    stateBox.replaceChildren(h("div", { class: "grid2" },
      kv(shown, SUMMARY.filter((n) => n in shown)),
      h("div", {}, h("h2", {}, "SLA clocks"),
      table(clocks.outcomes, [["rule"], ["key"], ["target", "target (s)"], ["actual", "actual (s)"], ["met", "outcome", (m) => h("span", { class: `badge ${m ? "met" : "breached"}` }, m ? "met" : "breached")]], { id: "clock-outcomes" }),
      clocks.open.length ? table(clocks.open, null, { id: "clocks-open" }) : h("p", { class: "muted" }, "No clock running."))));
    stateBox.dataset.asOf = point || "";
  }
  const verifyBox = h("div", { id: "verify-result" });
  const whatIfBox = h("div", { id: "what-if-result" });
  const versions = policies.items.map((p) => p.version).filter((v) => v !== state.policy_version);
  const policyPick = select("policy_version", versions, versions[0]);

  container.append(
    card(`Case ${ref}`,
      h("div", { class: "filters" },
        field("as of (event time, date or version)", asOf),
        h("button", { type: "button", id: "show-as-of", onclick: () => showState(asOf.value.trim()).catch((e) => stateBox.replaceChildren(problem(e))) }, "Show as of"),
        h("button", { type: "button", class: "secondary", onclick: () => { asOf.value = ""; showState(null); } }, "Now"),
        h("button", { type: "button", id: "verify", onclick: verify }, "Verify"),
        field("what-if under policy", policyPick),
        h("button", { type: "button", id: "what-if", onclick: whatIf }, "What if"),
        h("button", { type: "button", class: "secondary", onclick: () => window.print() }, "Print")),
      verifyBox, whatIfBox, stateBox),
    card("Timeline of facts and decisions",
      table(history.events, [["version"], ["kind"], ["type"], ["occurred_at", "event time"], ["recorded_at", "recorded"],
        ["source", "source coordinates", source], ["caused_by", "caused by", cause],
        ["data", "data", (d) => h("code", {}, JSON.stringify(d))]], { id: "timeline", rowClass: (e) => e.kind })));
  await showState(null);

  async function verify() {
    verifyBox.replaceChildren(h("p", { class: "muted" }, "Verifying…"));
    const report = await get(`/v1/cases/${encodeURIComponent(ref)}/verify`);
    verifyBox.replaceChildren(report.ok
      ? h("p", { class: "ok", "data-ok": "true" }, `Verified: ${report.events_checked} events, the hash chain matches (${report.chained} chained, ${report.pending} pending).`)
      : h("p", { class: "error", "data-ok": "false" },
        `Tampered: event version ${report.problem.version} is ${report.problem.kind}; ${report.events_checked} events before it check out.`));
  }

  async function whatIf() {
    const version = policyPick.value;
    // The case's own clocks, and its contacts' (first response) opened with it.
    const opened = Date.parse(state.opened_at);
    const [own, contacts] = await Promise.all([
      get("/v1/what-if", { policy_version: version, case_ref: ref }),
      get("/v1/what-if", { policy_version: version, opened_from: new Date(opened).toISOString(), opened_to: new Date(opened + 1000).toISOString(), limit: 100 }),
    ]);
    const mine = new Set([ref, ...(state.contact_ids || [])]);
    const aggregates = own.aggregates.concat(contacts.aggregates.filter((a) => a.kind !== "Case" && mine.has(a.ref)));
    const rows = aggregates.flatMap((a) => a.differences.map((d) => ({ aggregate: `${a.kind} ${a.ref}`, ...d })));
    const differing = new Set(own.aggregates.flatMap((a) => a.differences.map((d) => d.key)));
    for (const row of stateBox.querySelectorAll("#clock-outcomes tbody tr")) {
      row.classList.toggle("diff", differing.has(row.children[1].textContent));
    }
    whatIfBox.replaceChildren(h("h2", {}, `What if under ${version}`), rows.length
      ? table(rows, [["aggregate"], ["rule"], ["key"], ["change"], ["recorded", "recorded", outcome], ["alternative", `under ${version}`, outcome]], { id: "what-if-diffs", rowClass: () => "diff" })
      : h("p", { id: "what-if-diffs" }, `No SLA outcome would differ under ${version}.`));
  }
}
