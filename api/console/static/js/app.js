// The console: sign in with a key, then the pages the key's role may see. Which role may
// call which operation is read from the API's own description (OpenAPI `x-roles`), so a
// page is shown exactly when the API would answer its data call.
import { ApiError, get, key } from "./api.js";
import { h, problem } from "./dom.js";

const PAGES = [
  { id: "overview", title: "Overview", needs: "/v1/kpis" },
  { id: "ledger", title: "Ledger", needs: "/v1/complaints" },
  { id: "case", title: "Case", needs: "/v1/cases/{case_ref}" },
  { id: "customer", title: "Customer 360", needs: "/v1/customers/{customer_id}" },
  { id: "orders", title: "Orders", needs: "/v1/orders" },
  { id: "deadletters", title: "Dead letters", needs: "/v1/admin/deadletters" },
  { id: "own-deadletters", title: "My dead letters", needs: "/v1/deadletters", module: "deadletters" },
  { id: "rebuilds", title: "Rebuilds", needs: "/v1/admin/rebuilds" },
  { id: "keys", title: "Keys", needs: "/v1/admin/keys" },
  { id: "access-log", title: "Access log", needs: "/v1/admin/access-log", module: "accesslog" },
];

const $ = (id) => document.getElementById(id);
let session = null;
let allowed = [];

function rolesOf(spec, path) {
  return (spec.paths[path] && spec.paths[path].get && spec.paths[path].get["x-roles"]) || [];
}

function route() {
  const [, id, ...rest] = location.hash.split("?")[0].split("/");
  return { id, arg: rest.length ? decodeURIComponent(rest.join("/")) : undefined };
}

export function go(id, arg) {
  location.hash = arg === undefined ? `#/${id}` : `#/${id}/${encodeURIComponent(arg)}`;
}

async function show() {
  const { id, arg } = route();
  const page = allowed.find((p) => p.id === id) || allowed[0];
  const container = $("page");
  container.replaceChildren();
  delete container.dataset.loaded;
  for (const link of $("nav").children) link.classList.toggle("active", link.dataset.page === page.id);
  try {
    const module = await import(`./pages/${page.module || page.id}.js`);
    await module.render(container, arg, { session, go, page });
  } catch (error) {
    container.append(problem(error));
    if (error instanceof ApiError && error.status === 401) return signOut();
  }
  container.dataset.loaded = page.id;
}

async function signIn(secret) {
  key.set(secret);
  const [who, spec] = await Promise.all([get("/v1/session"), fetch("/openapi.json").then((r) => r.json())]);
  session = who;
  allowed = PAGES.filter((p) => rolesOf(spec, p.needs).includes(who.role));
  $("who").textContent = `${who.role} · key ${who.key_id}${who.clear_personal_data ? "" : " · personal data masked"}`;
  $("who").dataset.role = who.role;
  $("nav").replaceChildren(...allowed.map((p) => h("a", { href: `#/${p.id}`, "data-page": p.id }, p.title)));
  $("sign-in").hidden = true;
  $("sign-out").hidden = false;
  window.addEventListener("hashchange", show);
  await show();
}

function signOut() {
  key.clear();
  session = null;
  window.removeEventListener("hashchange", show);
  $("nav").replaceChildren();
  $("who").textContent = "";
  $("page").replaceChildren();
  $("sign-out").hidden = true;
  $("sign-in").hidden = false;
}

$("sign-in").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("sign-in-error").textContent = "";
  try {
    await signIn($("key").value.trim());
  } catch (error) {
    key.clear();
    $("sign-in-error").textContent = error.status === 401 ? "Unknown or revoked key." : error.message;
  }
});
$("sign-out").addEventListener("click", signOut);

if (key.get()) signIn(key.get()).catch(signOut);
else signOut();
