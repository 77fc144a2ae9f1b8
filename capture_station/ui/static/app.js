// The counter page: polls the station's state, posts the officer's actions, and draws the
// live preview with the verifier's guidance over it. No framework, no build step.
"use strict";

const $ = (sel) => document.querySelector(sel);
let lang = localStorage.getItem("counter-lang") || "id";
let state = null;
let selectedFinger = null;
let pinned = false;  // the officer chose this finger: do not move on to the next by itself
const rendered = {};  // last JSON drawn per list, so a poll does not rebuild focused controls
const preview = { frames: 0, started: 0, guidance: null };
window.counterPreview = preview;  // read by the browser test (frames delivered per second)

function t(key) { return (I18N[lang] && I18N[lang][key]) || I18N.en[key] || key; }
function said(message) { return message ? (message[lang] || message.en || "") : ""; }
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const child of children) node.append(child);
  return node;
}

function applyLang() {
  document.documentElement.lang = lang;
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const key of Object.keys(rendered)) delete rendered[key];
  if (state) render(state);
}

function show(text, ok = false) {
  const box = $("#message");
  box.textContent = text;
  box.className = ok ? "message ok" : "message";
  box.hidden = !text;
}

async function post(path, body, raw = false) {
  const response = await fetch(path, {
    method: "POST", headers: raw ? { "X-Counter": "1" } : { "X-Counter": "1", "Content-Type": "application/json" },
    body: raw ? body : JSON.stringify(body || {}),
  });
  let answer = {};
  try { answer = await response.json(); } catch (e) { answer = { error: response.statusText }; }
  if (!response.ok) { show(answer.error || response.statusText); throw new Error(answer.error); }
  show("");
  await refresh();
  return answer.result;
}

// Health and state ------------------------------------------------------------------------

async function refreshHealth() {
  try {
    const health = await (await fetch("/api/health")).json();
    const mark = (id, ok, detail) => {
      const item = $(id);
      item.className = ok ? "ok" : "down";
      item.querySelector("b").textContent = (ok ? t("ok") : t("down")) + (detail ? ` (${detail})` : "");
    };
    mark("#h-verifier", health.verifier.ok, health.verifier.address);
    mark("#h-camera", health.camera.ok, health.camera.error);
    mark("#h-scanner", health.scanner.ok, health.scanner.ok ? health.scanner.id : health.scanner.error);
    $("#h-spool").className = health.spool.waiting ? "down" : "ok";
    $("#h-spool b").textContent = `${t("waiting")}: ${health.spool.waiting}`;
    $("#backlog").textContent = `${t("waiting")}: ${health.spool.waiting}`;
    $("#backlog").className = health.spool.waiting ? "backlog busy" : "backlog";
  } catch (e) { /* the station process itself is gone: the page cannot help */ }
}

async function refresh() {
  try { state = await (await fetch("/api/state")).json(); render(state); } catch (e) { /* retry next tick */ }
}

// Rendering -----------------------------------------------------------------------------

function render(s) {
  $("#officer-name").textContent = s.officer ? `${t("officer")}: ${s.officer}` : "";
  $("#sign-out").hidden = !s.officer;
  $("#sign-in").hidden = !!s.officer;
  const v = s.visit;
  const capturing = v && !v.finished && !v.session_error;
  $("#application").hidden = !s.officer || !!capturing;
  $("#visit").hidden = !s.officer || !v;
  if (!v) return;
  $("#visit-name").textContent = v.application.full_name || "";
  const conn = v.connection.state;
  $("#connection").textContent = v.session_error ? v.session_error : t(`conn_${conn}`);
  $("#connection").className = v.session_error || conn === "reconnecting" ? "warn" : "";
  renderPhoto(s, v);
  renderFingers(s, v);
  renderDocuments(s, v);
  $("#finish").disabled = !capturing;
  $("#missing").textContent = !v.missing || v.verdict ? ""
    : v.missing.length ? `${t("still_missing")}: ` + v.missing.map((f) => said(f.message)).join(" · ")
    : t("complete");
  $("#problems").textContent = v.problems.length
    ? `${t("problems")}: ` + v.problems.map((p) => p.message).join(" · ") : "";
  renderVerdict(s, v);
}

