// Zoom and pan for the space-time diagrams of an smrkit run report.
//
// Without this script each diagram fits its column (CSS), so the fault, the failover
// and what follows are all in view. With it, each diagram gets a small toolbar: zoom in
// and out (also Ctrl + wheel, about the pointer) from the whole window up to four times
// the drawn size, "fit" (the whole window), and "fault" (the instant the window was
// drawn around, at the drawn size, where every label is legible); drag to pan. The script only sets
// sizes and scroll positions: it writes no markup from the run.
(function () {
  "use strict";
  const SCALE_MAX = 4; // four times the drawn size: a message's fields stay legible
  for (const box of document.querySelectorAll(".diagram")) {
    const svg = box.querySelector("svg.st");
    if (!svg) continue;
    const natural = parseFloat(svg.getAttribute("width")) || box.clientWidth;
    const anchor = parseFloat(svg.dataset.anchor || "0.5");
    const fitScale = () => Math.min(1, box.clientWidth / natural);
    let scale = fitScale(); // the drawn size is 1; "fit" is the whole window in the column
    const shown = document.createElement("span");
    shown.className = "zoom-level";

    function set(level, frac, at) {
      const width = svg.getBoundingClientRect().width || natural * scale;
      if (frac === undefined) {
        at = box.clientWidth / 2;
        frac = (box.scrollLeft + at) / width;
      }
      scale = Math.min(Math.max(level, fitScale()), SCALE_MAX);
      const next = natural * scale;
      svg.style.width = next + "px";
      svg.style.maxWidth = "none";
      box.scrollLeft = frac * next - at;
      const whole = scale <= fitScale() + 1e-9;
      shown.textContent = (whole ? "whole window, " : "") + Math.round(scale * 100) + " %";
    }

    const bar = document.createElement("div");
    bar.className = "zoom";
    const button = (text, title, action) => {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = text;
      b.title = title;
      b.addEventListener("click", action);
      bar.appendChild(b);
    };
    button("−", "zoom out", () => set(scale / 1.5));
    button("+", "zoom in (or Ctrl + wheel)", () => set(scale * 1.5));
    button("fit", "the whole window", () => set(0, 0.5, box.clientWidth / 2));
    button("fault", "the instant this window is drawn around, at the drawn size", () =>
      set(Math.max(scale, fitScale() < 1 ? 1 : 2), anchor, box.clientWidth / 2));
    bar.appendChild(shown);
    box.parentNode.insertBefore(bar, box);

    box.addEventListener("wheel", (e) => {
      if (!e.ctrlKey && !e.metaKey) return;
      e.preventDefault();
      const at = e.clientX - box.getBoundingClientRect().left;
      const frac = (box.scrollLeft + at) / svg.getBoundingClientRect().width;
      set(scale * (e.deltaY < 0 ? 1.25 : 0.8), frac, at);
    }, { passive: false });

    let drag = null;
    box.addEventListener("pointerdown", (e) => {
      if (e.button !== 0 || scale <= fitScale() + 1e-9) return;
      drag = { x: e.clientX, left: box.scrollLeft };
      box.classList.add("panning");
    });
    box.addEventListener("pointermove", (e) => {
      if (drag) box.scrollLeft = drag.left - (e.clientX - drag.x);
    });
    const stop = () => { drag = null; box.classList.remove("panning"); };
    box.addEventListener("pointerup", stop);
    box.addEventListener("pointerleave", stop);
    set(0, 0.5, box.clientWidth / 2);
  }
})();
