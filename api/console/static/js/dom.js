// Small DOM helpers: elements, tables, key-value lists, formats.
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "class") element.className = value;
    else element.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

export function text(value) {
  if (value === null || value === undefined) return "–";
  if (typeof value === "number") return Number.isInteger(value) ? value.toLocaleString("en") : value.toFixed(3);
  if (Array.isArray(value)) return value.map(text).join(", ");
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

export const percent = (value) => (value === null || value === undefined ? "–" : `${(value * 100).toFixed(1)} %`);

// rows: objects; columns: [name, label?, render?]; onRow(row) makes rows clickable.
export function table(rows, columns, { onRow, rowClass, id } = {}) {
  const cols = columns || Object.keys(rows[0] || {}).map((name) => [name]);
  const head = h("tr", {}, cols.map(([name, label]) => h("th", {}, label || name)));
  const body = rows.map((row) =>
    h("tr", {
      class: [onRow ? "clickable" : "", rowClass ? rowClass(row) : ""].join(" ").trim() || undefined,
      onclick: onRow ? () => onRow(row) : undefined,
    }, cols.map(([name, , render]) => h("td", {}, render ? render(row[name], row) : text(row[name])))));
  return h("div", { class: "scroll" }, h("table", { id }, h("thead", {}, head), h("tbody", {}, body)));
}

export function kv(object, names) {
  return h("dl", { class: "kv" }, (names || Object.keys(object)).flatMap((name) => [
    h("dt", {}, name), h("dd", {}, text(object[name])),
  ]));
}

export function card(title, ...children) {
  return h("div", { class: "card" }, title ? h("h2", {}, title) : null, ...children);
}

export function problem(error) {
  return h("p", { class: "error", role: "alert" }, `${error.status || ""} ${error.message}`);
}

export function field(label, input) {
  return h("label", {}, label, input);
}

export function select(name, options, value) {
  return h("select", { name }, options.map((o) => h("option", { value: o, selected: o === value }, o || "(any)")));
}

export function download(data, filename) {
  const link = h("a", { href: URL.createObjectURL(data), download: filename, id: "download-link" });
  document.body.append(link);
  link.click();
  link.remove();
}