function renderPhoto(s, v) {
  $("#photo").hidden = !s.camera;
  const img = $("#captured");
  if (v.photo) {
    const src = `data:image/jpeg;base64,${v.photo}`;
    if (img.src !== src) img.src = src;
    img.hidden = false;
    $("#photo-state").textContent = v.photo_accepted ? t("accepted") : t("captured_photo");
  } else {
    img.hidden = true;
    $("#photo-state").textContent = t("waiting_photo");
  }
  $("#accept-photo").disabled = !v.photo || v.photo_accepted || v.finished;
  $("#retake-photo").disabled = v.finished || Object.keys(v.fingers).length > 0 || v.documents.length > 0;
  preview.guidance = v.photo ? null : v.guidance;
}

const LEFT = [10, 9, 8, 7, 6];
const RIGHT = [1, 2, 3, 4, 5];

function buildHands(s) {
  if ($("#hand-left").childElementCount) return;
  for (const [id, order] of [["#hand-left", LEFT], ["#hand-right", RIGHT]]) {
    for (const position of order) {
      const slot = el("button", { type: "button", class: `slot f${position}`, "data-position": String(position),
        onclick: () => { selectedFinger = position; pinned = true; render(state); } });
      $(id).append(slot);
    }
  }
  const reasons = $("#exception-reason");
  for (const reason of s.exception_reasons) reasons.append(el("option", { value: reason, "data-i18n": reason }, t(reason)));
}

function fingerName(s, position) { return (s.fingers[String(position)] || "").replace("_", " "); }

function renderFingers(s, v) {
  buildHands(s);
  const chosen = v.fingers[String(selectedFinger)];
  const chosenLast = chosen && chosen.attempts.length ? chosen.attempts[chosen.attempts.length - 1] : null;
  if (selectedFinger === null || (!pinned && chosen && (chosen.exception || (chosenLast && chosenLast.passed)))) {
    selectedFinger = v.next_finger || selectedFinger || 1;
  }
  for (const slot of document.querySelectorAll(".slot")) {
    const position = Number(slot.dataset.position);
    const f = v.fingers[String(position)];
    const last = f && f.attempts.length ? f.attempts[f.attempts.length - 1] : null;
    let status = "";
    let cls = "";
    if (f && f.exception) { status = t(f.exception.reason); cls = "exception"; }
    else if (last && last.status === "analysed") {
      status = `${t("nfiq")} ${last.nfiq2 === null ? "?" : Math.round(last.nfiq2)}`;
      cls = last.passed ? "good" : "poor";
    } else if (last) { status = "…"; cls = "sent"; }
    if (v.busy && v.busy === s.fingers[String(position)]) { status = t("scanning"); cls = "sent"; }
    if (position === v.next_finger) cls += " next";
    if (position === selectedFinger) cls += " selected";
    slot.className = `slot f${position} ${cls}`;
    slot.setAttribute("aria-pressed", position === selectedFinger ? "true" : "false");
    slot.textContent = "";
    slot.append(el("span", { class: "fname" }, fingerName(s, position)), el("span", { class: "fstatus" }, status));
  }
  $("#selected-finger").textContent = `${fingerName(s, selectedFinger)} (${selectedFinger})`;
  const f = v.fingers[String(selectedFinger)];
  $("#capture-finger").textContent = f && f.attempts.length ? t("retry") : t("capture");
  $("#capture-finger").disabled = !capturing(v) || !!v.busy || !!(f && f.exception) || !s.scanner;
  const detail = $("#finger-detail");
  const key = JSON.stringify([lang, selectedFinger, f]);
  if (rendered.finger !== key) {
    rendered.finger = key;
    detail.textContent = "";
    if (f && f.exception) detail.append(el("p", {}, `${t("exception")}: ${t(f.exception.reason)} — ${f.exception.note}`));
    for (const [i, a] of (f ? f.attempts : []).entries()) {
      const parts = [`#${i + 1}`, `${t("device_score")} ${Math.round(a.device_score)}`];
      if (a.nfiq2 !== undefined && a.nfiq2 !== null) parts.push(`${t("nfiq")} ${Math.round(a.nfiq2)}`);
      if (a.cause) parts.push(said(a.cause));
      if (a.error) parts.push(a.error);
      detail.append(el("p", { class: a.passed === false || a.error ? "poor" : "" }, parts.join(" · ")));
    }
  }
}

function capturing(v) { return v && !v.finished && !v.session_error; }

