// API keys: list, create (the secret is shown once), revoke.
import { del, get, post } from "../api.js";
import { card, field, h, problem, select, table } from "../dom.js";

const ROLES = ["analyst", "auditor", "admin", "channel"];

export async function render(container) {
  const role = select("role", ROLES, "analyst");
  const label = h("input", { name: "label", size: 16 });
  const source = h("input", { name: "source", size: 16, placeholder: "channel keys only" });
  const issued = h("div", { id: "issued" });
  const rows = h("div", { id: "key-rows" });
  container.append(h("h1", {}, "API keys"), card(null,
    h("form", { class: "filters", onsubmit: create }, field("role", role), field("label", label), field("source", source), h("button", {}, "Create key")),
    issued, rows));
  async function refresh() {
    const keys = (await get("/v1/admin/keys")).items;
    rows.replaceChildren(table(keys, [["key_id", "key"], ["role"], ["label"], ["source"], ["created_at", "created"], ["revoked_at", "revoked"],
      ["active", "", (active, key) => (active ? h("button", { type: "button", class: "secondary", onclick: () => revoke(key.key_id) }, "Revoke") : "revoked")]], { id: "keys" }));
  }
  async function create(event) {
    event.preventDefault();
    try {
      const made = await post("/v1/admin/keys", { role: role.value, label: label.value || null, ...(source.value ? { source: source.value } : {}) });
      issued.replaceChildren(h("p", {}, `New ${made.role} key (shown this once): `, h("code", {}, made.key)));
    } catch (error) {
      issued.replaceChildren(problem(error));
    }
    await refresh();
  }
  async function revoke(keyId) {
    if (!window.confirm(`Revoke key ${keyId}? Calls with it fail at once.`)) return;
    await del(`/v1/admin/keys/${encodeURIComponent(keyId)}`);
    await refresh();
  }
  await refresh();
}
