/*
 * article-qa chat widget: the <article-qa-chat> custom element. One file, plain
 * JavaScript, no dependencies, no build step.
 *
 * Launcher:  <script src="http://HOST/widget.js" defer></script>
 *   adds a chat button and panel to the page, talking to HOST (the script's origin).
 *   Optional: data-endpoint="http://HOST", data-lang="zh-Hans|zh-Hant|en",
 *   data-title, data-placeholder, data-position="bottom-right|bottom-left",
 *   data-launcher="false" (only define the element, for inline use),
 *   data-api-key="…" (a widget key from QA_WIDGET_KEYS, bound to this page's origin).
 * Inline:    <article-qa-chat endpoint="http://HOST" lang="en" heading="…" placeholder="…"
 *   api-key="…">
 *   (heading may also be given as title). The UI language defaults to the page's lang.
 * Theme:     CSS custom properties on the element: --aqa-accent, --aqa-accent-text,
 *   --aqa-bg, --aqa-surface, --aqa-text, --aqa-muted, --aqa-border, --aqa-mark,
 *   --aqa-danger, --aqa-font, --aqa-radius, --aqa-width, --aqa-height, --aqa-z.
 * Methods:   open(), close(), ask(question), clear().
 *
 * Safety: everything the service sends (answers, passages, titles, messages) is put
 * into the page as text nodes, never parsed as HTML; the styles live in a shadow root;
 * the only requests go to the endpoint (POST /v1/ask/stream, GET /v1/documents/{id}).
 */
