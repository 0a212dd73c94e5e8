// The live feed (Server-Sent Events from /api/live): views subscribe to event names ("incident", "unit",
// "call", "camera", ...). The browser reconnects by itself; a "resync" asks every view to reload.

const handlers = new Map();
let source = null;

export function connect(onState) {
  if (source) return;
  source = new EventSource("/api/live");
  source.addEventListener("open", () => onState?.("live"));
  source.addEventListener("error", () => onState?.(source.readyState === EventSource.CLOSED ? "closed" : "reconnecting"));
  for (const name of ["hello", "call", "incident", "unit", "camera", "camera-moved", "alert", "resync"]) {
    source.addEventListener(name, (event) => {
      const data = event.data ? JSON.parse(event.data) : {};
      for (const handler of handlers.get(name) || []) handler(data);
    });
  }
}

export function on(name, handler) {
  if (!handlers.has(name)) handlers.set(name, new Set());
  handlers.get(name).add(handler);
  return () => handlers.get(name).delete(handler);
}

export function disconnect() { source?.close(); source = null; }
