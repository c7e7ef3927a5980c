// The chat page. Plain JavaScript, no build step. Every piece of text that comes from a
// document or an answer is inserted as text (textContent or a text node), never as HTML.
"use strict";

const $ = (selector) => document.querySelector(selector);
const HISTORY_TURNS = 6;
const KEY_STORE = "qa-api-key"; // sessionStorage: the key is forgotten with the tab

const state = {
  history: [],        // [{question, answer}] of earlier turns, oldest first
  streaming: null,    // null until /ask has shown whether it takes "stream": true
  busy: false,
  opener: null,       // what opened the viewer, to give the focus back on closing
  documents: new Map(), // doc_id -> GET /documents/{id} body, cleared on every change
  textMode: false,      // show a PDF's extracted text rather than its pages
  viewing: null,        // what the viewer shows: {docId, start, end, kind, page}
  scope: new Set(),     // the documents questions are asked over; with
  scopeTags: new Set(), // the documents of these tags; both empty: all of them
};
const PDF_VIEW = "/static/pdfview.mjs"; // and pdf.js, loaded the first time a PDF is shown
let pdfView = null;

// el("p", {class: "x"}, "text", child): strings become text nodes, never markup.
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

// Every request says it comes from this page's script (X-Requested-With): the server
// refuses changes without it, which a form or a fetch from another site cannot send.
function api(url, options = {}) {
  const headers = { "x-requested-with": "qa-page", ...(options.headers || {}) };
  const key = sessionStorage.getItem(KEY_STORE);
  if (key) headers.authorization = `Bearer ${key}`;
  return fetch(url, { ...options, headers }).then((response) => {
    if (response.status === 401 || response.status === 403) showKeyForm();
    return response;
  });
}

function documentUrl(docId) {
  return "/documents/" + docId.split("/").map(encodeURIComponent).join("/");
}

async function errorText(response) {
  try {
    const body = await response.json();
    if (typeof body.detail === "string") return body.detail;
    if (Array.isArray(body.detail)) {
      // pydantic's errors: say which field, e.g. "stream: Extra inputs are not permitted"
      return body.detail.map((d) => {
        const field = (d.loc || []).filter((part) => part !== "body").join(".");
        return field ? `${field}: ${d.msg}` : d.msg;
      }).join("; ");
    }
  } catch (_) { /* not JSON: fall through */ }
  return `the server answered ${response.status} ${response.statusText}`;
}

// ---- asking -------------------------------------------------------------------------------

async function ask(question) {
  $("#welcome").hidden = true;
  const card = el("div", { class: "answer" }, el("p", { class: "pending muted" }, "Looking"));
  const turn = el("li", { class: "turn" }, el("p", { class: "question" }, question), card);
  $("#conversation").append(turn);
  scrollDown();

  const body = { question, history: state.history.slice(-HISTORY_TURNS) };
  if (state.scope.size) body.documents = [...state.scope];
  if (state.scopeTags.size) body.tags = [...state.scopeTags];
  try {
    const result = await fetchAnswer(body, card);
    renderAnswer(card, question, result);
    state.history.push({ question, answer: result.answer });
  } catch (error) {
    card.className = "answer failed";
    card.replaceChildren(el("p", {}, `Sorry, that did not work: ${error.message}`));
  }
  scrollDown();
}

async function fetchAnswer(body, card) {
  if (state.streaming !== false) {
    const response = await postAsk({ ...body, stream: true });
    if (response.status === 422 && state.streaming === null) {
      const detail = await errorText(response);
      if (!/^stream:/m.test(detail.replaceAll("; ", "\n"))) throw new Error(detail);
      state.streaming = false; // this server answers in one piece
    } else {
      return readAnswer(response, card);
    }
  }
  return readAnswer(await postAsk(body), card);
}

// A busy server refuses with 503 and Retry-After: wait about that long and ask again.
async function postAsk(body) {
  for (let attempt = 0; ; attempt += 1) {
    const response = await api("/ask", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream, application/json" },
      body: JSON.stringify(body),
    });
    const wait = Number(response.headers.get("retry-after"));
    if (response.status !== 503 || !wait || attempt >= 5) return response;
    await new Promise((resolve) => setTimeout(resolve, wait * 1000 * (0.5 + Math.random())));
  }
}

