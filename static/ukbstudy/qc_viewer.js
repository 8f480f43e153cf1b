// The QC page's images: true proportions, click to zoom, and a coronal slice viewer over the fused fat and
// water volumes with window/level. Slices are PNG tiles the server cuts from a cached 8-bit stack; the
// window is applied by a CSS filter (exact: see windowFilter), so a tile is fetched once per slice.
// qc.js may swap the next scan's page in place: "qc:page" on the document then binds the new images.
(function () {
  "use strict";
  let keys = {};  // the current page's image keys (the keydown listener is the document's, bound once)

  function typing(target) {
    return target instanceof HTMLElement && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
  }

  // Pictures whose pixels are not square millimetres carry their width / height in millimetres.
  function trueAspect(img, aspect) {
    img.classList.toggle("true-aspect", Boolean(aspect));
    img.style.aspectRatio = aspect || "";
  }
  const zoom = document.getElementById("zoom");  // the overlay stays when the page is swapped
  if (zoom) zoom.addEventListener("click", () => zoom.close());

  function setup() {
    keys = {};
    document.querySelectorAll(".qc-images img[data-aspect]").forEach((img) => trueAspect(img, img.dataset.aspect));
    if (zoom) {
      const zoomed = document.getElementById("zoom-image");
      document.querySelectorAll(".qc-images img[data-zoom]").forEach((img) => img.addEventListener("click", () => {
        zoomed.src = img.src;
        zoomed.alt = img.alt;
        trueAspect(zoomed, img.dataset.aspect);
        document.getElementById("zoom-caption").textContent = img.alt;
        zoom.showModal();
      }));
    }

    const viewer = document.getElementById("slice-viewer");
    if (!viewer) return;
    const frame = document.getElementById("slice-frame");
    const image = document.getElementById("slice-image");
    const count = Number(viewer.dataset.count);
    const names = { fat: "Fat", water: "Water" };
    const toggle = document.getElementById("slice-kind-toggle");
    const state = { kind: "fat", index: Number(viewer.dataset.start), level: 0.5, width: 1.0 };

    frame.querySelectorAll(".seam").forEach((seam) => { seam.style.top = `${Number(seam.dataset.position) * 100}%`; });

    function tile(kind, index) {
      return viewer.dataset.tiles.replace("{kind}", kind).replace("{index}", String(index));
    }

    function show() {
      image.src = tile(state.kind, state.index);
      image.dataset.index = String(state.index);
      image.dataset.kind = state.kind;
      image.alt = `Coronal slice ${state.index + 1} of the fused ${state.kind} volume`;
      document.getElementById("slice-index").textContent = String(state.index + 1);
      document.getElementById("slice-kind").textContent = names[state.kind];
      toggle.firstChild.textContent = `Show ${state.kind === "fat" ? "water" : "fat"} `;
      for (const step of [1, -1, 2, -2]) {  // the neighbours, so scrolling does not wait for the server
        const next = state.index + step;
        if (next >= 0 && next < count) new Image().src = tile(state.kind, next);
      }
    }

    function go(index) {
      const next = Math.min(count - 1, Math.max(0, index));
      if (next !== state.index) { state.index = next; show(); }
    }

    // Window [low, high] of the tile's 0-1 range onto black-white: out = (v - low) / (high - low), clamped.
    // brightness(a) contrast(c) is that map when low >= 0 (a v saturates only at v = low + high, already
    // white); contrast(c) brightness(a) when low < 0 (contrast with c <= 1 clamps nothing).
    function windowFilter(low, high) {
      const width = high - low;
      if (low >= 0) return `brightness(${1 / (width + 2 * low)}) contrast(${1 + 2 * low / width})`;
      return `contrast(${1 / (1 - 2 * low)}) brightness(${(1 - 2 * low) / width})`;
    }

    function applyWindow() {
      state.width = Math.min(2, Math.max(0.02, state.width));
      state.level = Math.min(1, Math.max(0, state.level));
      const low = state.level - state.width / 2, high = state.level + state.width / 2;
      image.style.filter = low === 0 && high === 1 ? "" : windowFilter(low, high);
      document.getElementById("slice-window").textContent = `${Math.round(low * 255)} to ${Math.round(high * 255)}`;
    }

    function switchKind() {
      state.kind = state.kind === "fat" ? "water" : "fat";
      show();
    }
    toggle.addEventListener("click", switchKind);

    frame.addEventListener("wheel", (event) => {
      event.preventDefault();
      go(state.index + Math.sign(event.deltaY));
    }, { passive: false });

    // Drag: left-right widens or narrows the window, up-down darkens or brightens; a click without a drag
    // enlarges the slice (or puts it back).
    let drag = null;
    frame.addEventListener("pointerdown", (event) => {
      if (event.button !== 0) return;
      frame.setPointerCapture(event.pointerId);
      drag = { x: event.clientX, y: event.clientY, level: state.level, width: state.width, moved: false };
      event.preventDefault();
    });
    frame.addEventListener("pointermove", (event) => {
      if (!drag) return;
      const dx = event.clientX - drag.x, dy = event.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
      if (!drag.moved) return;
      state.width = drag.width * Math.exp(dx / 200);
      state.level = drag.level + dy / 400;
      applyWindow();
    });
    frame.addEventListener("pointerup", () => {
      if (drag && !drag.moved) viewer.classList.toggle("zoomed");
      drag = null;
    });
    frame.addEventListener("pointercancel", () => { drag = null; });

    keys = {
      ArrowUp: () => go(state.index - 1), ArrowDown: () => go(state.index + 1),
      PageUp: () => go(state.index - 10), PageDown: () => go(state.index + 10),
      t: switchKind, z: () => viewer.classList.toggle("zoomed"),
      "[": () => { state.width /= 1.25; applyWindow(); }, "]": () => { state.width *= 1.25; applyWindow(); },
      ",": () => { state.level += 0.05; applyWindow(); }, ".": () => { state.level -= 0.05; applyWindow(); },
      r: () => { state.level = 0.5; state.width = 1.0; applyWindow(); },
    };
    applyWindow();
  }

  document.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey || typing(event.target)) return;
    if (document.querySelector("dialog[open]") || event.defaultPrevented) return;
    const action = keys[event.key.length === 1 ? event.key.toLowerCase() : event.key];
    if (!action) return;
    action();
    event.preventDefault();
  });
  document.addEventListener("qc:page", setup);
  setup();
})();
