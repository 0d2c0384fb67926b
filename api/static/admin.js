/* The admin knowledge-base page (GET /admin): upload, list (and filter), read, re-ingest
 * and delete documents, and see what a question retrieves.
 *
 * Plain JavaScript, no build step and no external resources; the page's CSP allows only
 * this file and the service's own API.  The admin key is asked for once, kept in
 * sessionStorage (this tab only) and sent as `Authorization: Bearer <key>` on every call.
 * Uploads go one file per request, one request at a time (the index has one writer), so
 * every file gets its own outcome.  Everything the service returns is written with
 * textContent, never as markup.
 *
 * Leaves out: the endpoints themselves (api/admin.py, api/kb.py).
 */
(() => {
  "use strict";

  const KEY_STORE = "article-qa-admin-key";
  const BASE = location.pathname.replace(/\/admin\/?$/, "");
  const OUTCOMES = ["added", "replaced", "unchanged", "removed"];
  const $ = (id) => document.getElementById(id);
  const EMPTY = "The index is empty: upload documents in the box above";

  const state = {
    key: sessionStorage.getItem(KEY_STORE) || "",
    docs: [],
    sort: { field: "ingested_at", dir: -1 },
    maxUpload: null,
    uploads: [],
    queue: [],
    running: false,
    outcomes: new Map(), // doc id -> {text, error} of its last re-ingest
    shown: null, // id of the document in the panel
    refused: null, // the service's message when it refused the key
    filter: "",
  };

  class ApiError extends Error {
    constructor(status, code, message, detail) {
      super(message);
      Object.assign(this, { status, code, detail });
    }
  }

  /** An element with properties, attributes (`attrs`), listeners (`on*`) and children. */
  function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(props)) {
      if (value == null) continue;
      if (name === "attrs") for (const [a, v] of Object.entries(value)) node.setAttribute(a, v);
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node[name] = value;
    }
    for (const child of children) if (child != null) node.append(child);
    return node;
  }

  // ---- calling the API ------------------------------------------------------------------

  async function call(method, path, body) {
    const key = state.key;
    if (!key) throw new ApiError(0, "no_key", "Enter the admin key first.");
    const headers = { Accept: "application/json", Authorization: `Bearer ${key}` };
    const init = { method, headers };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(BASE + path, init);
    } catch (error) {
      throw new ApiError(0, "unreachable", `Cannot reach the service (${error.message}).`);
    }
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    if (!response.ok) throw refusal(response, data, key);
    return data;
  }

  function refusal(response, data, key) {
    const error = (data && data.error) || {};
    const message = error.message || response.statusText || "The request failed.";
    const failed = new ApiError(response.status, error.code || "http_error", message, error.detail);
    if (response.status === 401 || response.status === 403) keyRefused(failed, key);
    return failed;
  }

  /** One readable line for any error: the service's message, its status and code. */
  function describe(error) {
    if (!(error instanceof ApiError)) return String((error && error.message) || error);
    if (!error.status) return error.message;
    const problems = Array.isArray(error.detail) ? error.detail.filter((d) => typeof d === "string") : [];
    const extra = problems.length > 1 ? ` — ${problems.join("; ")}` : "";
    return `${error.message}${extra} (HTTP ${error.status}, ${error.code})`;
  }

  // ---- the key --------------------------------------------------------------------------

  function showKeyState() {
    $("key-error").textContent = state.refused
      ? `The service refused the key: ${state.refused} Enter the admin key again.`
      : "";
    $("key-status").textContent = state.key
      ? "A key is set for this tab; it is sent with every request."
      : state.refused
        ? ""
        : "Enter an admin key (QA_ADMIN_KEYS) to use this page.";
  }

  /** The key sent was refused (401/403): forget it and ask for another. */
  function keyRefused(error, key) {
    if (key !== state.key) return; // a key entered since then is not refused yet
    const wasSet = Boolean(state.key);
    state.refused = error.message;
    state.key = "";
    sessionStorage.removeItem(KEY_STORE);
    showKeyState();
    if (wasSet) $("key").focus();
  }

  function useKey(event) {
    event.preventDefault();
    const key = $("key").value.trim();
    if (!key) return;
    state.key = key;
    state.refused = null;
    sessionStorage.setItem(KEY_STORE, key);
    $("key").value = "";
    showKeyState();
    loadDocuments();
  }

  function forgetKey() {
    state.key = "";
    state.refused = null;
    sessionStorage.removeItem(KEY_STORE);
    state.docs = [];
    renderDocuments();
    closeDocument();
    showKeyState();
    $("key").focus();
  }

  // ---- uploads --------------------------------------------------------------------------

  function addFiles(files) {
    for (const file of files) {
      const item = { file, state: "queued", started: 0, timer: 0 };
      item.row = uploadRow(item);
      state.uploads.push(item);
      state.queue.push(item);
      $("uploads").append(item.row.li);
    }
    summarise();
    pump();
  }

  function uploadRow(item) {
    const stateCell = el("span", { className: "state" });
    const detail = el("div", { className: "detail" });
    const li = el(
      "li",
      { attrs: { "data-state": "queued", "data-file": item.file.name } },
      el("span", { className: "name", textContent: item.file.name }),
      stateCell,
      detail,
    );
    return { li, stateCell, detail };
  }

  function setUpload(item, status, detail) {
    item.state = status;
    item.row.li.dataset.state = status;
    item.row.stateCell.textContent = status;
    if (detail !== undefined) item.row.detail.replaceChildren(...[].concat(detail));
  }

  async function pump() {
    if (state.running) return;
    state.running = true;
    while (state.queue.length) await upload(state.queue.shift());
    state.running = false;
  }

  async function upload(item) {
    item.started = performance.now();
    const tick = () => {
      const seconds = Math.floor((performance.now() - item.started) / 1000);
      setUpload(item, "ingesting", `${formatSize(item.file.size)} · ${seconds} s`);
    };
    tick();
    item.timer = setInterval(tick, 1000);
    try {
      tooLarge(item.file);
      const content = await base64Of(item.file);
      const body = { documents: [{ name: item.file.name, content, encoding: "base64" }] };
      showReport(item, await call("POST", "/v1/admin/documents", body));
    } catch (error) {
      setUpload(item, "failed", describe(error));
    } finally {
      clearInterval(item.timer);
      summarise();
    }
    if (state.key) await loadDocuments();
  }

  function tooLarge(file) {
    if (!state.maxUpload) return;
    const request = Math.ceil(file.size / 3) * 4 + 3 * file.name.length + 100;
    if (request > state.maxUpload) {
      throw new Error(
        `${formatSize(file.size)} is too large: an upload request may have at most ` +
          `${formatSize(state.maxUpload)} (QA_MAX_UPLOAD_BYTES), and base64 adds a third.`,
      );
    }
  }

  function base64Of(file) {
    return new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(String(reader.result).replace(/^[^,]*,/, ""));
      reader.onerror = () => reject(new Error(`Cannot read the file (${reader.error}).`));
      reader.readAsDataURL(file);
    });
  }

  function showReport(item, report) {
    const seconds = `${Number(report.seconds || 0).toFixed(1)} s`;
    const lines = [];
    const failed = (report.failed || [])[0];
    const outcome = OUTCOMES.find((name) => (report[name] || []).length);
    if (failed) lines.push(el("div", { textContent: failed.reason }));
    else if (outcome) {
      const ids = report[outcome].join(", ");
      lines.push(`${ids} · ${chunks(report.chunks_embedded)} embedded · ${seconds}`);
    }
    const warnings = warningList(report.warnings);
    if (warnings) lines.push(warnings);
    setUpload(item, failed ? "failed" : outcome || "unchanged", lines);
  }

  function warningList(warnings) {
    if (!Array.isArray(warnings) || !warnings.length) return null;
    const text = (w) => (typeof w === "string" ? w : [w.file, w.reason].filter(Boolean).join(": "));
    return el("ul", { className: "warnings" }, ...warnings.map((w) => el("li", { textContent: text(w) })));
  }

  function summarise() {
    const total = state.uploads.length;
    const done = state.uploads.filter((u) => u.state !== "queued" && u.state !== "ingesting").length;
    const failed = state.uploads.filter((u) => u.state === "failed").length;
    const tail = failed ? `, ${failed} failed` : "";
    $("upload-summary").textContent = total ? `${done} of ${count(total, "file")} done${tail}` : "";
  }

  /** "1 passage", "3 passages", "0 documents". */
  function count(n, noun, plural = `${noun}s`) {
    return `${n} ${n === 1 ? noun : plural}`;
  }

  function chunks(n) {
    return count(n, "chunk");
  }

  function formatSize(bytes) {
    if (bytes < 1024) return `${bytes} B`;
    if (bytes < 1048576) return `${(bytes / 1024).toFixed(1)} KB`;
    return `${(bytes / 1048576).toFixed(1)} MB`;
  }

  // ---- the documents table --------------------------------------------------------------

  async function loadDocuments() {
    $("docs-error").textContent = "";
    try {
      const listed = await call("GET", "/v1/admin/documents");
      state.docs = listed.documents;
      state.maxUpload = listed.max_upload_bytes;
      $("docs-status").textContent = listed.documents.length
        ? `${count(listed.documents.length, "document")} · index version ${listed.version}`
        : `${EMPTY} to fill it.`;
    } catch (error) {
      if (!error.status || error.status === 401 || error.status === 403) state.docs = [];
      if (error.code === "index_missing") {
        state.docs = []; // no index yet: the first upload makes one
        $("docs-status").textContent = `${EMPTY} to build it.`;
      } else {
        $("docs-error").textContent = describe(error);
      }
    }
    renderDocuments();
  }

  function sortedDocuments() {
    const { field, dir } = state.sort;
    const key = (d) => String(d[field] || "");
    return [...state.docs].sort((a, b) => dir * key(a).localeCompare(key(b), "zh-Hans-CN"));
  }

  const FILTERED = ["id", "title", "outlet", "source", "format"];
  const folded = (text) => String(text ?? "").normalize("NFKC").toLocaleLowerCase();

  /** Whether a document has every word of the filter in its id, title, outlet, source or format. */
  function matches(doc, words) {
    const haystack = FILTERED.map((field) => folded(doc[field])).join("\n");
    return words.every((word) => haystack.includes(word));
  }

  function filteredDocuments() {
    const words = folded(state.filter).split(/\s+/).filter(Boolean);
    const sorted = sortedDocuments();
    return words.length ? sorted.filter((doc) => matches(doc, words)) : sorted;
  }

  function renderDocuments() {
    const shown = filteredDocuments();
    $("docs-body").replaceChildren(...shown.map(documentRow));
    $("docs-filter").hidden = !state.docs.length;
    $("docs-count").textContent = state.filter.trim()
      ? `${shown.length} of ${count(state.docs.length, "document")}`
      : "";
    for (const th of document.querySelectorAll("th[data-sort]")) {
      const on = th.dataset.sort === state.sort.field;
      th.setAttribute("aria-sort", on ? (state.sort.dir > 0 ? "ascending" : "descending") : "none");
    }
  }

  function sortBy(field) {
    const same = state.sort.field === field;
    state.sort = { field, dir: same ? -state.sort.dir : field === "title" ? 1 : -1 };
    renderDocuments();
  }

  function cell(label, content, className) {
    return el("td", { className, attrs: { "data-label": label } }, content ?? "—");
  }

  /** An id or file name in monospace that may wrap only after `_ - . /` (or when a part
   * is too long for its cell), not in the middle of a word. */
  function ident(text) {
    const parts = String(text).split(/(?<=[_\-./\\:])/);
    const nodes = parts.flatMap((part, i) => (i ? [el("wbr"), part] : [part]));
    return el("span", { className: "ident", attrs: { translate: "no" } }, ...nodes);
  }

  function documentRow(doc) {
    const title = el("button", {
      type: "button",
      className: "link open",
      textContent: doc.title,
      onclick: () => openDocument(doc.id),
    });
    const warnings = doc.warnings.length ? warningList(doc.warnings) : "none";
    return el(
      "tr",
      { attrs: { "data-doc-id": doc.id } },
      cell("ID", ident(doc.id), "id"),
      cell("Title", title, "title"),
      cell("Date", doc.date, "date"),
      cell("Outlet / issuer", doc.outlet, "outlet"),
      cell("Source file", doc.source ? ident(doc.source) : null, "source"),
      cell("Format", doc.format, "format"),
      cell("Pages", doc.pages == null ? null : String(doc.pages), "num pages"),
      cell("Chunks", String(doc.chunks), "num chunks"),
      cell("Ingested", timeOf(doc.ingested_at), "ingested"),
      cell("Warnings", warnings),
      cell("Actions", actions(doc)),
    );
  }

  function actions(doc) {
    const last = state.outcomes.get(doc.id);
    const outcome = el("span", {
      className: `outcome${last && last.error ? " error" : ""}`,
      textContent: last ? last.text : "",
      attrs: { role: "status" },
    });
    const reingest = el("button", { type: "button", className: "secondary reingest", textContent: "Re-ingest" });
    reingest.addEventListener("click", () => reingestDocument(doc, reingest));
    const remove = el("button", { type: "button", className: "danger delete", textContent: "Delete" });
    remove.addEventListener("click", () => deleteDocument(doc, remove));
    reingest.setAttribute("aria-label", `Re-ingest ${doc.title}`);
    remove.setAttribute("aria-label", `Delete ${doc.title}`);
    return el("div", {}, el("div", { className: "actions" }, reingest, remove), outcome);
  }

  function formatTime(iso) {
    if (!iso) return null;
    return iso.replace("T", " ").replace(/\+00:00$|Z$/, " UTC");
  }

  /** The time as a date and a clock time that each stay on one line. */
  function timeOf(iso) {
    const text = formatTime(iso);
    if (!text) return null;
    const [date, ...rest] = text.split(" ");
    const span = (t) => el("span", { className: "nowrap", textContent: t });
    return el("span", {}, span(date), ...(rest.length ? [" ", span(rest.join(" "))] : []));
  }

  async function reingestDocument(doc, button) {
    button.disabled = true;
    button.textContent = "Re-ingesting…";
    try {
      const report = await call("POST", `/v1/admin/documents/${encodeURIComponent(doc.id)}/reingest`);
      const failed = (report.failed || [])[0];
      const outcome = OUTCOMES.find((name) => (report[name] || []).length) || "unchanged";
      const text = failed ? `failed: ${failed.reason}` : `${outcome} · ${chunks(report.chunks_embedded)} embedded`;
      state.outcomes.set(doc.id, { text, error: Boolean(failed) });
    } catch (error) {
      state.outcomes.set(doc.id, { text: describe(error), error: true });
    }
    await loadDocuments();
  }

  async function deleteDocument(doc, button) {
    if (!window.confirm(`Delete “${doc.title}” (${doc.id}) from the index? This cannot be undone.`)) return;
    button.disabled = true;
    try {
      await call("DELETE", `/v1/admin/documents/${encodeURIComponent(doc.id)}`);
      if (state.shown === doc.id) closeDocument();
      await loadDocuments();
      $("docs-status").textContent = `Deleted ${doc.id}. ${$("docs-status").textContent}`;
    } catch (error) {
      button.disabled = false;
      $("docs-error").textContent = `Could not delete ${doc.id}: ${describe(error)}`;
    }
  }

  // ---- one document ---------------------------------------------------------------------

  async function openDocument(id) {
    const panel = $("doc");
    panel.hidden = false;
    $("doc-error").textContent = "";
    $("doc-title").textContent = "Loading…";
    $("doc-meta").replaceChildren();
    $("doc-text").replaceChildren();
    state.shown = id;
    panel.focus();
    try {
      const doc = await call("GET", `/v1/admin/documents/${encodeURIComponent(id)}`);
      if (state.shown !== id) return;
      $("doc-title").textContent = doc.title;
      $("doc-meta").replaceChildren(...metadata(doc));
      $("doc-text").replaceChildren(...withPageMarkers(doc.text, doc.page_starts));
    } catch (error) {
      $("doc-title").textContent = id;
      $("doc-error").textContent = describe(error);
    }
  }

  function metadata(doc) {
    const rows = [
      ["ID", doc.id],
      ["Date", doc.date],
      ["Outlet / issuer", doc.outlet],
      ["Origin", doc.origin],
      ["Author", doc.author],
      ["Source file", doc.source],
      ["Format", doc.format],
      ["Pages", doc.pages],
      ["Chunks", doc.chunks],
      ["Ingested", formatTime(doc.ingested_at)],
      ["Characters", doc.text.length],
    ];
    const out = rows.flatMap(([name, value]) => [
      el("dt", { textContent: name }),
      el("dd", { textContent: value == null || value === "" ? "—" : String(value) }),
    ]);
    if (doc.warnings.length) out.push(el("dt", { textContent: "Warnings" }), el("dd", {}, warningList(doc.warnings)));
    return out;
  }

  /** The text as nodes, with a "p. N" marker where each page starts. */
  function withPageMarkers(text, starts) {
    const offsets = (starts || []).map(Number).filter((s) => s >= 0 && s <= text.length);
    if (!offsets.length) return [text];
    const nodes = [];
    let at = 0;
    offsets.forEach((start, page) => {
      if (start > at) nodes.push(text.slice(at, start));
      at = Math.max(at, start);
      nodes.push(el("span", { className: "page-marker", textContent: `p. ${page + 1}` }), "\n");
    });
    nodes.push(text.slice(at));
    return nodes;
  }

  function closeDocument() {
    const shown = state.shown;
    state.shown = null;
    $("doc").hidden = true;
    const row = shown && document.querySelector(`tr[data-doc-id="${CSS.escape(shown)}"] .open`);
    if (row) row.focus();
  }

  // ---- try a question -------------------------------------------------------------------

  async function search(event) {
    event.preventDefault();
    const question = $("question").value;
    const topK = Number($("top-k").value) || 10;
    $("search-error").textContent = "";
    $("search-status").textContent = "Searching…";
    $("hits").replaceChildren();
    $("answer").hidden = true;
    try {
      const result = await call("POST", "/v1/admin/search", { question, top_k: topK });
      $("search-status").textContent = searchSummary(result);
      $("hits").replaceChildren(...result.hits.map(hitItem));
      showAnswer(await call("POST", "/v1/ask", { question, top_k: topK }));
    } catch (error) {
      $("search-status").textContent = "";
      $("search-error").textContent =
        error.code === "index_missing" ? `${EMPTY}, then try a question.` : describe(error);
    }
  }

  function searchSummary(result) {
    const answer = result.relevant ? "the service would answer" : "the service would decline";
    const floors = `cosine ≥ ${result.min_dense_score.toFixed(2)} or keyword coverage ≥ ${result.min_keyword_coverage.toFixed(2)}`;
    const words = result.keywords.length ? ` Keywords: ${result.keywords.join(" · ")}.` : "";
    return `${count(result.hits.length, "passage")} (${result.language}); ${answer} (${floors}).${words}`;
  }

  /** The answer the service gives, with its citations: title, issuer, date and "p. N". */
  function showAnswer(answer) {
    $("answer-text").textContent = answer.answer;
    const items = answer.citations.map((c) => {
      const where = [c.title, c.outlet, c.date, pageLabel(c.page, c.page_end)].filter(Boolean);
      return el(
        "li",
        { attrs: { "data-doc-id": c.doc_id, "data-page": c.page ?? "" } },
        el("strong", { textContent: `[${c.n}] ` }),
        el("span", { className: "where", textContent: where.join(" · ") }),
        el("q", { textContent: c.quote }),
      );
    });
    $("answer-citations").replaceChildren(...items);
    $("answer").hidden = false;
  }

  /** "p. 3", "pp. 3–4", or "" for a document without pages. */
  const pageLabel = (first, last) =>
    !first ? "" : last > first ? `pp. ${first}–${last}` : `p. ${first}`;

  function hitItem(hit) {
    const title = el("button", {
      type: "button",
      className: "link",
      textContent: hit.title,
      onclick: () => openDocument(hit.doc_id),
    });
    const scores =
      `score ${hit.score.toFixed(3)} · cosine ${hit.dense.toFixed(3)} · ` +
      `coverage ${hit.coverage.toFixed(2)} · ${hit.chunk_id} [${hit.start}, ${hit.end})` +
      (hit.page ? ` · ${pageLabel(hit.page, hit.last_page)}` : "");
    return el(
      "li",
      { attrs: { "data-doc-id": hit.doc_id } },
      el("div", { className: "head" }, el("strong", { textContent: `${hit.rank}.` }), title, el("span", { className: "scores", textContent: scores })),
      el("p", { className: "passage", textContent: hit.text }),
    );
  }

  // ---- wiring ---------------------------------------------------------------------------

  function wireDropZone() {
    const zone = $("drop");
    const over = (on) => (event) => {
      event.preventDefault();
      zone.classList.toggle("over", on);
    };
    zone.addEventListener("dragenter", over(true));
    zone.addEventListener("dragover", over(true));
    zone.addEventListener("dragleave", over(false));
    zone.addEventListener("drop", (event) => {
      over(false)(event);
      if (event.dataTransfer && event.dataTransfer.files.length) addFiles([...event.dataTransfer.files]);
    });
    $("files").addEventListener("change", (event) => {
      addFiles([...event.target.files]);
      event.target.value = "";
    });
  }

  function start() {
    $("key-form").addEventListener("submit", useKey);
    $("forget").addEventListener("click", forgetKey);
    $("refresh").addEventListener("click", loadDocuments);
    $("doc-close").addEventListener("click", closeDocument);
    $("doc").addEventListener("keydown", (event) => {
      if (event.key === "Escape") closeDocument();
    });
    $("search-form").addEventListener("submit", search);
    $("doc-filter").addEventListener("input", (event) => {
      state.filter = event.target.value;
      renderDocuments();
    });
    for (const th of document.querySelectorAll("th[data-sort]")) {
      th.querySelector("button").addEventListener("click", () => sortBy(th.dataset.sort));
    }
    wireDropZone();
    showKeyState();
    if (state.key) loadDocuments();
  }

  start();
})();
