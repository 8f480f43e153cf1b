// Keyboard review for the QC page. Shortcuts never fire while typing in the note or another field, nor while
// an overlay (the help, a zoomed image) is open. The images' keys (slices, window/level) are in qc_viewer.js.
(function () {
  "use strict";
  const help = document.getElementById("help");
  const form = document.getElementById("decision");

  function typing(target) {
    return target instanceof HTMLElement && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
  }

  // "?" opens the list of every shortcut; Esc (the dialog's own) or "?" again closes it.
  function toggleHelp() {
    if (help.open) help.close(); else help.showModal();
  }
  if (help) {
    document.getElementById("help-open").addEventListener("click", toggleHelp);
    document.getElementById("help-close").addEventListener("click", () => help.close());
  }
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    if (event.key === "?" && help) { toggleHelp(); event.preventDefault(); }
    else if (event.key === "/" && !document.querySelector("dialog[open]")) {
      const search = document.getElementById("nav-eid");
      if (search) { search.focus(); event.preventDefault(); }
    }
  });

  if (!form) return;
  const verdict = document.getElementById("id_verdict");
  const reason = document.getElementById("id_reason");
  const note = document.getElementById("id_note");
  const confidence = document.getElementById("id_confidence");
  const pending = document.getElementById("confidence-pending");
  const seconds = document.getElementById("id_seconds_spent");
  const buttons = Array.from(form.querySelectorAll("[data-verdict]"));
  const confidenceButtons = Array.from(form.querySelectorAll("[data-confidence]"));
  const keys = { p: "pass", q: "questionable", f: "fail" };

  // Time from the page shown (again, when the browser brings it back from its cache) to the decision.
  let shownAt = performance.now();
  window.addEventListener("pageshow", (event) => { if (event.persisted) shownAt = performance.now(); });
  form.addEventListener("submit", () => { seconds.value = ((performance.now() - shownAt) / 1000).toFixed(1); });

  function choose(value) {
    verdict.value = value;
    buttons.forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.verdict === value)));
  }
  buttons.forEach((b) => b.addEventListener("click", () => choose(b.dataset.verdict)));

  // The same confidence again takes it back (it is optional).
  function rate(value) {
    confidence.value = confidence.value === value ? "" : value;
    confidenceButtons.forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.confidence === confidence.value)));
  }
  confidenceButtons.forEach((b) => b.addEventListener("click", () => rate(b.dataset.confidence)));

  // "c" then a digit 1-5 works on every keyboard layout; Shift+1-5 (by key position) where Shift+digit
  // does not type the digit itself (on layouts where it does, that digit is a reason key).
  let awaiting = null;
  function awaitConfidence(on) {
    clearTimeout(awaiting);
    awaiting = on ? setTimeout(() => awaitConfidence(false), 2000) : null;
    pending.textContent = on ? "press 1-5" : "";
  }

  document.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) {
      if (event.key === "Enter" && event.ctrlKey) form.requestSubmit();
      return;
    }
    if (typing(event.target)) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    if (document.querySelector("dialog[open]") || event.defaultPrevented) return;
    const key = event.key.toLowerCase();
    const shifted = /^Digit[1-5]$/.test(event.code) && event.shiftKey && !/^[0-9]$/.test(event.key);
    if (awaiting && /^[1-5]$/.test(event.key)) { rate(event.key); awaitConfidence(false); }
    else if (shifted) { rate(event.code.slice(5)); }
    else if (awaiting && event.key === "Shift") { return; }
    else if (key === "c") { awaitConfidence(true); }
    else if (keys[key]) { choose(keys[key]); }
    else if (/^[1-9]$/.test(event.key) && reason.options[Number(event.key)]) { reason.selectedIndex = Number(event.key); }
    else if (key === "n") { note.focus(); }
    else if (event.key === "Enter" || key === "s") { form.requestSubmit(); }
    else if (key === "b" || event.key === "ArrowLeft") { document.getElementById("previous").click(); }
    else if (key === "l") { document.getElementById("later-form").requestSubmit(); }
    else { awaitConfidence(false); return; }
    if (key !== "c") awaitConfidence(false);
    event.preventDefault();
  });
})();