async function readAnswer(response, card) {
  if (response.status === 503 && !$("#doc-list").children.length) {
    throw new Error("there are no documents to search yet: add one under Documents.");
  }
  if (!response.ok) throw new Error(await errorText(response));
  const type = response.headers.get("content-type") || "";
  if (!type.includes("text/event-stream")) {
    return response.json();
  }
  state.streaming = true;
  let live = null;
  let final = null;
  await readEvents(response, (name, data) => {
    let payload = data;
    try { payload = JSON.parse(data); } catch (_) { /* a bare text piece */ }
    if (name === "error") {
      throw new Error((payload && payload.detail) || String(payload));
    }
    const answer = finalAnswer(payload);
    if (answer) {
      final = answer;
      return;
    }
    const piece = typeof payload === "string" ? payload
      : payload && (payload.text ?? payload.delta ?? payload.piece ?? payload.token);
    if (typeof piece === "string") {
      if (!live) {
        live = el("p", { class: "answer-text" });
        card.replaceChildren(live);
      }
      live.append(piece);
      scrollDown();
    }
  });
  if (!final) throw new Error("the answer stream ended without an answer");
  return final;
}

// The last event of a stream carries the whole answer, with its citations.
function finalAnswer(payload) {
  if (!payload || typeof payload !== "object") return null;
  if (Array.isArray(payload.citations)) return payload;
  for (const key of ["answer", "result", "final"]) {
    const inner = payload[key];
    if (inner && typeof inner === "object" && Array.isArray(inner.citations)) return inner;
  }
  return null;
}

// Server-sent events from a fetch body: "event:" and "data:" lines, blank line between.
async function readEvents(response, onEvent) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  const dispatch = (block) => {
    let name = "message";
    const data = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith("event:")) name = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
    }
    if (data.length) onEvent(name, data.join("\n"));
  };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    const blocks = buffer.split(/\r?\n\r?\n/);
    buffer = blocks.pop();
    blocks.forEach(dispatch);
  }
  if (buffer.trim()) dispatch(buffer);
}

function renderAnswer(card, question, result) {
  const parts = [];
  if (result.abstained) {
    card.className = "answer abstained";
    parts.push(el("p", { class: "verdict" }, result.text || "The documents do not answer this question."));
    if (result.passages && result.passages.length) {
      parts.push(el("p", { class: "note" }, "The closest passages it looked at:"));
      parts.push(el("ol", { class: "passages" },
        ...result.passages.map((p) => el("li", {}, sourceButton(p.doc_id, p.start, p.end, p.text, null, "passage")))));
    }
  } else {
    card.className = "answer";
    if (result.answer && result.answer.trim() !== stripMarkers(result.text)) {
      parts.push(el("p", { class: "short" }, result.answer));
    }
    parts.push(withChips(result.text, result.citations));
    parts.push(el("ol", { class: "sources" }, ...result.citations.map((c) =>
      el("li", {}, sourceButton(c.doc_id, c.start, c.end, c.text, c.n, "cited", c)))));
  }
  if (result.resolved_question && result.resolved_question !== question) {
    parts.push(el("p", { class: "note" }, `Searched for: ${result.resolved_question}`));
  }
  card.replaceChildren(...parts);
}

function stripMarkers(text) {
  return (text || "").replace(/\s*\[\d+\]/g, "").trim();
}

// "text [1] more [2]" -> text nodes and citation chips.
function withChips(text, citations) {
  const byNumber = new Map(citations.map((c) => [String(c.n), c]));
  const paragraph = el("p", { class: "answer-text" });
  let last = 0;
  for (const match of (text || "").matchAll(/\[(\d+)\]/g)) {
    const citation = byNumber.get(match[1]);
    if (!citation) continue;
    paragraph.append(text.slice(last, match.index), chip(citation));
    last = match.index + match[0].length;
  }
  paragraph.append((text || "").slice(last));
  return paragraph;
}

// "page 3", "page iv (4)", "under Costs": where a citation stands in its file
function whereText(citation) {
  const parts = [];
  if (citation.page) {
    const label = citation.page_label && citation.page_label !== String(citation.page)
      ? `${citation.page_label} (${citation.page})` : String(citation.page);
    parts.push(`page ${label}`);
  }
  if (citation.section) parts.push(`under ${citation.section}`);
  return parts.join(", ");
}

