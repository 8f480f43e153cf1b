// Keyboard review for the QC page. Shortcuts never fire while typing in the note or another field.
(function () {
  "use strict";
  const form = document.getElementById("decision");
  if (!form) return;
  const verdict = document.getElementById("id_verdict");
  const reason = document.getElementById("id_reason");
  const note = document.getElementById("id_note");
  const buttons = Array.from(form.querySelectorAll("[data-verdict]"));
  const keys = { p: "pass", q: "questionable", f: "fail" };

  function choose(value) {
    verdict.value = value;
    buttons.forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.verdict === value)));
  }
  buttons.forEach((b) => b.addEventListener("click", () => choose(b.dataset.verdict)));

  function typing(target) {
    return target instanceof HTMLElement && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
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
    const key = event.key.toLowerCase();
    if (keys[key]) { choose(keys[key]); }
    else if (/^[1-9]$/.test(event.key) && reason.options[Number(event.key)]) { reason.selectedIndex = Number(event.key); }
    else if (key === "n") { note.focus(); }
    else if (event.key === "Enter" || key === "s") { form.requestSubmit(); }
    else if (key === "b" || event.key === "ArrowLeft") { document.getElementById("previous").click(); }
    else if (key === "l") { document.getElementById("later-form").requestSubmit(); }
    else { return; }
    event.preventDefault();
  });
})();
