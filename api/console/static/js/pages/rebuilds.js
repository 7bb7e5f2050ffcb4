// Rebuilds: start one for a read model, follow its progress until it swaps or fails.
import { get, post } from "../api.js";
import { card, field, h, problem, table } from "../dom.js";

const POLL_MS = 1000;
const COLUMNS = [["job_id", "job"], ["read_model", "read model"], ["state"], ["started_at", "started"],
  ["position"], ["head"], ["applied"], ["events_per_s", "events/s"], ["error"]];

const progress = (job) => (job.position !== null && job.head ? `${Math.round((100 * job.position) / job.head)} %` : "–");

export async function render(container) {
  const model = h("input", { name: "read_model", placeholder: "complaint_ledger", required: true });
  const message = h("div");
  const rows = h("div", { id: "rebuild-rows" });
  container.append(h("h1", {}, "Rebuilds"), card(null,
    h("form", { class: "filters", id: "rebuild-start", onsubmit: start }, field("read model", model), h("button", {}, "Rebuild")),
    message, rows));
  let timer = null;
  async function refresh() {
    if (!container.isConnected) return clearTimeout(timer);
    const jobs = (await get("/v1/admin/rebuilds")).items;
    rows.replaceChildren(table(jobs, [...COLUMNS, ["progress", "progress", (_, job) => progress(job)]], { id: "rebuilds" }));
    if (jobs.some((j) => j.state === "running")) timer = setTimeout(refresh, POLL_MS);
  }
  async function start(event) {
    event.preventDefault();
    message.replaceChildren();
    try {
      await post("/v1/admin/rebuilds", { read_model: model.value.trim() });
    } catch (error) {
      message.replaceChildren(problem(error));
    }
    await refresh();
  }
  await refresh();
}
