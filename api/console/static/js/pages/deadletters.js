// Dead letters: refused records, filtered, inspected (masked by the API), a page at a time.
// Admins list all of them; a channel key its own (`/v1/deadletters`).
import { get, post } from "../api.js";
import { card, field, h, kv, problem, table } from "../dom.js";

const FILTERS = ["topic", "type", "customer", "rule"];
const COLUMNS = [["dead_letter", "letter"], ["dead_lettered_at", "at"], ["source"], ["published_by", "by"],
  ["type"], ["customer_id", "customer"], ["reason", "reason", (r) => (r.length > 100 ? `${r.slice(0, 100)}…` : r)]];

export async function render(container, _arg, { page }) {
  const admin = page.id === "deadletters";
  const path = admin ? "/v1/admin/deadletters" : "/v1/deadletters";
  const form = h("form", { class: "filters", id: "deadletter-filters" },
    [...FILTERS, ...(admin ? ["published_by"] : [])].map((name) => field(name, h("input", { name, size: 12 }))),
    h("button", {}, "Apply"));
  const status = h("p", { class: "muted" });
  const rows = h("div", { id: "deadletter-rows" });
  const inspect = h("div", { id: "deadletter" });
  const more = h("button", { type: "button", class: "secondary", hidden: true }, "Next page");
  container.append(h("h1", {}, admin ? "Dead letters" : "My dead letters"),
    card(null, form, status, rows, more), inspect);
  let cursor = null;
  let shown = [];
  const outcome = h("div", { id: "replay-result" });
  async function replay(letter) {
    if (!window.confirm(`Publish the original of ${letter.source} again to ${letter.source_topic}?`)) return;
    try {
      const done = (await post("/v1/admin/deadletters/replay", { sources: [letter.source] })).replayed;
      outcome.replaceChildren(...done.map((r) => h("p", { class: "ok", "data-replayed-to": r.replayed_to }, `Replayed ${r.source} to ${r.replayed_to}; the ingest decides it again.`)));
    } catch (error) {
      outcome.replaceChildren(problem(error));
    }
  }
  const show = (letter) => inspect.replaceChildren(card(`Dead letter ${letter.dead_letter}`,
    kv(letter, ["dead_letter", "dead_lettered_at", "source", "published_by", "event_id", "type", "customer_id", "reason", "named", "original_shown", "original_bytes", "truncated"]),
    admin && letter.source && letter.original_shown !== "erased"
      ? h("button", { type: "button", id: "replay", onclick: () => replay(letter) }, "Replay") : null,
    outcome,
    h("h2", {}, `Original (${letter.original_shown})`), h("pre", { id: "original" }, letter.original)));
  async function load(next) {
    const params = Object.fromEntries(new FormData(form).entries());
    const answer = await get(path, { ...params, limit: 50, cursor: next ? cursor : null });
    shown = next ? shown.concat(answer.items) : answer.items;
    cursor = answer.next_cursor;
    more.hidden = !cursor;
    status.textContent = admin
      ? `${shown.length} shown of ${answer.count} ever written to the dead-letter topic.`
      : `${shown.length} shown, published by ${answer.source}.`;
    rows.replaceChildren(table(shown, COLUMNS, { id: "deadletters", onRow: show }));
  }
  form.addEventListener("submit", (e) => { e.preventDefault(); load(false); });
  more.addEventListener("click", () => load(true));
  await load(false);
}