(() => {
  "use strict";

  const TAG = "article-qa-chat";
  if (!window.customElements || customElements.get(TAG)) return; // loaded twice: keep the first

  const SCRIPT = document.currentScript;
  const SCRIPT_DATA = (SCRIPT && SCRIPT.dataset) || {};
  const SCRIPT_ORIGIN = SCRIPT && SCRIPT.src ? new URL(SCRIPT.src, location.href).origin : "";
  const MAX_HISTORY = 40; // messages sent back with a question (the API takes up to 100)
  const MAX_MESSAGE = 20000; // characters per history message (the API's limit)
  const SVG = "http://www.w3.org/2000/svg";

  const STRINGS = {
    en: {
      title: "Ask the articles",
      placeholder: "Ask about the articles…",
      intro: "Ask in English or Chinese. Answers quote the articles and cite their sources.",
      hint: "Enter to send · Shift+Enter for a new line",
      input: "Your question",
      you: "You asked:",
      said: "Answer:",
      open: "Open the article assistant",
      close: "Close",
      newChat: "New conversation",
      send: "Send",
      stop: "Stop",
      retry: "Retry",
      copy: "Copy answer",
      copied: "Copied",
      copyFailed: "Could not copy the answer.",
      thinking: "Searching the articles…",
      writing: "Writing the answer…",
      done: "Answer complete.",
      stopped: "Stopped. The answer is incomplete.",
      declined: "The articles do not answer this question.",
      unreachable: "Cannot reach the article service. Check the connection and try again.",
      rateLimited: (s) =>
        s
          ? `Too many questions at the moment. Try again in ${s} seconds.`
          : "Too many questions at the moment. Try again shortly.",
      rejected: "This question cannot be answered as asked (it may be empty or too long).",
      notReady: "The article service is not ready yet. Try again shortly.",
      busy: (s) =>
        s
          ? `The article service is busy. Try again in ${s} s.`
          : "The article service is busy. Try again shortly.",
      denied: "This page may not use the article service (its key is missing or not valid here).",
      failed: "Something went wrong while answering. Try again.",
      cutOff: "The answer was cut off. Try again.",
      searchedFor: "Searched for: ",
      sources: "Sources",
      sourcesLine: "Sources:",
      source: (n) => `Source ${n}`,
      page: (n, last) => (last > n ? `pp. ${n}–${last}` : `p. ${n}`),
      cite: (n, title) => `Source ${n}: ${title}`,
      openArticle: "Open the whole article",
      back: "Back",
      loading: "Loading the article…",
      articleFailed: "Could not load the article.",
      unsupported: "not supported by the articles",
    },
    "zh-Hans": {
      title: "文章问答",
      placeholder: "就文章提问…",
      intro: "可用中文或英文提问。回答引用文章原文，并注明出处。",
      hint: "Enter 发送 · Shift+Enter 换行",
      input: "你的问题",
      you: "你问：",
      said: "回答：",
      open: "打开文章问答",
      close: "关闭",
      newChat: "新对话",
      send: "发送",
      stop: "停止",
      retry: "重试",
      copy: "复制回答",
      copied: "已复制",
      copyFailed: "无法复制回答。",
      thinking: "正在检索文章…",
      writing: "正在撰写回答…",
      done: "回答完毕。",
      stopped: "已停止，回答不完整。",
      declined: "这些文章没有回答这个问题。",
      unreachable: "无法连接文章问答服务。请检查网络后重试。",
      rateLimited: (s) => (s ? `提问过于频繁，请 ${s} 秒后再试。` : "提问过于频繁，请稍后再试。"),
      rejected: "无法按原样回答这个问题（可能为空或过长）。",
      notReady: "文章问答服务尚未就绪，请稍后再试。",
      busy: (s) => (s ? `文章问答服务繁忙，请 ${s} 秒后再试。` : "文章问答服务繁忙，请稍后再试。"),
      denied: "此页面无权使用文章问答服务（缺少密钥或密钥不适用于此页面）。",
      failed: "回答时出错，请重试。",
      cutOff: "回答中断了，请重试。",
      searchedFor: "检索内容：",
      sources: "来源",
      sourcesLine: "来源：",
      source: (n) => `来源 ${n}`,
      page: (n, last) => (last > n ? `第${n}–${last}页` : `第${n}页`),
      cite: (n, title) => `来源 ${n}：${title}`,
      openArticle: "查看全文",
      back: "返回",
      loading: "正在加载文章…",
      articleFailed: "无法加载文章。",
      unsupported: "文章不支持这句话",
    },
    "zh-Hant": {
      title: "文章問答",
      placeholder: "就文章提問…",
      intro: "可用中文或英文提問。回答引用文章原文，並註明出處。",
      hint: "Enter 送出 · Shift+Enter 換行",
      input: "你的問題",
      you: "你問：",
      said: "回答：",
      open: "開啟文章問答",
      close: "關閉",
      newChat: "新對話",
      send: "送出",
      stop: "停止",
      retry: "重試",
      copy: "複製回答",
      copied: "已複製",
      copyFailed: "無法複製回答。",
      thinking: "正在檢索文章…",
      writing: "正在撰寫回答…",
      done: "回答完畢。",
      stopped: "已停止，回答不完整。",
      declined: "這些文章沒有回答這個問題。",
      unreachable: "無法連線到文章問答服務。請檢查網路後重試。",
      rateLimited: (s) => (s ? `提問過於頻繁，請 ${s} 秒後再試。` : "提問過於頻繁，請稍後再試。"),
      rejected: "無法按原樣回答這個問題（可能為空或過長）。",
      notReady: "文章問答服務尚未就緒，請稍後再試。",
      busy: (s) => (s ? `文章問答服務繁忙，請 ${s} 秒後再試。` : "文章問答服務繁忙，請稍後再試。"),
      denied: "此頁面無權使用文章問答服務（缺少金鑰或金鑰不適用於此頁面）。",
      failed: "回答時出錯，請重試。",
      cutOff: "回答中斷了，請重試。",
      searchedFor: "檢索內容：",
      sources: "來源",
      sourcesLine: "來源：",
      source: (n) => `來源 ${n}`,
      page: (n, last) => (last > n ? `第${n}–${last}頁` : `第${n}頁`),
      cite: (n, title) => `來源 ${n}：${title}`,
      openArticle: "查看全文",
      back: "返回",
      loading: "正在載入文章…",
      articleFailed: "無法載入文章。",
      unsupported: "文章不支持這句話",
    },
  };

  const ICONS = {
    chat: "M4 5h16v11H9l-5 4z",
    close: "M6 6l12 12M18 6L6 18",
    plus: "M12 5v14M5 12h14",
    send: "M5 12h13M13 6l6 6-6 6",
    stop: "M8 8h8v8H8z",
    copy: "M9 9h10v10H9zM5 15V5h10",
    retry: "M19 12a7 7 0 1 1-2-5M19 4v4h-4",
    back: "M15 6l-6 6 6 6",
  };

  const css = String.raw; // a tag, so that editors and formatters treat the text as CSS
  const CSS = css`
    :host {
      all: initial;
      display: block;
    }
    [hidden] {
      display: none !important;
    }
    *,
    *::before,
    *::after {
      box-sizing: border-box;
    }
    .aqa {
      --accent: var(--aqa-accent, #1f5fd1);
      --accent-text: var(--aqa-accent-text, #fff);
      --bg: var(--aqa-bg, #fff);
      --surface: var(--aqa-surface, #f3f5f8);
      --text: var(--aqa-text, #1c2128);
      --muted: var(--aqa-muted, #57606a);
      --border: var(--aqa-border, #d0d7de);
      --mark: var(--aqa-mark, #ffe38a);
      --danger: var(--aqa-danger, #b42318);
      --radius: var(--aqa-radius, 12px);
      font: 14px/1.55
        var(
          --aqa-font,
          system-ui,
          -apple-system,
          "Segoe UI",
          "PingFang SC",
          "Microsoft YaHei",
          "Noto Sans CJK SC",
          "WenQuanYi Micro Hei",
          sans-serif
        );
      color: var(--text);
      text-align: start;
      letter-spacing: normal;
      text-transform: none;
      white-space: normal;
      visibility: visible;
    }
    button,
    textarea {
      font: inherit;
      color: inherit;
      margin: 0;
      letter-spacing: inherit;
    }
    button {
      cursor: pointer;
      border: 0;
      background: none;
      padding: 0;
      display: inline-flex;
      align-items: center;
      justify-content: center;
      gap: 4px;
    }
    button:disabled {
      cursor: default;
      opacity: 0.5;
    }
    :focus-visible {
      outline: 2px solid var(--accent);
      outline-offset: 2px;
    }
    svg {
      width: 18px;
      height: 18px;
      fill: none;
      stroke: currentColor;
      stroke-width: 2;
      stroke-linecap: round;
      stroke-linejoin: round;
      flex: none;
    }
    .launcher {
      position: fixed;
      bottom: 20px;
      right: 20px;
      z-index: var(--aqa-z, 2147483000);
      width: 56px;
      height: 56px;
      border-radius: 50%;
      background: var(--accent);
      color: var(--accent-text);
      box-shadow: 0 4px 16px rgba(0, 0, 0, 0.25);
    }
    .launcher svg {
      width: 26px;
      height: 26px;
    }
    [data-position="bottom-left"] .launcher {
      right: auto;
      left: 20px;
    }
    .panel {
      display: flex;
      flex-direction: column;
      position: relative;
      overflow: hidden;
      background: var(--bg);
      border: 1px solid var(--border);
      border-radius: var(--radius);
    }
    [data-mode="inline"] .panel {
      width: 100%;
      height: var(--aqa-height, 560px);
    }
    [data-mode="launcher"] .panel {
      position: fixed;
      bottom: 88px;
      right: 20px;
      z-index: var(--aqa-z, 2147483000);
      width: min(var(--aqa-width, 400px), calc(100vw - 40px));
      height: min(var(--aqa-height, 600px), calc(100vh - 108px));
      box-shadow: 0 12px 40px rgba(0, 0, 0, 0.22);
    }
    [data-mode="launcher"][data-position="bottom-left"] .panel {
      right: auto;
      left: 20px;
    }
    .head {
      display: flex;
      align-items: center;
      gap: 4px;
      padding: 10px 10px 10px 16px;
      border-bottom: 1px solid var(--border);
    }
    .title {
      flex: 1;
      margin: 0;
      font-size: 16px;
      font-weight: 600;
      line-height: 1.3;
      overflow-wrap: anywhere;
    }
    .icon {
      width: 34px;
      height: 34px;
      border-radius: 8px;
      color: var(--muted);
    }
    .icon:hover {
      background: var(--surface);
      color: var(--text);
    }
    .main {
      display: flex;
      flex-direction: column;
      flex: 1;
      min-height: 0;
    }
    .log {
      flex: 1;
      overflow-y: auto;
      padding: 14px 16px;
      display: flex;
      flex-direction: column;
      gap: 12px;
      overscroll-behavior: contain;
    }
    .intro {
      margin: auto 0;
      color: var(--muted);
      text-align: center;
    }
    .msg {
      max-width: 100%;
    }
    .user {
      align-self: flex-end;
      max-width: 85%;
    }
    .bubble {
      margin: 0;
      padding: 8px 12px;
      border-radius: 14px 14px 4px 14px;
      background: var(--accent);
      color: var(--accent-text);
      white-space: pre-wrap;
      overflow-wrap: anywhere;
    }
    .bot {
      align-self: stretch;
    }
    .state {
      margin: 0 0 4px;
      color: var(--muted);
      font-size: 13px;
    }
    .bot[data-state="thinking"] .state::after,
    .bot[data-state="writing"] .state::after {
      content: "";
      display: inline-block;
      width: 6px;
      height: 6px;
      margin-left: 6px;
      border-radius: 50%;
      background: var(--accent);
      animation: aqa-pulse 1s infinite alternate;
    }
    .bot[data-state="declined"] .state {
      color: var(--text);
      padding: 8px 12px;
      background: var(--surface);
      border-radius: 8px;
    }
    .answer {
      white-space: pre-wrap;
      overflow-wrap: anywhere;
    }
    .answer:empty {
      display: none;
    }
    .bot[data-state="streaming"] .answer::after {
      content: "▍";
      color: var(--accent);
      animation: aqa-pulse 0.8s infinite alternate;
    }
    .bot[data-state="declined"] .answer {
      color: var(--muted);
      font-size: 13px;
      margin-top: 4px;
    }
    .cite {
      min-width: 20px;
      height: 18px;
      padding: 0 5px;
      margin: 0 2px;
      border-radius: 9px;
      font-size: 11px;
      font-weight: 600;
      line-height: 18px;
      vertical-align: 0.25em;
      background: var(--surface);
      background: color-mix(in srgb, var(--accent) 14%, var(--bg));
      color: var(--accent);
    }
    .cite:hover {
      background: var(--accent);
      color: var(--accent-text);
    }
    .flag {
      text-decoration: underline wavy var(--danger);
      text-underline-offset: 3px;
    }
    .note,
    .notices {
      margin: 6px 0 0;
      color: var(--muted);
      font-size: 12px;
    }
    .notices {
      padding-left: 18px;
    }
    .sources {
      margin: 8px 0 0;
      padding: 0;
      list-style: none;
      display: flex;
      flex-direction: column;
      gap: 4px;
    }
    .source {
      width: 100%;
      justify-content: flex-start;
      text-align: start;
      padding: 6px 8px;
      border: 1px solid var(--border);
      border-radius: 8px;
      font-size: 12px;
    }
    .source:hover {
      background: var(--surface);
    }
    .source b {
      color: var(--accent);
      flex: none;
    }
    .source span {
      overflow: hidden;
      text-overflow: ellipsis;
      white-space: nowrap;
    }
    .error {
      margin-top: 6px;
      padding: 8px 12px;
      border-left: 3px solid var(--danger);
      background: var(--surface);
      background: color-mix(in srgb, var(--danger) 8%, var(--bg));
      border-radius: 4px;
    }
    .error p {
      margin: 0;
    }
    .error .detail {
      color: var(--muted);
      font-size: 12px;
      margin-top: 2px;
    }
    .actions {
      display: flex;
      gap: 6px;
      margin-top: 6px;
    }
    .action {
      padding: 4px 8px;
      border-radius: 6px;
      font-size: 12px;
      color: var(--muted);
      border: 1px solid var(--border);
    }
    .action:hover:not(:disabled) {
      color: var(--text);
      background: var(--surface);
    }
    .action svg {
      width: 14px;
      height: 14px;
    }
    .composer {
      display: flex;
      align-items: flex-end;
      gap: 8px;
      padding: 10px 12px 6px;
      border-top: 1px solid var(--border);
    }
    textarea {
      flex: 1;
      min-height: 40px;
      max-height: 140px;
      resize: none;
      padding: 9px 12px;
      border: 1px solid var(--border);
      border-radius: 10px;
      background: var(--bg);
      line-height: 1.45;
      white-space: pre-wrap;
    }
    textarea:focus {
      outline: 2px solid var(--accent);
      outline-offset: -1px;
    }
    .send,
    .stop {
      height: 40px;
      min-width: 40px;
      padding: 0 12px;
      border-radius: 10px;
      background: var(--accent);
      color: var(--accent-text);
    }
    .stop {
      background: var(--text);
      color: var(--bg);
    }
    .hint {
      margin: 0;
      padding: 0 14px 8px;
      color: var(--muted);
      font-size: 11px;
    }
    .sheet {
      position: absolute;
      inset: 0;
      z-index: 2;
      display: flex;
      flex-direction: column;
      background: var(--bg);
    }
    .sheet-head {
      display: flex;
      align-items: center;
      gap: 6px;
      padding: 10px 12px;
      border-bottom: 1px solid var(--border);
      font-weight: 600;
    }
    .sheet-body {
      position: relative;
      flex: 1;
      overflow-y: auto;
      padding: 14px 16px 18px;
      overscroll-behavior: contain;
    }
    .sheet-body:focus {
      outline: none;
    }
    .doc-title {
      margin: 0 0 4px;
      font-size: 15px;
      line-height: 1.4;
      overflow-wrap: anywhere;
    }
    .meta {
      margin: 0 0 10px;
      color: var(--muted);
      font-size: 12px;
    }
    .passage {
      margin: 0 0 12px;
      padding: 10px 12px;
      background: var(--surface);
      border-left: 3px solid var(--accent);
      border-radius: 4px;
    }
    .passage,
    .article {
      white-space: pre-wrap;
      overflow-wrap: anywhere;
    }
    .article {
      margin: 0 0 14px;
    }
    mark {
      background: var(--mark);
      color: inherit;
      border-radius: 2px;
      padding: 0 1px;
    }
    mark .answer {
      font-weight: 700;
      text-decoration: underline 2px;
      text-underline-offset: 2px;
    }
    .link {
      padding: 6px 10px;
      border-radius: 8px;
      border: 1px solid var(--accent);
      color: var(--accent);
    }
    .sr-only {
      position: absolute;
      width: 1px;
      height: 1px;
      margin: -1px;
      padding: 0;
      overflow: hidden;
      clip: rect(0 0 0 0);
      white-space: nowrap;
      border: 0;
    }
    @keyframes aqa-pulse {
      from {
        opacity: 1;
      }
      to {
        opacity: 0.25;
      }
    }
    @media (max-width: 480px) {
      [data-mode="launcher"] .panel {
        inset: 0;
        width: 100%;
        height: 100%;
        border: 0;
        border-radius: 0;
      }
      textarea {
        font-size: 16px; /* smaller text makes phones zoom in on focus */
      }
      .hint {
        display: none;
      }
      .cite {
        min-width: 26px;
        height: 24px;
        line-height: 24px;
      }
    }
    @media (prefers-reduced-motion: reduce) {
      * {
        animation: none !important;
      }
    }
  `;

  // ---- small pure helpers -------------------------------------------------------------

  /** An element with attributes (`text` sets its text, `on…` adds listeners) and children. */
  function h(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value == null || value === false) continue;
      if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    node.append(...children.filter((child) => child != null)); // strings become text nodes
    return node;
  }

  function icon(name) {
    const svg = document.createElementNS(SVG, "svg");
    const path = document.createElementNS(SVG, "path");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    path.setAttribute("d", ICONS[name]);
    svg.append(path);
    return svg;
  }

  /** zh-Hans, zh-Hant or en, from a BCP 47 tag such as zh-CN, zh-TW, zh-Hant-HK, en-GB. */
  function uiLanguage(tag) {
    const value = String(tag || "").toLowerCase();
    if (!value.startsWith("zh")) return "en";
    return /hant|-tw|-hk|-mo/.test(value) ? "zh-Hant" : "zh-Hans";
  }

  const clamp = (value, low, high) => Math.min(Math.max(value, low), high);
  const clip = (text) => String(text).slice(0, MAX_MESSAGE);

  /**
   * The cited spans of a citation (article offsets: its highlighted sentences, else
   * start..end) moved into a text that starts at article offset `base` and is `length`
   * long, clamped to it (a quote can run past its passage), sorted and merged.
   */
  function spansIn(citation, base, length) {
    const given = citation.highlights && citation.highlights.length ? citation.highlights : null;
    const spans = (given || [[citation.start, citation.end]])
      .map(([start, end]) => [clamp(start - base, 0, length), clamp(end - base, 0, length)])
      .filter(([start, end]) => end > start)
      .sort((a, b) => a[0] - b[0]);
    const merged = [];
    for (const span of spans) {
      const last = merged[merged.length - 1];
      if (last && span[0] <= last[1]) last[1] = Math.max(last[1], span[1]);
      else merged.push(span);
    }
    return merged;
  }

  /**
   * The exact answer phrases of a citation, moved and clamped like `spansIn`: highlights
   * that lie inside a longer highlight (the phrase inside its sentence).
   */
  function exactIn(citation, base, length) {
    const given = citation.highlights || [];
    return given
      .filter(([s, e]) => given.some(([S, E]) => S <= s && e <= E && E - S > e - s))
      .map(([start, end]) => [clamp(start - base, 0, length), clamp(end - base, 0, length)])
      .filter(([start, end]) => end > start)
      .sort((a, b) => a[0] - b[0]);
  }

  /** `text` as text nodes, with `spans` wrapped in <mark> and `exact` phrases in <b>. */
  function marked(text, spans, exact = []) {
    const nodes = [];
    let at = 0;
    for (const [start, end] of spans) {
      if (start > at) nodes.push(text.slice(at, start));
      const parts = [];
      let from = start;
      for (const [s, e] of exact) {
        if (s < from || e > end) continue;
        if (s > from) parts.push(text.slice(from, s));
        parts.push(h("b", { class: "answer", text: text.slice(s, e) }));
        from = e;
      }
      if (end > from) parts.push(text.slice(from, end));
      nodes.push(h("mark", {}, ...parts));
      at = end;
    }
    if (at < text.length) nodes.push(text.slice(at));
    return nodes;
  }

  /** text[from:to] as text nodes, sentences flagged as unsupported wrapped in a span. */
  function flagged(text, from, to, flags, label) {
    const nodes = [];
    let at = from;
    for (const flag of flags) {
      const start = Math.max(flag.start, at);
      const end = Math.min(flag.end, to);
      if (end <= start) continue;
      if (start > at) nodes.push(text.slice(at, start));
      const note = h("span", { class: "sr-only", text: ` (${label})` });
      nodes.push(h("span", { class: "flag", title: label }, text.slice(start, end), note));
      at = end;
    }
    if (to > at) nodes.push(text.slice(at, to));
    return nodes;
  }

  /** Citations (numbered as the answer's [n]), language and rewritten query of an event. */
  function takeCitations(turn, data) {
    turn.citations = data.citations || [];
    turn.byN = new Map(turn.citations.map((citation) => [Number(citation.n), citation]));
    turn.rewritten = data.rewritten_query || turn.rewritten;
    turn.language = data.language || turn.language;
  }

  /** The citations an answer's text actually cites ([n] present), else all of them. */
  function citedIn(text, citations) {
    const used = citations.filter((c) => text.includes(`[${c.n}]`));
    return used.length ? used : citations;
  }

  /** Date, outlet or issuer, and (for a citation of a paged document) its pages: "p. 3". */
  const describe = (item, t) =>
    [item.date, item.outlet, item.page && t ? t.page(item.page, item.page_end || 0) : null]
      .filter(Boolean)
      .join(" · ");

  /** The answer and its sources as plain text, for the clipboard. */
  function plainAnswer(turn, t) {
    const lines = [turn.text.trim()];
    for (const notice of turn.notices) lines.push(`(${notice.message})`);
    const cited = citedIn(turn.text, turn.citations);
    if (cited.length) lines.push("", t.sourcesLine);
    for (const c of cited) {
      lines.push(`[${c.n}] ${[c.title, describe(c, t)].filter(Boolean).join(" · ")}`);
      lines.push(`    “${c.quote}”`);
    }
    return lines.join("\n");
  }

  // ---- talking to the service ---------------------------------------------------------

  /** Why an answer failed: a kind (a key of STRINGS), the service's message, Retry-After. */
  function failure(kind, detail, retryAfter) {
    return { kind, detail: typeof detail === "string" ? detail : "", retryAfter: retryAfter || 0 };
  }

  function kindOf(status, code) {
    if (status === 429 || code === "rate_limited") return "rateLimited";
    if (code === "busy") return "busy";
    if (status === 401 || status === 403) return "denied";
    if (["invalid_input", "invalid_request", "malformed_json"].includes(code)) return "rejected";
    if (status === 400 || status === 413 || status === 422) return "rejected";
    if (status === 503 || /^(index_|not_ready)/.test(code || "")) return "notReady";
    return "failed";
  }

  /** Seconds to wait from a Retry-After header (delta-seconds or an HTTP date); 0 if none. */
  function retryAfterSeconds(value) {
    if (!value) return 0;
    const text = value.trim();
    const seconds = /^\d+$/.test(text) ? Number(text) : (Date.parse(text) - Date.now()) / 1000;
    return Number.isFinite(seconds) && seconds > 0 ? Math.ceil(seconds) : 0;
  }

  /** A failure from an HTTP error response, read from the one error shape when present. */
  async function httpFailure(response) {
    let error = {};
    try {
      error = (await response.json()).error || {};
    } catch (_) {
      // not JSON (a proxy's error page): the status alone decides
    }
    const wait = retryAfterSeconds(response.headers.get("Retry-After"));
    return failure(kindOf(response.status, error.code), error.message, wait);
  }

  /**
   * Reads a text/event-stream body, calling onEvent(name, data) per event and onBatch()
   * after each network chunk (so rendering happens once per chunk, not per token).
   */
  async function readEvents(body, onEvent, onBatch) {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      buffer += decoder.decode(value || new Uint8Array(), { stream: !done });
      // normalise line ends, keeping a trailing \r in case its \n is in the next chunk
      const keep = !done && buffer.endsWith("\r") ? "\r" : "";
      buffer = buffer.slice(0, buffer.length - keep.length).replace(/\r\n?/g, "\n") + keep;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        dispatch(buffer.slice(0, end), onEvent);
        buffer = buffer.slice(end + 2);
      }
      if (done) {
        if (buffer.trim()) dispatch(buffer, onEvent);
        onBatch();
        return;
      }
      onBatch();
    }
  }

  function dispatch(block, onEvent) {
    let name = "message";
    const data = [];
    for (const line of block.split("\n")) {
      if (line.startsWith("event:")) name = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
    }
    if (data.length) onEvent(name, JSON.parse(data.join("\n")));
  }

  // ---- the element --------------------------------------------------------------------

  class ArticleQAChat extends HTMLElement {
    static get observedAttributes() {
      return ["endpoint", "lang", "heading", "title", "placeholder", "position", "mode", "api-key"];
    }

    constructor() {
      super();
      this.turns = []; // one per question: its text, history, answer and DOM
      this.current = null; // the turn being answered
      this.documents = new Map(); // doc_id -> promise of GET /v1/documents/{id}
      this.isOpen = false;
      this.ui = null;
    }

    connectedCallback() {
      if (!this.ui) this.build();
      this.configure();
    }

    disconnectedCallback() {
      this.stop();
    }

    attributeChangedCallback() {
      if (this.ui) this.configure();
    }

    get endpoint() {
      const given = this.getAttribute("endpoint") || SCRIPT_DATA.endpoint || SCRIPT_ORIGIN;
      return (given || location.origin).replace(/\/+$/, "");
    }

    /** Request headers carrying the widget key, when one is configured. */
    authorised(headers) {
      const key = this.getAttribute("api-key") || SCRIPT_DATA.apiKey;
      return key ? { ...headers, Authorization: `Bearer ${key}` } : headers;
    }

    get language() {
      const holder = this.closest("[lang]") || document.documentElement;
      return uiLanguage(holder.getAttribute("lang") || navigator.language);
    }

    get t() {
      return STRINGS[this.language];
    }

    get launcher() {
      return this.getAttribute("mode") === "launcher";
    }

    // -- building and configuring the shadow DOM

    build() {
      const root = this.attachShadow({ mode: "open" });
      adoptStyles(root);
      const ui = (this.ui = {});
      ui.launcher = h(
        "button",
        { type: "button", class: "launcher", "aria-controls": "panel", "aria-expanded": "false" },
        icon("chat"),
      );
      ui.launcher.addEventListener("click", () => (this.isOpen ? this.close() : this.open()));
      ui.title = h("h2", { id: "title", class: "title" });
      ui.newChat = h("button", { type: "button", class: "icon new", onclick: () => this.clear() });
      ui.close = h("button", { type: "button", class: "icon close", onclick: () => this.close() });
      ui.newChat.append(icon("plus"));
      ui.close.append(icon("close"));
      ui.intro = h("p", { class: "intro" });
      ui.log = h(
        "div",
        { class: "log", role: "log", "aria-live": "polite", tabindex: "-1" },
        ui.intro,
      );
      ui.main = h("div", { class: "main" }, ui.log, this.buildComposer());
      ui.sheet = this.buildSheet();
      ui.status = h("div", { class: "sr-only", role: "status", "aria-live": "polite" });
      const head = h("div", { class: "head" }, ui.title, ui.newChat, ui.close);
      ui.panel = h("section", { id: "panel", class: "panel", "aria-labelledby": "title" });
      ui.panel.append(head, ui.main, ui.sheet, ui.status);
      ui.root = h("div", { class: "aqa" }, ui.launcher, ui.panel);
      ui.root.addEventListener("keydown", (event) => this.onKeydown(event));
      root.append(ui.root);
    }

    buildComposer() {
      const ui = this.ui;
      ui.inputLabel = h("label", { for: "input", class: "sr-only" });
      ui.input = h("textarea", {
        id: "input",
        rows: "1",
        autocomplete: "off",
        enterkeyhint: "send",
        "aria-describedby": "hint",
        oninput: () => this.autosize(),
        onkeydown: (event) => this.onInputKeydown(event),
      });
      ui.send = h("button", { type: "submit", class: "send" }, icon("send"));
      ui.stopLabel = h("span");
      ui.stop = h(
        "button",
        { type: "button", class: "stop", hidden: true },
        icon("stop"),
        ui.stopLabel,
      );
      ui.stop.addEventListener("click", () => {
        this.stop();
        ui.input.focus();
      });
      const form = h("form", { class: "composer" }, ui.inputLabel, ui.input, ui.send, ui.stop);
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        this.submit();
      });
      ui.hint = h("p", { id: "hint", class: "hint" });
      const wrap = document.createDocumentFragment();
      wrap.append(form, ui.hint);
      return wrap;
    }

    buildSheet() {
      const ui = this.ui;
      ui.sheetBack = h("button", { type: "button", class: "icon back" }, icon("back"));
      ui.sheetBack.addEventListener("click", () => this.closeSheet());
      ui.sheetLabel = h("span", { id: "sheet-label" });
      ui.sheetBody = h("div", { class: "sheet-body", tabindex: "-1" });
      const head = h("div", { class: "sheet-head" }, ui.sheetBack, ui.sheetLabel);
      return h(
        "div",
        { class: "sheet", role: "dialog", "aria-labelledby": "sheet-label", hidden: true },
        head,
        ui.sheetBody,
      );
    }

    /** Applies the attributes: mode, position, language, texts. */
    configure() {
      const { ui, t } = this;
      ui.root.dataset.mode = this.launcher ? "launcher" : "inline";
      ui.root.dataset.position =
        this.getAttribute("position") === "bottom-left" ? "bottom-left" : "bottom-right";
      ui.root.setAttribute("lang", this.language);
      ui.title.textContent = this.getAttribute("heading") || this.getAttribute("title") || t.title;
      ui.input.placeholder = this.getAttribute("placeholder") || t.placeholder;
      ui.inputLabel.textContent = t.input;
      ui.intro.textContent = t.intro;
      ui.hint.textContent = t.hint;
      ui.stopLabel.textContent = t.stop;
      ui.sheetBack.setAttribute("aria-label", t.back);
      labelled(ui.send, t.send);
      labelled(ui.newChat, t.newChat);
      labelled(ui.close, t.close);
      labelled(ui.launcher, t.open);
      ui.launcher.hidden = ui.close.hidden = !this.launcher;
      ui.panel.setAttribute("role", this.launcher ? "dialog" : "region");
      ui.panel.hidden = this.launcher && !this.isOpen;
    }

    // -- opening, closing, keyboard

    open() {
      if (this.launcher) {
        this.isOpen = true;
        this.ui.panel.hidden = false;
        this.ui.launcher.setAttribute("aria-expanded", "true");
      }
      this.ui.input.focus();
    }

    close() {
      if (!this.launcher || !this.isOpen) return;
      this.closeSheet(false);
      this.isOpen = false;
      this.ui.panel.hidden = true;
      this.ui.launcher.setAttribute("aria-expanded", "false");
      this.ui.launcher.focus();
    }

    onKeydown(event) {
      if (event.key !== "Escape") return;
      if (!this.ui.sheet.hidden) this.closeSheet();
      else if (this.launcher && this.isOpen) this.close();
      else return;
      event.preventDefault();
      event.stopPropagation(); // the page's own Escape handlers need not react too
    }

    onInputKeydown(event) {
      // Enter sends, Shift+Enter is a new line; an Enter that confirms an IME
      // composition (how most Chinese is typed) must not send the half-typed question
      if (event.key !== "Enter" || event.shiftKey || event.isComposing || event.keyCode === 229)
        return;
      event.preventDefault();
      this.submit();
    }

    autosize() {
      const input = this.ui.input;
      input.style.height = "auto";
      input.style.height = `${Math.min(input.scrollHeight + 2, 140)}px`;
    }

    announce(text) {
      this.ui.status.textContent = text;
    }

    // -- asking

    submit() {
      const question = this.ui.input.value.trim();
      if (!question || this.current) return;
      this.ui.input.value = "";
      this.autosize();
      this.ask(question);
    }

    /** Asks a question in the current conversation; resolves when the answer ends. */
    ask(question) {
      if (this.current) return Promise.resolve();
      if (this.launcher && !this.isOpen) this.open();
      const turn = this.addTurn(String(question), this.history());
      return this.run(turn);
    }

    /** The conversation so far as the API's `history`: answered turns only, oldest first. */
    history() {
      const messages = [];
      for (const turn of this.turns) {
        if (!turn.final) continue; // a stopped or failed answer is not part of it
        messages.push({ role: "user", content: clip(turn.question) });
        messages.push({ role: "assistant", content: clip(turn.final.answer) });
      }
      return messages.slice(-MAX_HISTORY);
    }

    stop() {
      if (this.current) this.current.controller.abort();
    }

    clear() {
      this.stop();
      this.current = null;
      this.setBusy(false);
      this.closeSheet(false);
      this.turns = [];
      this.ui.log.replaceChildren(this.ui.intro);
      this.ui.intro.hidden = false;
      this.ui.input.focus();
    }

    retry(turn) {
      if (this.current || turn !== this.turns[this.turns.length - 1]) return;
      this.run(turn);
    }

    addTurn(question, history) {
      const t = this.t;
      this.ui.intro.hidden = true;
      for (const old of this.turns) old.retry.hidden = true; // only the last answer can be re-asked
      const turn = { question, history };
      turn.state = h("p", { class: "state" });
      turn.answer = h("div", { class: "answer" });
      turn.meta = h("div", { class: "meta-box" });
      turn.alert = h("div", { class: "alert-box" });
      turn.copy = h("button", { type: "button", class: "action copy" }, icon("copy"), t.copy);
      turn.retry = h("button", { type: "button", class: "action retry" }, icon("retry"), t.retry);
      turn.copy.addEventListener("click", () => this.copy(turn));
      turn.retry.addEventListener("click", () => this.retry(turn));
      const actions = h("div", { class: "actions" }, turn.copy, turn.retry);
      const said = h("span", { class: "sr-only", text: t.said });
      turn.node = h(
        "div",
        { class: "msg bot" },
        said,
        turn.state,
        turn.answer,
        turn.meta,
        turn.alert,
        actions,
      );
      const asked = h("span", { class: "sr-only", text: t.you });
      const user = h(
        "div",
        { class: "msg user" },
        asked,
        h("p", { class: "bubble", text: question }),
      );
      this.ui.log.append(user, turn.node);
      this.turns.push(turn);
      this.ui.log.scrollTop = this.ui.log.scrollHeight;
      return turn;
    }

    reset(turn) {
      Object.assign(turn, { text: "", citations: [], byN: new Map(), notices: [], final: null });
      Object.assign(turn, { rewritten: null, language: null });
      turn.answer.replaceChildren();
      turn.answer.hidden = false;
      turn.meta.replaceChildren();
      turn.alert.replaceChildren();
      turn.copy.hidden = turn.retry.hidden = true;
      turn.node.setAttribute("aria-busy", "true");
      delete turn.node.dataset.error;
    }

    async run(turn) {
      this.reset(turn);
      const controller = (turn.controller = new AbortController());
      this.current = turn;
      this.setBusy(true);
      this.setState(turn, "thinking");
      try {
        const response = await this.post(turn, controller.signal);
        if (!response.ok) throw await httpFailure(response);
        await this.follow(turn, response);
      } catch (error) {
        this.fail(turn, controller.signal.aborted ? failure("stopped") : error);
      } finally {
        if (this.current === turn) {
          this.current = null;
          this.setBusy(false);
        }
      }
    }

    async post(turn, signal) {
      try {
        return await fetch(`${this.endpoint}/v1/ask/stream`, {
          method: "POST",
          mode: "cors",
          credentials: "omit",
          signal,
          headers: this.authorised({
            "Content-Type": "application/json",
            Accept: "text/event-stream",
          }),
          body: JSON.stringify({ question: turn.question, history: turn.history }),
        });
      } catch (_) {
        // fetch rejects when the server is down, or when CORS refuses this page's origin
        throw failure("unreachable");
      }
    }

    /** Reads the stream into the turn; a stream that ends without `done` was cut off. */
    async follow(turn, response) {
      try {
        const onEvent = (name, data) => this.onEvent(turn, name, data);
        await readEvents(response.body, onEvent, () => this.render(turn));
      } catch (error) {
        throw error && error.kind ? error : failure("cutOff");
      }
      if (!turn.final) throw failure("cutOff");
    }

    onEvent(turn, name, data) {
      if (name === "citations") {
        // first, and again after a notice that the LLM failed: the answer starts afresh
        turn.text = "";
        takeCitations(turn, data);
        this.setState(turn, "writing");
      } else if (name === "token") {
        turn.text += data.text || "";
        if (turn.node.dataset.state !== "streaming") this.setState(turn, "streaming");
      } else if (name === "notice") {
        turn.notices.push(data);
      } else if (name === "done") {
        this.finish(turn, data);
      } else if (name === "error") {
        const error = (data && data.error) || {};
        throw failure(kindOf(0, error.code), error.message);
      }
    }

    finish(turn, data) {
      // the final answer replaces what was streamed: its citations were checked
      turn.final = data;
      turn.text = data.answer || "";
      turn.notices = data.notices || [];
      takeCitations(turn, data);
      this.render(turn);
      turn.node.setAttribute("aria-busy", "false");
      this.setState(turn, data.declined ? "declined" : "done");
      turn.copy.hidden = turn.retry.hidden = false;
    }

    fail(turn, error) {
      if (!turn.node.isConnected) return; // the conversation was cleared meanwhile
      const t = this.t;
      const reason = error && error.kind ? error : failure("failed");
      this.render(turn);
      turn.node.setAttribute("aria-busy", "false");
      turn.retry.hidden = false;
      turn.copy.hidden = !turn.text;
      if (reason.kind === "stopped") {
        this.setState(turn, "stopped");
        return;
      }
      this.setState(turn, "error");
      turn.node.dataset.error = reason.kind;
      const message =
        typeof t[reason.kind] === "function" ? t[reason.kind](reason.retryAfter) : t[reason.kind];
      const detail = reason.detail ? h("p", { class: "detail", text: reason.detail }) : null;
      turn.alert.replaceChildren(
        h("div", { class: "error", role: "alert" }, h("p", { text: message }), detail),
      );
      if (reason.retryAfter) {
        turn.retry.disabled = true; // asking again before Retry-After would be refused again
        setTimeout(() => (turn.retry.disabled = false), reason.retryAfter * 1000);
      }
    }

    setBusy(busy) {
      this.ui.send.hidden = busy;
      this.ui.stop.hidden = !busy;
    }

    setState(turn, state) {
      const t = this.t;
      turn.node.dataset.state = state;
      const label = {
        thinking: t.thinking,
        writing: t.writing,
        stopped: t.stopped,
        declined: t.declined,
      }[state];
      turn.state.textContent = label || "";
      turn.state.hidden = !label;
      if (["thinking", "stopped", "declined"].includes(state)) this.announce(label);
      if (state === "done") this.announce(t.done);
      // a decline in the UI language already says what the label says
      if (state === "declined") turn.answer.hidden = turn.language === this.language;
    }

    // -- rendering an answer

    render(turn) {
      const log = this.ui.log;
      const pinned = log.scrollHeight - log.scrollTop - log.clientHeight < 60;
      const t = this.t;
      const checked = (turn.final && turn.final.verification) || {};
      const flags = [...(checked.unsupported || [])].sort((a, b) => a.start - b.start);
      turn.answer.replaceChildren(this.answerNodes(turn.text, turn.byN, flags));
      if (turn.language) turn.answer.setAttribute("lang", turn.language);
      const meta = [];
      if (turn.rewritten)
        meta.push(h("p", { class: "note rewritten", text: t.searchedFor + turn.rewritten }));
      if (turn.notices.length) {
        const items = turn.notices.map((notice) => h("li", { text: notice.message }));
        meta.push(h("ul", { class: "notices" }, ...items));
      }
      if (turn.final && turn.citations.length) meta.push(this.sourceList(turn));
      turn.meta.replaceChildren(...meta);
      // follow the answer as it grows, unless the reader has scrolled up
      if (pinned) log.scrollTop = log.scrollHeight;
    }

    /** Text nodes with a button for each [n] that names a citation; other text stays text. */
    answerNodes(text, byN, flags) {
      const fragment = document.createDocumentFragment();
      const label = this.t.unsupported;
      let at = 0;
      for (const match of text.matchAll(/\[(\d{1,3})\]/g)) {
        const citation = byN.get(Number(match[1]));
        if (!citation) continue;
        fragment.append(...flagged(text, at, match.index, flags, label), this.citeButton(citation));
        at = match.index + match[0].length;
      }
      fragment.append(...flagged(text, at, text.length, flags, label));
      return fragment;
    }

    citeButton(citation) {
      const button = h("button", {
        type: "button",
        class: "cite",
        "data-n": citation.n,
        "aria-label": this.t.cite(citation.n, citation.title),
        text: String(citation.n),
      });
      button.addEventListener("click", () => this.showSource(citation, button));
      return button;
    }

    sourceList(turn) {
      const t = this.t;
      const items = citedIn(turn.text, turn.citations).map((citation) => {
        const button = h(
          "button",
          { type: "button", class: "source", "data-n": citation.n },
          h("b", { text: `[${citation.n}]` }),
          h("span", { text: [citation.title, describe(citation, t)].filter(Boolean).join(" · ") }),
        );
        button.addEventListener("click", () => this.showSource(citation, button));
        return h("li", {}, button);
      });
      return h("ul", { class: "sources", "aria-label": t.sources }, ...items);
    }

    // -- the source card and the whole article

    showSource(citation, opener) {
      const t = this.t;
      const passage = citation.passage || "";
      const spans = spansIn(citation, citation.passage_start, passage.length);
      const exact = exactIn(citation, citation.passage_start, passage.length);
      const open = h("button", { type: "button", class: "link open-article", text: t.openArticle });
      open.addEventListener("click", () => this.showArticle(citation));
      this.openSheet(t.source(citation.n), opener, [
        h("h3", { class: "doc-title", text: citation.title }),
        h("p", { class: "meta", text: describe(citation, t) }),
        h("blockquote", { class: "passage" }, ...marked(passage, spans, exact)),
        open,
      ]);
    }

    async showArticle(citation) {
      const t = this.t;
      const status = h("p", { class: "state", role: "status", text: t.loading });
      this.openSheet(t.source(citation.n), this.sheetOpener, [status]);
      let doc;
      try {
        doc = await this.fetchDocument(citation.doc_id);
      } catch (_) {
        status.textContent = t.articleFailed;
        return;
      }
      if (!status.isConnected) return; // the reader moved on meanwhile
      const text = doc.text || "";
      const body = h("div", { class: "article", tabindex: "0", "aria-label": doc.title });
      body.append(
        ...marked(text, spansIn(citation, 0, text.length), exactIn(citation, 0, text.length)),
      );
      const back = h("button", { type: "button", class: "link", text: t.back });
      back.addEventListener("click", () => this.showSource(citation, this.sheetOpener));
      const head = h("h3", { class: "doc-title", text: doc.title });
      this.ui.sheetBody.replaceChildren(
        head,
        h("p", { class: "meta", text: describe(doc) }),
        body,
        back,
      );
      // scroll the cited span into view inside the card only: scrollIntoView
      // would scroll the host page too
      const first = body.querySelector("mark");
      const box = this.ui.sheetBody;
      if (first) box.scrollTop = Math.max(0, first.offsetTop - box.clientHeight / 3);
    }

    fetchDocument(docId) {
      if (!this.documents.has(docId)) {
        const url = `${this.endpoint}/v1/documents/${encodeURIComponent(docId)}`;
        const init = { mode: "cors", credentials: "omit", headers: this.authorised({}) };
        const request = fetch(url, init).then((response) => {
          if (!response.ok) throw new Error(`HTTP ${response.status}`);
          return response.json();
        });
        request.catch(() => this.documents.delete(docId)); // try again next time
        this.documents.set(docId, request);
      }
      return this.documents.get(docId);
    }

    openSheet(label, opener, body) {
      const ui = this.ui;
      this.sheetOpener = opener;
      ui.sheetLabel.textContent = label;
      ui.sheetBody.replaceChildren(...body);
      ui.sheet.hidden = false;
      ui.main.inert = true; // keep Tab inside the card while it covers the conversation
      ui.sheetBody.scrollTop = 0;
      ui.sheetBack.focus();
    }

    closeSheet(restoreFocus = true) {
      const ui = this.ui;
      if (ui.sheet.hidden) return;
      ui.sheet.hidden = true;
      ui.main.inert = false;
      if (restoreFocus && this.sheetOpener && this.sheetOpener.isConnected)
        this.sheetOpener.focus();
    }

    // -- copying

    async copy(turn) {
      const t = this.t;
      const text = plainAnswer(turn, t);
      let copied = true;
      try {
        await navigator.clipboard.writeText(text);
      } catch (_) {
        copied = legacyCopy(this.shadowRoot, text);
      }
      this.announce(copied ? t.copied : t.copyFailed);
      if (!copied) return;
      turn.copy.lastChild.textContent = t.copied;
      setTimeout(() => (turn.copy.lastChild.textContent = t.copy), 2000);
    }
  }

  /** Copying where the asynchronous clipboard is unavailable (plain http, older browsers). */
  function legacyCopy(root, text) {
    const area = h("textarea", { class: "sr-only", readonly: true, "aria-hidden": "true" });
    area.value = text;
    root.append(area);
    area.select();
    let copied = false;
    try {
      copied = document.execCommand("copy");
    } catch (_) {
      copied = false;
    }
    area.remove();
    return copied;
  }

  let sharedSheet = null;

  /** One constructed stylesheet shared by every instance (not blocked by a page's CSP),
   * or a <style> element where constructed stylesheets are unsupported. */
  function adoptStyles(root) {
    try {
      if (!sharedSheet) {
        sharedSheet = new CSSStyleSheet();
        sharedSheet.replaceSync(CSS);
      }
      root.adoptedStyleSheets = [sharedSheet];
    } catch (_) {
      root.append(h("style", { text: CSS }));
    }
  }

  function labelled(button, text) {
    button.setAttribute("aria-label", text);
    button.title = text;
  }

  customElements.define(TAG, ArticleQAChat);

  /** The script tag's own instance: a launcher button and panel at the end of <body>. */
  function addLauncher() {
    if (!SCRIPT || SCRIPT_DATA.launcher === "false") return;
    const chat = document.createElement(TAG);
    chat.setAttribute("mode", "launcher");
    for (const name of ["endpoint", "lang", "placeholder", "position"]) {
      if (SCRIPT_DATA[name]) chat.setAttribute(name, SCRIPT_DATA[name]);
    }
    if (SCRIPT_DATA.apiKey) chat.setAttribute("api-key", SCRIPT_DATA.apiKey);
    if (SCRIPT_DATA.title) chat.setAttribute("heading", SCRIPT_DATA.title);
    const place = () => document.body.append(chat);
    if (document.body) place();
    else document.addEventListener("DOMContentLoaded", place, { once: true });
  }

  addLauncher();
})();
