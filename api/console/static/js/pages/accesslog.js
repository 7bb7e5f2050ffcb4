// The access log: reads of clear personal data and case histories, newest first.
import { get } from "../api.js";
import { card, field, h, table } from "../dom.js";

export async function render(container) {
  const form = h("form", { class: "filters" },
    field("subject", h("input", { name: "subject", placeholder: "customer:<id> or case:<ref>", size: 28 })),
    field("key", h("input", { name: "key_id", size: 20 })), h("button", {}, "Apply"));
  const rows = h("div", { id: "access-rows" });
  const more = h("button", { type: "button", class: "secondary", hidden: true }, "Next page");
  container.append(h("h1", {}, "Access log"), card(null, form, rows, more));
  let cursor = null;
  let shown = [];
  async function load(next) {
    const params = Object.fromEntries(new FormData(form).entries());
    const page = await get("/v1/admin/access-log", { ...params, limit: 100, cursor: next ? cursor : null });
    shown = next ? shown.concat(page.items) : page.items;
    cursor = page.next_cursor;
    more.hidden = !cursor;
    rows.replaceChildren(table(shown, null, { id: "access-log" }));
  }
  form.addEventListener("submit", (e) => { e.preventDefault(); load(false); });
  more.addEventListener("click", () => load(true));
  await load(false);
}
