// The JSON API, called with the key kept in sessionStorage (this tab only).
const KEY = "journey.key";

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export const key = {
  get: () => sessionStorage.getItem(KEY),
  set: (value) => sessionStorage.setItem(KEY, value),
  clear: () => sessionStorage.removeItem(KEY),
};

export function url(path, params = {}) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === "") continue;
    for (const one of Array.isArray(value) ? value : [value]) query.append(name, one);
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

async function call(method, path, params, body) {
  const headers = { Authorization: `Bearer ${key.get()}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const answer = await fetch(url(path, params), {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!answer.ok) {
    let problem = {};
    try { problem = await answer.json(); } catch { /* not JSON */ }
    throw new ApiError(answer.status, problem);
  }
  return answer;
}

export const get = async (path, params) => (await call("GET", path, params)).json();
export const post = async (path, body) => (await call("POST", path, undefined, body)).json();
export const del = async (path) => (await call("DELETE", path)).json();
export const blob = async (path, params) => (await call("GET", path, params)).blob();