function renderDocuments(s, v) {
  const kinds = $("#document-kind");
  if (!kinds.childElementCount) for (const kind of s.document_kinds) kinds.append(el("option", { value: kind }, kind));
  for (const control of document.querySelectorAll("#document-form input, #document-form button")) control.disabled = !capturing(v);
  const key = JSON.stringify([lang, v.documents, v.finished]);
  if (rendered.documents === key) return;
  rendered.documents = key;
  const list = $("#document-list");
  list.textContent = "";
  for (const d of v.documents) {
    const rows = d.fields.map((f) => {
      const c = f.corrected;
      const shown = !c ? f.value : c.status === "refused" ? `${f.value} (${t("correction_refused")}: ${c.error})`
        : `${c.value} (${t("corrected")}; ${f.value})`;
      const form = el("form", { class: "inline correction", onsubmit: (event) => {
        event.preventDefault();
        const data = new FormData(event.target);
        post("/api/corrections", { sequence: d.sequence, field: f.name, value: data.get("value"), note: data.get("note") }).catch(() => {});
      } },
      el("input", { name: "value", value: f.corrected ? f.corrected.value : f.value, "aria-label": `${t("correct")} ${f.name}` }),
      el("input", { name: "note", placeholder: t("note"), "aria-label": t("note") }),
      el("button", { type: "submit" }, t("save_correction")));
      if (!capturing(v)) for (const c of form.elements) c.disabled = true;
      return el("tr", { class: f.low ? "low" : "", title: f.low ? t("low") : "" },
        el("td", {}, f.name), el("td", {}, shown),
        el("td", {}, `${Math.round(f.confidence * 100)}%${f.low ? " ⚠ " + t("low") : ""}`),
        el("td", {}, el("details", {}, el("summary", {}, t("correct")), form)));
    });
    const head = el("tr", {}, el("th", {}, t("field")), el("th", {}, t("value")), el("th", {}, t("confidence")), el("th", {}, ""));
    list.append(el("article", { class: "document", "data-kind": d.kind },
      el("h3", {}, `${d.kind} #${d.sequence} — ${d.error || d.summary || "…"}`),
      rows.length ? el("table", {}, el("thead", {}, head), el("tbody", {}, ...rows)) : el("p", {}, d.status === "sent" ? "…" : "")));
  }
}

function renderVerdict(s, v) {
  const section = $("#verdict");
  section.hidden = !v.finished && !v.verdict;
  if (section.hidden) return;
  const verdict = v.verdict;
  $("#verdict-decision").textContent = verdict ? t(`decision_${verdict.decision}`) : t("waiting_verdict");
  $("#verdict-decision").className = `decision ${verdict ? verdict.decision : ""}`;
  $("#verdict-next").textContent = verdict ? t(`next_${verdict.decision}`) : "";
  $("#print").disabled = !verdict;
  const key = JSON.stringify([lang, verdict]);
  if (rendered.verdict !== key) {
    rendered.verdict = key;
    const flags = $("#verdict-flags");
    flags.textContent = "";
    for (const f of verdict ? verdict.flags : []) {
      flags.append(el("li", { class: f.severity }, `[${t(`severity_${f.severity}`)}] ${said(f.message)}`));
    }
  }
  $("#r-name").textContent = v.application.full_name || "";
  $("#r-case").textContent = verdict ? verdict.case_id : "";
  $("#r-visit").textContent = v.id;
  $("#r-date").textContent = new Date().toLocaleString(lang === "id" ? "id-ID" : "en-GB");
  $("#r-officer").textContent = s.officer || "";
  $("#r-decision").textContent = verdict ? t(`decision_${verdict.decision}`) : "";
  $("#r-next").textContent = verdict ? t(`next_${verdict.decision}`) : "";
}

// Preview -------------------------------------------------------------------------------

function drawOverlay(ctx, w, h, scaleX, scaleY, guidance) {
  // Framing guides: where a passport head belongs (centred, upper half), as the checks want.
  ctx.strokeStyle = "rgba(255,255,255,0.7)";
  ctx.setLineDash([8, 6]);
  ctx.lineWidth = 2;
  ctx.beginPath();
  ctx.ellipse(w / 2, h * 0.45, w * 0.16, h * 0.3, 0, 0, 2 * Math.PI);
  ctx.moveTo(w / 2, 0); ctx.lineTo(w / 2, h);
  ctx.stroke();
  ctx.setLineDash([]);
  if (!guidance) return;
  if (guidance.face) {
    const [l, top, r, b] = guidance.face;
    ctx.strokeStyle = guidance.ready ? "#2ecc40" : "#ffdc00";
    ctx.lineWidth = 3;
    ctx.strokeRect(l * scaleX, top * scaleY, (r - l) * scaleX, (b - top) * scaleY);
  }
  const hint = guidance.ready || !guidance.hints.length ? t("ready") : said(guidance.hints[0].message);
  ctx.font = "bold 22px 'Liberation Sans', Arimo, sans-serif";
  ctx.fillStyle = "rgba(0,0,0,0.6)";
  ctx.fillRect(0, h - 40, w, 40);
  ctx.fillStyle = guidance.ready ? "#2ecc40" : "#ffdc00";
  ctx.fillText(hint, 12, h - 12);
}

