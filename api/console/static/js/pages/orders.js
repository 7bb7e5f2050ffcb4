// Orders and returns, filtered by status, a page at a time (cursor).
import { get } from "../api.js";
import { card, field, h, select, table } from "../dom.js";

const LISTS = {
  orders: { path: "/v1/orders", statuses: ["", "placed", "shipped", "delivered", "cancelled"],
    columns: [["order_id", "order"], ["customer_id", "customer"], ["channel"], ["store_id", "store"], ["status"], ["placed_at", "placed"], ["amount_paid", "paid"], ["delivered_late", "late"], ["late_by_s", "late by (s)"]] },
  returns: { path: "/v1/returns", statuses: ["", "requested", "approved", "rejected", "refunded", "exchanged"],
    columns: [["return_id", "return"], ["order_id", "order"], ["customer_id", "customer"], ["status"], ["requested_at", "requested"], ["breaches"], ["overdue"]] },
};

export async function render(container, _arg, { go }) {
  container.append(h("h1", {}, "Orders and returns"));
  for (const [name, list] of Object.entries(LISTS)) {
    const status = select("status", list.statuses, "");
    const rows = h("div", { id: `${name}-rows` });
    const more = h("button", { type: "button", class: "secondary", hidden: true }, "Next page");
    let cursor = null;
    let shown = [];
    const load = async (next) => {
      const page = await get(list.path, { status: status.value, limit: 50, cursor: next ? cursor : null });
      shown = next ? shown.concat(page.items) : page.items;
      cursor = page.next_cursor;
      more.hidden = !cursor;
      rows.replaceChildren(table(shown, list.columns, { id: name, onRow: (row) => go("customer", row.customer_id) }));
    };
    status.addEventListener("change", () => load(false));
    more.addEventListener("click", () => load(true));
    container.append(card(name[0].toUpperCase() + name.slice(1), h("div", { class: "filters" }, field("status", status)), rows, more));
    await load(false);
  }
}
