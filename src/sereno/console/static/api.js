// Talking to the server: JSON in and out, the session cookie, and errors that carry the server's words.

export async function api(path, options = {}) {
  const response = await fetch(path, { credentials: "same-origin", ...options,
    headers: { "content-type": "application/json", ...(options.headers || {}) } });
  const body = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    const detail = Array.isArray(body?.detail) ? body.detail.map((d) => d.msg).join("; ") : body?.detail;
    throw Object.assign(new Error(detail || body?.title || response.statusText), { response, body });
  }
  return body;
}

export const post = (path, body) => api(path, { method: "POST", body: JSON.stringify(body) });

// Small DOM helpers shared by the views: build elements without innerHTML (no markup from data, ever).
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  node.append(...children.flat().filter((c) => c !== undefined && c !== null && c !== false));
  return node;
}

export const time = (us) => (us ? new Date(us / 1000).toISOString().slice(11, 19) : "");
export const dateTime = (us) => (us ? new Date(us / 1000).toISOString().slice(0, 19).replace("T", " ") : "");
