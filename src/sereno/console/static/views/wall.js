// The camera wall: live anonymised MJPEG tiles of the cameras this user may see, with health badges; a tile
// opens its camera's page (views/camera.js).
// Every tile is a live view the server audits; a camera with no anonymised picture shows "no picture".

const LAYOUTS = [1, 4, 9, 16];

function badge(health) {
  const span = document.createElement("span");
  const main = health.find((h) => h.stream === "main");
  const state = main ? main.state : "unknown";
  span.className = `badge ${state}`;
  span.textContent = main && state === "streaming" ? `rec ${main.fps.toFixed(0)} fps ${Math.round(main.kbps)} kb/s` : `rec ${state}`;
  span.title = main?.last_error || "";
  return span;
}

function tile(camera) {
  const figure = document.createElement("figure");
  figure.className = "tile";
  figure.dataset.camera = camera.id;
  const img = document.createElement("img");
  img.alt = `Live, anonymised: ${camera.name}`;
  const source = `/api/video/${encodeURIComponent(camera.id)}/live.mjpeg`;
  img.src = source;
  // No picture yet (camera starting, anonymiser warming up) or the stream ended: say so, and try again, so a
  // camera that comes back reappears on the wall without anyone reloading the page.
  img.addEventListener("error", () => {
    figure.classList.add("dark");
    setTimeout(() => { if (figure.isConnected) img.src = `${source}?retry=${Date.now()}`; }, 3000);
  });
  img.addEventListener("load", () => { figure.classList.remove("dark"); });
  const caption = document.createElement("figcaption");
  const name = document.createElement("a");
  name.href = `#/camera/${encodeURIComponent(camera.id)}`; // the camera's page: its alerts and playback
  name.textContent = camera.name;
  name.className = "open";
  caption.append(name, document.createElement("span"));
  // The whole picture opens the camera too (the name is the keyboard's way in, so one tab stop per tile).
  img.addEventListener("click", () => { location.hash = name.getAttribute("href"); });
  figure.append(img, caption);
  return figure;
}

export async function mount(root, { api }) {
  root.id = "wall";
  const select = document.createElement("select");
  const grid = document.createElement("div");
  grid.className = "grid";
  const heading = document.createElement("h2");
  heading.textContent = "Camera wall";
  const label = document.createElement("label");
  label.append("Layout ", select);
  const note = document.createElement("p");
  note.className = "note";
  note.textContent = "Live pictures are anonymised before they leave the server; every view is audited.";
  root.append(heading, label, note, grid);
  const cameras = await api("/api/cameras");
  let layout = Number(localStorage.getItem("sereno.wall") || 4);
  select.replaceChildren(...LAYOUTS.map((n) => {
    const option = document.createElement("option");
    option.value = String(n); option.textContent = `${n} per screen`; option.selected = n === layout;
    return option;
  }));
  const render = () => {
    grid.style.setProperty("--columns", String(Math.ceil(Math.sqrt(layout))));
    grid.replaceChildren(...cameras.slice(0, layout).map(tile));
  };
  select.addEventListener("change", () => { layout = Number(select.value); localStorage.setItem("sereno.wall", select.value); render(); });
  render();
  const refresh = async () => {
    const health = await api("/api/health/streams").catch(() => []);
    for (const figure of grid.querySelectorAll("figure")) {
      const mine = health.filter((h) => h.camera_id === figure.dataset.camera);
      figure.querySelector("figcaption").lastChild.replaceWith(badge(mine));
    }
  };
  await refresh();
  setInterval(refresh, 5000);
}