function chip(citation) {
  const where = whereText(citation);
  const place = where ? `, ${where}` : "";
  return el("button", {
    class: "chip",
    type: "button",
    title: `Show in ${citation.doc_id}${place}`,
    "aria-label": `Source ${citation.n}: show the sentence in ${citation.doc_id}${place}`,
    onclick: () => openDocument(citation.doc_id, citation.start, citation.end, "cited", citation.page),
  }, String(citation.n));
}

function sourceButton(docId, start, end, text, n, kind = "cited", citation = null) {
  const where = citation ? whereText(citation) : "";
  const name = n ? `[${n}] ${docId}` : docId;
  return el("button", {
    class: "source",
    type: "button",
    onclick: () => openDocument(docId, start, end, kind, citation && citation.page),
  },
  el("span", { class: "doc" }, where ? `${name} · ${where}` : name),
  el("span", { class: "excerpt" }, text));
}

function plural(n, word) {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function scrollDown() {
  const scroller = $("#scroller");
  scroller.scrollTop = scroller.scrollHeight;
}

// ---- the document viewer --------------------------------------------------------------------

// kind "cited" marks a cited sentence; "passage" marks, more lightly, a passage looked at.
// A PDF opens at the page of [start, end) (``page`` when the citation gives it), drawn by
// pdf.js with the sentence marked; the toggle shows its extracted text instead.
async function openDocument(docId, start = null, end = null, kind = "cited", page = null) {
  const viewer = $("#viewer");
  const textBox = $("#viewer-text");
  if (viewer.hidden) state.opener = document.activeElement;
  state.viewing = { docId, start, end, kind, page };
  $("#viewer-title").textContent = docId;
  $("#viewer-id").textContent = "";
  $("#viewer-where").textContent = "";
  $("#viewer-pdf").hidden = true;
  $("#viewer-mode").hidden = true;
  $("#viewer-file").hidden = true;
  textBox.hidden = false;
  textBox.replaceChildren(el("p", { class: "pending muted" }, "Opening"));
  viewer.hidden = false;
  let doc = state.documents.get(docId);
  if (!doc) {
    const response = await api(documentUrl(docId));
    if (!response.ok) {
      textBox.replaceChildren(el("p", { class: "status error" }, await errorText(response)));
      return;
    }
    doc = await response.json();
    state.documents.set(docId, doc);
  }
  $("#viewer-title").textContent = doc.title || doc.id;
  $("#viewer-id").textContent = doc.id;
  if (doc.file) {
    $("#viewer-file").href = doc.file;
    $("#viewer-file").hidden = false;
  }
  const onPage = page || (start !== null ? pageAt(doc, start) : null);
  $("#viewer-where").textContent = whereText({
    page: onPage,
    page_label: onPage && doc.page_labels ? doc.page_labels[onPage - 1] : null,
    section: start !== null ? sectionAt(doc, start) : null,
  });
  const pdf = isPdf(doc);
  $("#viewer-mode").hidden = !pdf;
  $("#viewer-mode").textContent = state.textMode ? "Show page" : "Show text";
  $("#viewer-mode").setAttribute("aria-pressed", String(state.textMode));
  if (pdf && !state.textMode) {
    textBox.hidden = true;
    const sentence = start !== null ? doc.text.slice(start, end) : "";
    await showPdfPage(doc, onPage || 1, sentence);
    $("#viewer-close").focus({ preventScroll: true });
    return;
  }
  textBox.replaceChildren(renderText(doc, start, end, kind));
  const hits = textBox.querySelectorAll(".hit");
  if (hits.length) hits[0].scrollIntoView({ block: hits.length > 1 ? "start" : "center" });
  else textBox.scrollTop = 0;
  $("#viewer-close").focus({ preventScroll: true });
}

// The document as text nodes, one <span> per sentence; the sentences overlapping
// [start, end) are marked as the hit, the sentence on either side as its neighbours.
function renderText(doc, start, end, kind) {
  const text = doc.text;
  const sentences = doc.sentences;
  const hits = [];
  if (start !== null) {
    sentences.forEach(([a, b], i) => { if (a < end && b > start) hits.push(i); });
  }
  const near = new Set();
  if (hits.length) {
    near.add(hits[0] - 1);
    near.add(hits[hits.length - 1] + 1);
  }
  const flagged = new Set(doc.flagged || []);
  const fragment = document.createDocumentFragment();
  let cursor = 0;
  sentences.forEach(([a, b], i) => {
    if (a > cursor) fragment.append(text.slice(cursor, a));
    let cls = hits.includes(i) ? `s hit ${kind}` : near.has(i) ? "s near" : "s";
    const attrs = { "data-start": String(a), "data-end": String(b) };
    if (flagged.has(i)) {
      cls += " flagged";
      attrs.title = "Reads like an instruction: never cited";
    }
    fragment.append(el("span", { class: cls, ...attrs }, text.slice(a, b)));
    cursor = b;
  });
  if (cursor < text.length) fragment.append(text.slice(cursor));
  return fragment;
}

function isPdf(doc) {
  return Boolean(doc.file && doc.pages && doc.pages.length && /\.pdf$/i.test(doc.id));
}

// The value of the (start, value) run holding ``offset``, or null before the first.
function runAt(runs, offset) {
  let found = null;
  for (const [start, value] of runs || []) {
    if (start > offset) break;
    found = value;
  }
  return found;
}

function pageAt(doc, offset) {
  return runAt(doc.pages, offset);
}

function sectionAt(doc, offset) {
  return runAt(doc.sections, offset);
}

// Page ``number`` of the PDF drawn by qa/http/static/pdfview.mjs (pdf.js, loaded the first
// time a PDF is shown), with ``sentence`` marked; on failure, the extracted text instead.
async function showPdfPage(doc, number, sentence) {
  const box = $("#viewer-pdf");
  box.hidden = false;
  box.replaceChildren(el("p", { class: "pending muted" }, "Drawing the page"));
  try {
    pdfView = pdfView || await import(PDF_VIEW);
    const view = pdfView;
    const fetchBytes = async (url) => {
      const response = await api(url);
      if (!response.ok) throw new Error(await errorText(response));
      return new Uint8Array(await response.arrayBuffer());
    };
    const shown = await view.drawPage(box, doc.file, number, sentence, fetchBytes);
    box.prepend(pdfNav(doc, shown.page, shown.pages));
    if (shown.marked.length) shown.marked[0].scrollIntoView({ block: "center" });
    shown.sheet.dataset.ready = "true";
  } catch (error) {
    box.replaceChildren(el("p", { class: "status error" },
      `The page could not be drawn (${error.message}); the text is shown instead.`));
    const textBox = $("#viewer-text");
    const { start, end, kind } = state.viewing || {};
    textBox.replaceChildren(renderText(doc, start ?? null, end ?? null, kind || "cited"));
    textBox.hidden = false;
  }
}

function pdfNav(doc, number, count) {
  const go = (to) => () => {
    $("#viewer-where").textContent = whereText({
      page: to, page_label: doc.page_labels ? doc.page_labels[to - 1] : null,
    });
    showPdfPage(doc, to, "");
  };
  const previous = el("button", { class: "ghost", type: "button", "aria-label": "Previous page", onclick: go(number - 1) }, "‹");
  const next = el("button", { class: "ghost", type: "button", "aria-label": "Next page", onclick: go(number + 1) }, "›");
  previous.disabled = number <= 1;
  next.disabled = number >= count;
  return el("div", { class: "pdf-nav" }, previous, el("span", {}, `Page ${number} of ${count}`), next);
}

function toggleTextMode() {
  state.textMode = !state.textMode;
  const v = state.viewing;
  if (v) openDocument(v.docId, v.start, v.end, v.kind, v.page);
}

function closeViewer() {
  $("#viewer").hidden = true;
  if (state.opener && state.opener.isConnected) state.opener.focus();
  state.opener = null;
}

// ---- the documents panel ----------------------------------------------------------------------

function setStatus(message, isError = false) {
  const status = $("#docs-status");
  status.textContent = message;
  status.classList.toggle("error", isError);
}

async function loadDocuments() {
  const list = $("#doc-list");
  const response = await api("/documents");
  if (response.status === 503) {
    list.replaceChildren();
    $("#docs-count").textContent = "(0)";
    setStatus("No documents yet: add one to start asking.");
    return;
  }
  if (!response.ok) {
    setStatus(await errorText(response), true);
    return;
  }
  const documents = await response.json();
  $("#docs-count").textContent = `(${documents.length})`;
  const ids = new Set(documents.map((d) => d.id));
  const tags = [...new Set(documents.flatMap((d) => d.tags || []))].sort();
  state.scope = new Set([...state.scope].filter((id) => ids.has(id)));
  state.scopeTags = new Set([...state.scopeTags].filter((t) => tags.includes(t)));
  list.replaceChildren(...documents.map(documentItem));
  $("#tag-list").replaceChildren(...tags.map(tagToggle));
  showScope();
}

function tagToggle(tag) {
  const box = el("input", {
    type: "checkbox",
    onchange: (event) => {
      if (event.target.checked) state.scopeTags.add(tag);
      else state.scopeTags.delete(tag);
      showScope();
    },
  });
  box.checked = state.scopeTags.has(tag);
  return el("label", { class: "tag-pick", "data-tag": tag }, box, `#${tag}`);
}

// The documents and tags ticked are what questions are asked over.
function showScope() {
  const n = state.scope.size;
  const parts = [];
  if (n === 1) parts.push([...state.scope][0]);
  else if (n > 1) parts.push(`${n} documents`);
  if (state.scopeTags.size) {
    parts.push(`the documents tagged ${[...state.scopeTags].map((t) => `#${t}`).join(" or ")}`);
  }
  $("#scope").hidden = parts.length === 0;
  $("#scope-text").textContent = `Asking only ${parts.join(" and ")}`;
}

function pick(docId, checked) {
  if (checked) state.scope.add(docId);
  else state.scope.delete(docId);
  showScope();
}

function clearScope() {
  state.scope.clear();
  state.scopeTags.clear();
  document.querySelectorAll("#doc-list .pick, #tag-list input").forEach((box) => { box.checked = false; });
  showScope();
}

// An inline form under the document: its tags, separated by commas.
function editTags(doc, item) {
  const open = item.querySelector(".tag-form");
  if (open) {
    open.remove();
    return;
  }
  const input = el("input", {
    type: "text",
    placeholder: "tags, separated by commas",
    "aria-label": `Tags of ${doc.id}, separated by commas`,
  });
  input.value = (doc.tags || []).join(", ");
  const form = el("form", {
    class: "tag-form",
    onsubmit: (event) => {
      event.preventDefault();
      saveTags(doc.id, input.value);
    },
  }, input, el("button", { type: "submit" }, "Save"));
  item.append(form);
  input.focus();
}

async function saveTags(docId, value) {
  const tags = value.split(",").map((t) => t.trim()).filter(Boolean);
  const response = await api(documentUrl(docId), {
    method: "PATCH",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ tags }),
  });
  if (!response.ok) {
    setStatus(`The tags of ${docId} were not changed: ${await errorText(response)}`, true);
    return;
  }
  const saved = await response.json();
  forgetDocuments();
  setStatus(`${docId}: ${saved.tags.length ? saved.tags.map((t) => `#${t}`).join(" ") : "no tags"}.`);
  await loadDocuments();
}

function forgetDocuments() {
  state.documents.clear();
  if (pdfView) pdfView.forget(); // the PDFs opened so far
}

function documentItem(doc) {
  const remove = el("button", {
    class: "delete",
    type: "button",
    "aria-label": `Delete ${doc.id}`,
    onclick: () => deleteDocument(doc.id, remove),
  }, "Delete");
  const box = el("input", {
    class: "pick",
    type: "checkbox",
    title: "Ask only the documents ticked",
    "aria-label": `Ask only the documents ticked: ${doc.id}`,
    onchange: (event) => pick(doc.id, event.target.checked),
  });
  box.checked = state.scope.has(doc.id);
  const details = [doc.id, plural(doc.sentences, "sentence")];
  if (doc.uploaded) details.push("uploaded");
  if (doc.added_by) details.push(`added by ${doc.added_by}${doc.added_at ? ` ${doc.added_at.slice(0, 10)}` : ""}`);
  const warning = doc.flagged_sentences ? el("small", {
    class: "flag",
    title: "Sentences that give orders to the reader or to an AI are never cited",
  }, `⚠ ${plural(doc.flagged_sentences, "instruction-like sentence")}, never cited`) : null;
  const item = el("li", { "data-id": doc.id });
  const tagsRow = el("div", { class: "doc-tags" },
    doc.tags && doc.tags.length
      ? el("span", { class: "tags" }, doc.tags.map((t) => `#${t}`).join(" ")) : null,
    el("button", {
      class: "tags-edit",
      type: "button",
      "aria-label": `Edit the tags of ${doc.id}`,
      onclick: () => editTags(doc, item),
    }, doc.tags && doc.tags.length ? "edit tags" : "add tags"));
  item.append(
    box,
    el("button", {
      class: "open",
      type: "button",
      title: doc.added_at ? `${doc.id}, added ${doc.added_at}` : doc.id,
      onclick: () => openDocument(doc.id),
    },
    el("span", {}, doc.title || doc.id),
    el("small", {}, details.join(" · ")),
    warning),
    remove,
    tagsRow);
  return item;
}

// A first click arms the button, a second within a few seconds deletes.
async function deleteDocument(docId, button) {
  if (!button.classList.contains("confirm")) {
    button.classList.add("confirm");
    button.textContent = "Delete?";
    setTimeout(() => {
      button.classList.remove("confirm");
      button.textContent = "Delete";
    }, 4000);
    return;
  }
  button.disabled = true;
  setStatus(`Deleting ${docId}…`);
  const response = await api(documentUrl(docId), { method: "DELETE" });
  button.disabled = false;
  if (!response.ok) {
    setStatus(await errorText(response), true);
    return;
  }
  forgetDocuments();
  setStatus(`Deleted ${docId}.`);
  await loadDocuments();
}

async function upload(file) {
  setStatus(`Adding ${file.name}…`);
  const form = new FormData();
  form.append("file", file);
  const response = await api("/documents", { method: "POST", body: form });
  if (!response.ok) {
    setStatus(`${file.name} was not added: ${await errorText(response)}`, true);
    return;
  }
  const added = await response.json();
  forgetDocuments();
  const verb = added.replaced ? "Replaced" : "Added";
  setStatus(`${verb} ${added.doc_id} (${plural(added.sentences, "sentence")}).`);
  await loadDocuments();
}

// ---- the API key (when the server asks for one) ------------------------------------------

function showKeyForm() {
  const form = $("#key-form");
  if (!form.hidden) return;
  form.hidden = false;
  $("#forget-key").hidden = !sessionStorage.getItem(KEY_STORE);
  toggleDocs(true);
}

function wireKeyForm() {
  $("#key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const key = $("#api-key").value.trim();
    if (!key) return;
    sessionStorage.setItem(KEY_STORE, key);
    $("#api-key").value = "";
    $("#key-form").hidden = true;
    setStatus("Key saved for this tab: try again.");
    loadDocuments();
  });
  $("#forget-key").addEventListener("click", () => {
    sessionStorage.removeItem(KEY_STORE);
    $("#forget-key").hidden = true;
    setStatus("Key forgotten.");
  });
}

