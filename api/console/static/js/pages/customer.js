// Customer 360: profile (masked per role by the API), segments, orders, returns, cases,
// callbacks, satisfaction and the contact timeline across channels.
import { get } from "../api.js";
import { card, field, h, kv, table, text } from "../dom.js";

const CASE_COLUMNS = [["case_ref", "case"], ["opened_at", "opened"], ["channel"], ["status"], ["priority"], ["topic"]];

export async function render(container, id, { go, session }) {
  const idInput = h("input", { name: "customer_id", value: id || "", size: 28, required: true });
  container.append(h("h1", {}, "Customer 360"), card(null,
    h("form", { class: "filters", onsubmit: (e) => { e.preventDefault(); go("customer", idInput.value.trim()); } },
      field("customer id", idInput), h("button", {}, "Open"))));
  if (!id) return;
  const view = await get(`/v1/customers/${encodeURIComponent(id)}`);
  const openCase = ["auditor", "admin"].includes(session.role) ? (row) => go("case", row.case_ref) : undefined;
  const cases = ["open", "awaiting_confirmation", "past"].flatMap((state) =>
    (view.cases[state] || []).map((c) => ({ ...c, state })));
  const profile = view.profile || {};
  container.append(
    h("div", { class: "grid2" },
      card("Profile", h("div", { id: "profile" },
        kv({ customer_id: view.customer_id, first_seen_at: view.first_seen_at, as_of: `${view.as_of} (${view.as_of_basis})`,
          registered_at: profile.registered_at, channel: profile.channel, member_id: profile.member_id,
          ...(profile.personal || {}), consents: (view.consents || {}).current }))),
      card("Segments", kv(view.segments || {}))),
    card("Cases", table(cases, [...CASE_COLUMNS, ["state"]], { id: "customer-cases", onRow: openCase })),
    h("div", { class: "grid2" },
      card("Orders", table(view.orders, [["order_id", "order"], ["status"], ["placed_at", "placed"], ["amount_paid", "paid"], ["delivered_late", "late"]])),
      card("Returns", table(view.returns, [["return_id", "return"], ["order_id", "order"], ["status"], ["requested_at", "requested"]]))),
    h("div", { class: "grid2" },
      card("Callbacks", table(view.callbacks, null)),
      card("Satisfaction", table(view.satisfaction, [["survey_id", "survey"], ["case_ref", "case"], ["sent_at", "sent"], ["answered_at", "answered"], ["scores", "scores", text]]))),
    card(`Contact timeline across channels${view.timeline_truncated ? " (truncated)" : ""}`,
      table(view.timeline, [["at"], ["event"], ["channel"], ["contact_id", "contact"], ["case_ref", "case"]], { id: "timeline" })));
}
