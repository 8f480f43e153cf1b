// Keyboard review for the QC page. Shortcuts never fire while typing in the note or another field, nor while
// an overlay (the help, a zoomed image) is open. The images' keys (slices, window/level) are in qc_viewer.js.
//
// Save-and-next without waiting: while the rater looks at a scan, the page fetches the next scan's page
// and decodes its images. Saving posts the decision for JSON (the server records it and says which scan
// is next); when that is the scan fetched ahead, its page replaces this one in place ("qc:page" tells
// qc_viewer.js) and the scan after it is fetched. Anything else (an error in the form, a scan taken by
// another rater meanwhile, nothing fetched yet) takes the plain way: the form posts and the server answers.
// Once a decision is sent, the form takes no other until the next scan is shown: a second Enter, or keys
// meant for the next scan, never reach the scan just decided (its history is append-only).
(function () {
  "use strict";
  const help = document.getElementById("help");  // the overlays stay when a page is swapped in
  const PRESSED = "qc-pressed", STEPS = "qc-step-ms";
  let form = null, controls = null, shownAt = 0, ahead = null, sent = false;

  function typing(target) {
    return target instanceof HTMLElement && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
  }

  // "?" opens the list of every shortcut; Esc (the dialog's own) or "?" again closes it.
  function toggleHelp() {
    if (help.open) help.close(); else help.showModal();
  }
  if (help) {
    // The opening button is in the page (swapped with it), the dialog is not: one delegated listener.
    document.addEventListener("click", (event) => {
      if (event.target instanceof Element && event.target.closest("#help-open")) toggleHelp();
    });
    document.getElementById("help-close").addEventListener("click", () => help.close());
  }

  // Save-and-next as the rater feels it: from the key press (or click) to the next scan's images painted,
  // kept for this tab (sessionStorage "qc-step-ms", the last 500 steps) whichever way the page came.
  function scanShown() {  // the scan whose form this page shows (an error page is served at .../decide/)
    const match = form && /\/scan\/(\d+)\//.exec(form.getAttribute("action"));
    return match ? match[1] : null;
  }

  function markPressed(at) {
    if (!sessionStorage.getItem(PRESSED)) {
      sessionStorage.setItem(PRESSED, JSON.stringify({ at: performance.timeOrigin + at, from: scanShown() }));
    }
  }

  function imagesDecoded(root) {
    return Promise.all(Array.from(root.querySelectorAll(".qc-images img")).map((img) => img.decode().catch(() => null)));
  }

  function recordShown() {
    const pressed = JSON.parse(sessionStorage.getItem(PRESSED) || "null");
    sessionStorage.removeItem(PRESSED);
    if (!pressed || pressed.from === scanShown()) return;  // the same scan again: an error shown
    imagesDecoded(document).then(() => requestAnimationFrame(() => requestAnimationFrame(() => {
      const ms = performance.timeOrigin + performance.now() - pressed.at;
      const steps = JSON.parse(sessionStorage.getItem(STEPS) || "[]");
      steps.push(Math.round(ms * 10) / 10);
      sessionStorage.setItem(STEPS, JSON.stringify(steps.slice(-500)));
      document.dispatchEvent(new CustomEvent("qc:shown", { detail: { ms } }));
    })));
  }

  // The next scan's page, parsed, with its images decoded (held here so the browser keeps them decoded).
  function fetchAhead(url) {
    ahead = null;
    delete document.documentElement.dataset.ahead;
    if (!url || window.ukbQCNoSwap) return;
    const entry = { url: new URL(url, location.href).href, doc: null, images: [] };
    ahead = entry;
    fetch(entry.url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then((response) => (response.ok && !response.redirected ? response.text() : Promise.reject(response.status)))
      .then((text) => {
        const doc = new DOMParser().parseFromString(text, "text/html");
        if (!doc.getElementById("decision")) throw new Error("not a review page");
        entry.images = Array.from(doc.querySelectorAll(".qc-images img[src]")).map((img) => {
          const image = new Image();
          image.src = new URL(img.getAttribute("src"), entry.url).href;
          return image;
        });
        return Promise.all(entry.images.map((image) => image.decode().catch(() => null))).then(() => {
          entry.doc = doc;
          if (ahead === entry) document.documentElement.dataset.ahead = entry.url;  // ready (tests wait on it)
        });
      })
      .catch(() => { if (ahead === entry) ahead = null; });
  }

  function showMessage(text) {
    document.querySelectorAll("body > .messages").forEach((list) => list.remove());
    const list = document.createElement("ul"), item = document.createElement("li");
    list.className = "messages";
    list.setAttribute("role", "status");
    item.className = "success";
    item.textContent = text;
    list.append(item);
    document.querySelector("main").before(list);
  }

  function showCounts(counts) {
    if (!counts) return;
    const left = document.getElementById("queue-left"), today = document.getElementById("decided-today");
    if (left) left.textContent = `${counts.capped ? "more than " : ""}${counts.left}`;
    if (today) today.textContent = String(counts.today);
  }

  function swapIn(entry, answer) {
    document.querySelectorAll("dialog[open]").forEach((dialog) => dialog.close());
    document.title = entry.doc.title;
    document.querySelector("main").replaceWith(document.adoptNode(entry.doc.querySelector("main")));
    history.pushState({ swapped: true }, "", entry.url);
    showMessage(answer.message);
    setup();
    showCounts(answer.counts);
    document.dispatchEvent(new CustomEvent("qc:page"));
    window.scrollTo(0, 0);
    document.getElementById("scan-title").focus({ preventScroll: true });
    recordShown();
    fetchAhead(answer.then);
  }

  function submitted(event) {
    if (sent) { event.preventDefault(); return; }  // one decision per scan shown
    sent = true;
    controls.seconds.value = ((performance.now() - shownAt) / 1000).toFixed(1);
    markPressed(event.timeStamp);
    const entry = ahead;
    if (!entry || !entry.doc) return;  // the plain way
    event.preventDefault();
    fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: { Accept: "application/json" } })
      .then((response) => {
        if (response.ok) return response.json();
        // 400: nothing recorded, the plain post shows why in the form. Anything else (another rater's hold,
        // a server or network failure after the decision may have been stored): the queue decides anew.
        if (response.status === 400) HTMLFormElement.prototype.submit.call(form);
        else location.assign(form.dataset.queue);
        return null;
      })
      .then((answer) => {
        if (!answer) return;
        if (answer.next && new URL(answer.next, location.href).href === entry.url) swapIn(entry, answer);
        else location.assign(answer.next || answer.queue);
      })
      .catch(() => location.assign(form.dataset.queue));
  }

  // The current page's decision form (again after a swap).
  function setup() {
    form = document.getElementById("decision");
    shownAt = performance.now();
    sent = false;
    if (!form) return;
    controls = {
      verdict: document.getElementById("id_verdict"), reason: document.getElementById("id_reason"),
      note: document.getElementById("id_note"), confidence: document.getElementById("id_confidence"),
      pending: document.getElementById("confidence-pending"), seconds: document.getElementById("id_seconds_spent"),
      buttons: Array.from(form.querySelectorAll("[data-verdict]")),
      confidenceButtons: Array.from(form.querySelectorAll("[data-confidence]")),
    };
    controls.buttons.forEach((b) => b.addEventListener("click", () => choose(b.dataset.verdict)));
    controls.confidenceButtons.forEach((b) => b.addEventListener("click", () => rate(b.dataset.confidence)));
    form.addEventListener("submit", submitted);
  }

  function choose(value) {
    controls.verdict.value = value;
    controls.buttons.forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.verdict === value)));
  }

  // The same confidence again takes it back (it is optional).
  function rate(value) {
    controls.confidence.value = controls.confidence.value === value ? "" : value;
    controls.confidenceButtons.forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.confidence === controls.confidence.value)));
  }

  // "c" then a digit 1-5 works on every keyboard layout; Shift+1-5 (by key position) where Shift+digit
  // does not type the digit itself (on layouts where it does, that digit is a reason key).
  let awaiting = null;
  function awaitConfidence(on) {
    clearTimeout(awaiting);
    awaiting = on ? setTimeout(() => awaitConfidence(false), 2000) : null;
    if (controls) controls.pending.textContent = on ? "press 1-5" : "";
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    if (event.key === "?" && help) { toggleHelp(); event.preventDefault(); }
    else if (event.key === "/" && !document.querySelector("dialog[open]")) {
      const search = document.getElementById("nav-eid");
      if (search) { search.focus(); event.preventDefault(); }
    }
  });

  document.addEventListener("keydown", (event) => {
    if (!form) return;
    if (event.altKey || event.ctrlKey || event.metaKey) {
      if (event.key === "Enter" && event.ctrlKey && !sent) { markPressed(event.timeStamp); form.requestSubmit(); }
      return;
    }
    if (typing(event.target)) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    if (document.querySelector("dialog[open]") || event.defaultPrevented) return;
    if (sent) return;  // sent: the keys wait for the next scan
    const key = event.key.toLowerCase();
    const shifted = /^Digit[1-5]$/.test(event.code) && event.shiftKey && !/^[0-9]$/.test(event.key);
    const { reason, note } = controls, keys = { p: "pass", q: "questionable", f: "fail" };
    if (awaiting && /^[1-5]$/.test(event.key)) { rate(event.key); awaitConfidence(false); }
    else if (shifted) { rate(event.code.slice(5)); }
    else if (awaiting && event.key === "Shift") { return; }
    else if (key === "c") { awaitConfidence(true); }
    else if (keys[key]) { choose(keys[key]); }
    else if (/^[1-9]$/.test(event.key) && reason.options[Number(event.key)]) { reason.selectedIndex = Number(event.key); }
    else if (key === "n") { note.focus(); }
    else if (event.key === "Enter" || key === "s") { markPressed(event.timeStamp); form.requestSubmit(); }
    else if (key === "b" || event.key === "ArrowLeft") { document.getElementById("previous").click(); }
    else if (key === "l") { document.getElementById("later-form").requestSubmit(); }
    else { awaitConfidence(false); return; }
    if (key !== "c") awaitConfidence(false);
    event.preventDefault();
  });

  // Back from the browser's cache: the time counts from now. Back or forward over a swapped page: the
  // server draws that scan's page afresh.
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) { shownAt = performance.now(); sent = false; }
  });
  window.addEventListener("popstate", () => location.reload());

  setup();
  recordShown();
  if (form) fetchAhead(form.dataset.next);
})();