function startPreview() {
  const canvas = $("#preview");
  const ctx = canvas.getContext("2d");
  const source = new EventSource("/api/preview");
  let drawing = false;
  source.addEventListener("frame", (event) => {
    const frame = JSON.parse(event.data);
    preview.frames += 1;
    if (!preview.started) preview.started = performance.now();
    if (drawing || $("#visit").hidden) return;  // draw what the screen can show; count all
    drawing = true;
    const image = new Image();
    image.onload = () => {
      if (canvas.width !== frame.w) { canvas.width = frame.w; canvas.height = frame.h; }
      ctx.drawImage(image, 0, 0);
      const guidance = frame.guidance && preview.guidance ? frame.guidance : null;
      drawOverlay(ctx, canvas.width, canvas.height, 1, 1, guidance);
      const hint = guidance ? (guidance.ready || !guidance.hints.length ? t("ready") : said(guidance.hints[0].message)) : "";
      $("#hint").textContent = hint ? `· ${hint}` : "";
      drawing = false;
    };
    image.onerror = () => { drawing = false; };
    image.src = `data:image/jpeg;base64,${frame.jpeg}`;
  });
  setInterval(() => {
    const seconds = (performance.now() - preview.started) / 1000;
    if (preview.started && seconds > 1) $("#fps").textContent = `· ${(preview.frames / seconds).toFixed(1)} fps`;
  }, 1000);
}

// Actions -------------------------------------------------------------------------------

function formObject(form) {
  return Object.fromEntries([...new FormData(form).entries()].filter(([k]) => k));
}

function wire() {
  $("#lang").addEventListener("click", () => {
    lang = lang === "id" ? "en" : "id";
    localStorage.setItem("counter-lang", lang);
    applyLang();
  });
  $("#sign-in-form").addEventListener("submit", (event) => {
    event.preventDefault();
    post("/api/sign-in", formObject(event.target)).then(() => event.target.reset()).catch(() => {});
  });
  $("#sign-out").addEventListener("click", () => post("/api/sign-out").catch(() => {}));
  $("#application-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = formObject(event.target);
    delete form[""];
    post("/api/visit", { application: form }).then(() => event.target.reset()).catch(() => {});
  });
  $("#application-file").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    if (!file) return;
    let application;
    try { application = JSON.parse(await file.text()); } catch (e) { show(`${file.name}: not valid JSON: ${e.message}`); return; }
    event.target.value = "";
    post("/api/visit", { application }).catch(() => {});
  });
  $("#accept-photo").addEventListener("click", () => post("/api/photo/accept").catch(() => {}));
  $("#retake-photo").addEventListener("click", () => post("/api/photo/retake").catch(() => {}));
  $("#capture-finger").addEventListener("click", () => {
    const position = selectedFinger;
    pinned = false;
    post(`/api/fingers/${position}/capture`).catch(() => {});
    setTimeout(refresh, 100);
  });
  $("#exception-form").addEventListener("submit", (event) => {
    event.preventDefault();
    pinned = false;
    post(`/api/fingers/${selectedFinger}/exception`, formObject(event.target)).then(() => event.target.reset()).catch(() => {});
  });
  $("#document-file").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    if (!file) return;
    event.target.value = "";
    post(`/api/documents/${$("#document-kind").value}`, file, true).catch(() => {});
  });
  $("#document-camera").addEventListener("click", () => post(`/api/documents/${$("#document-kind").value}/camera`).catch(() => {}));
  $("#finish").addEventListener("click", () => post("/api/finish").catch(() => {}));
  $("#print").addEventListener("click", () => window.print());
  $("#new-visit").addEventListener("click", () => { $("#application").hidden = false; $("#application-form [name=full_name]").focus(); });
  document.addEventListener("keydown", (event) => {
    if (!event.altKey) return;
    const target = { p: "#capture-finger", a: "#accept-photo", s: "#finish" }[event.key.toLowerCase()];
    if (target && !$(target).disabled) { event.preventDefault(); $(target).click(); }
  });
}

wire();
applyLang();
refresh();
refreshHealth();
startPreview();
setInterval(refresh, 500);
setInterval(refreshHealth, 2000);