// ---- wiring -----------------------------------------------------------------------------------

function submitQuestion() {
  const box = $("#question");
  const question = box.value.trim();
  if (!question || state.busy) return;
  box.value = "";
  fitTextarea();
  state.busy = true;
  $("#send").disabled = true;
  ask(question).finally(() => {
    state.busy = false;
    $("#send").disabled = false;
    box.focus();
  });
}

function fitTextarea() {
  const box = $("#question");
  box.style.height = "auto";
  box.style.height = `${box.scrollHeight + 2}px`;
}

function toggleDocs(open) {
  const panel = $("#docs");
  const show = open ?? !panel.classList.contains("open");
  panel.classList.toggle("open", show);
  $("#docs-toggle").setAttribute("aria-expanded", String(show));
}

function wire() {
  $("#ask-form").addEventListener("submit", (event) => {
    event.preventDefault();
    submitQuestion();
  });
  $("#question").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submitQuestion();
    }
  });
  $("#question").addEventListener("input", fitTextarea);
  $("#new-chat").addEventListener("click", () => {
    state.history = [];
    $("#conversation").replaceChildren();
    $("#welcome").hidden = false;
    $("#question").focus();
  });
  $("#viewer-close").addEventListener("click", closeViewer);
  $("#viewer-mode").addEventListener("click", toggleTextMode);
  $("#scope-clear").addEventListener("click", clearScope);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !$("#viewer").hidden) closeViewer();
  });
  $("#docs-toggle").addEventListener("click", () => toggleDocs());

  const input = $("#file");
  input.addEventListener("change", async () => {
    const [file] = input.files;
    if (file) await upload(file);
    input.value = "";
  });
  const drop = $("#upload-label");
  drop.addEventListener("dragover", (event) => {
    event.preventDefault();
    drop.classList.add("dragging");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("dragging"));
  drop.addEventListener("drop", async (event) => {
    event.preventDefault();
    drop.classList.remove("dragging");
    for (const file of event.dataTransfer.files) await upload(file);
  });

  wireKeyForm();
  loadDocuments();
  $("#question").focus();
}

wire();
