// Ledger: the complaint cases, filtered, sorted, a page at a time (cursor), CSV export; a
// row opens its case (auditors) or its customer (analysts).
import { blob, get } from "../api.js";
import { card, download, field, h, select, table } from "../dom.js";

const SORTS = ["opened_at", "-opened_at", "priority", "-priority", "breaches", "-breaches", "reopen_count", "-reopen_count"];
const FILTERS = [
  ["status", ["", "open", "resolved", "reopened", "closed"]],
  ["priority", ["", "urgent", "important", "general"]],
  ["breached", ["", "true", "false"]],
];
const TEXTS = ["channel", "store", "agent_group"];
const COLUMNS = [
  ["case_ref", "case"], ["customer_id", "customer"], ["channel"], ["store_id", "store"], ["agent_group", "group"],
  ["priority"], ["status"], ["opened_at", "opened"], ["due_at", "due"], ["breaches"],
  ["overdue"], ["reopen_count", "reopened"], ["policy_version", "policy"],
];

export async function render(container, _arg, { go, session }) {
  const form = h("form", { class: "filters", id: "ledger-filters" },
    FILTERS.map(([name, options]) => field(name, select(name, options, ""))),
    TEXTS.map((name) => field(name, h("input", { name, size: 10 }))),
    field("sort", select("sort", SORTS, "opened_at")),
    h("button", { type: "submit" }, "Apply"),
    h("button", { type: "button", class: "secondary", id: "csv" }, "Download CSV"));
  const rows = h("div", { id: "ledger-rows" });
  const more = h("button", { type: "button", class: "secondary", id: "more", hidden: true }, "Next page");
  const status = h("p", { class: "muted", id: "ledger-status" });
  container.append(h("h1", {}, "Complaint ledger"), card(null, form, status, rows, more));
  const opens = session.role === "analyst"
    ? (row) => go("customer", row.customer_id)
    : (row) => go("case", row.case_ref);

  const params = () => Object.fromEntries(new FormData(form).entries());
  let cursor = null;
  let shown = [];
  async function load(next) {
    const page = await get("/v1/complaints", { ...params(), limit: 50, cursor: next ? cursor : null });
    shown = next ? shown.concat(page.items) : page.items;
    cursor = page.next_cursor;
    rows.replaceChildren(table(shown, COLUMNS, { id: "ledger", onRow: opens }));
    more.hidden = !cursor;
    status.textContent = `${shown.length} cases shown${cursor ? ", more on the next page" : ""}.`;
    rows.dataset.loaded = String(Date.now());
  }
  form.addEventListener("submit", (e) => { e.preventDefault(); load(false); });
  more.addEventListener("click", () => load(true));
  form.querySelector("#csv").addEventListener("click", async () => {
    download(await blob("/v1/complaints", { ...params(), format: "csv" }), "complaints.csv");
  });
  await load(false);
}
