// maif viewer: a single page over the HTTP API of `maif serve` (docs/API.md).
//
// Everything an artifact holds is hostile data: it reaches the page only as
// text nodes (textContent), SVG attributes the page computes itself, or
// blob: URLs of bytes whose image type the page sniffed. No innerHTML, no
// data in URLs the page navigates to. The token lives in sessionStorage and
// goes out only as an Authorization header to this origin.
'use strict';

(() => {
  const TOKEN_KEY = 'maif.token';
  const PREVIEW_MAX = 256 * 1024;        // bytes of text/JSON shown
  const IMAGE_MAX = 32 * 1024 * 1024;    // larger images are not fetched whole
  const HEX_BYTES = 512;                 // hex dump of other payloads
  const GRAPH_MAX_NODES = 300;           // nodes drawn; the rest are counted
  const SIG_MAX_COMMITS = 200;           // commits checked in the browser
  const HISTORY_MAX = 20000;             // commits listed on the timeline

  const $ = (id) => document.getElementById(id);
  const SVG_NS = 'http://www.w3.org/2000/svg';

  // ---- DOM helpers: text only, attributes from a fixed set of names.
  function el(tag, props, ...kids) {
    const e = document.createElement(tag);
    setProps(e, props);
    for (const k of kids) if (k !== null && k !== undefined) e.append(k instanceof Node ? k : String(k));
    return e;
  }
  function svg(tag, props, ...kids) {
    const e = document.createElementNS(SVG_NS, tag);
    setProps(e, props);
    for (const k of kids) if (k !== null && k !== undefined) e.append(k instanceof Node ? k : String(k));
    return e;
  }
  function setProps(e, props) {
    if (!props) return;
    for (const [k, v] of Object.entries(props)) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') e.setAttribute('class', v);
      else if (k === 'text') e.textContent = String(v);
      else if (k === 'onclick') e.addEventListener('click', v);
      else if (k.startsWith('on')) throw new Error('event ' + k);
      else e.setAttribute(k, String(v));
    }
  }
  function clear(e) { while (e.firstChild) e.firstChild.remove(); return e; }

  // ---- status line and busy counter (tests wait on body[data-busy="0"]).
  let busy = 0;
  function setBusy(d) { busy += d; document.body.dataset.busy = String(busy); }
  function status(msg, kind) {
    const s = $('status');
    s.textContent = msg || '';
    s.className = kind || '';
  }

  // ---- the API
  class ApiError extends Error {
    constructor(status, code, message) { super(message); this.status = status; this.code = code; }
  }
  function token() { return sessionStorage.getItem(TOKEN_KEY) || ''; }
  function art(name) { return '/v1/artifacts/' + encodeURIComponent(name); }

  async function request(path, opts = {}) {
    const headers = new Headers(opts.headers || {});
    const t = token();
    if (t) headers.set('Authorization', 'Bearer ' + t);
    setBusy(1);
    try {
      let r;
      try {
        r = await fetch(path, { headers, signal: opts.signal, cache: 'no-store', credentials: 'omit' });
      } catch (e) {
        if (e.name === 'AbortError') throw e;
        throw new ApiError(0, 'network', 'the server cannot be reached (' + e.message + ')');
      }
      if (!r.ok) {
        let code = 'error', msg = r.status + ' ' + r.statusText;
        try {
          const j = await r.json();
          if (j && j.error) { code = String(j.error.code || code); msg = String(j.error.message || msg); }
        } catch (_) { /* not JSON */ }
        if (r.status === 401) msg = 'the server wants a valid token: ' + msg;
        throw new ApiError(r.status, code, msg);
      }
      return r;
    } finally {
      setBusy(-1);
    }
  }
  async function getJSON(path, opts) {
    const r = await request(path, opts);
    setBusy(1);
    try { return await r.json(); } finally { setBusy(-1); }
  }
  // The first MAX bytes of a response body (the rest is not read).
  async function readBytes(r, max) {
    setBusy(1);
    try {
      const reader = r.body.getReader();
      const parts = [];
      let n = 0, truncated = false;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        parts.push(value);
        n += value.length;
        if (n >= max) { truncated = true; reader.cancel().catch(() => {}); break; }
      }
      const out = new Uint8Array(Math.min(n, max));
      let off = 0;
      for (const p of parts) {
        const take = Math.min(p.length, out.length - off);
        out.set(p.subarray(0, take), off);
        off += take;
        if (off >= out.length) break;
      }
      return { bytes: out, truncated };
    } finally {
      setBusy(-1);
    }
  }
  function showError(e, where) {
    if (e && e.name === 'AbortError') return;
    const msg = (where ? where + ': ' : '') + (e && e.message ? e.message : String(e));
    status(msg, 'error');
    if (e && e.status === 401) $('token').focus();
  }

  // ---- formatting
  function fmtBytes(n) {
    if (typeof n !== 'number' || !isFinite(n)) return '';
    if (n < 1024) return n + ' B';
    const u = ['KiB', 'MiB', 'GiB', 'TiB'];
    let v = n / 1024, i = 0;
    while (v >= 1024 && i < u.length - 1) { v /= 1024; i++; }
    return v.toFixed(v < 10 ? 1 : 0) + ' ' + u[i];
  }
  function fmtNum(n) { return typeof n === 'number' ? n.toLocaleString('en') : (n === undefined || n === null ? '' : String(n)); }
  function toDate(t) {
    if (typeof t === 'number' && isFinite(t)) {
      const ms = t > 1e14 ? t / 1000 : t > 1e11 ? t : t * 1000; // µs, ms or s
      return new Date(ms);
    }
    if (typeof t === 'string') { const d = new Date(t); return isNaN(d) ? null : d; }
    return null;
  }
  function fmtTime(t) { const d = toDate(t); return d ? d.toISOString().replace('.000Z', 'Z') : (t === undefined ? '' : String(t)); }
  function short(s, n) { s = String(s); return s.length > n ? s.slice(0, n - 1) + '\u2026' : s; }
  function metaText(m) {
    if (m === null || m === undefined) return '';
    try { return typeof m === 'string' ? m : JSON.stringify(m); } catch (_) { return String(m); }
  }
  function hex(bytes) { return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(''); }
  function unhex(s, n) {
    if (typeof s !== 'string' || s.length % 2 || !/^[0-9a-fA-F]*$/.test(s)) throw new Error('not hex');
    if (n !== undefined && s.length !== 2 * n) throw new Error('expected ' + n + ' bytes of hex');
    const out = new Uint8Array(s.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(s.substr(2 * i, 2), 16);
    return out;
  }

  // The artifact named by the URL's fragment (#NAME), or '' when none or malformed.
  function hashName() {
    try { return decodeURIComponent(location.hash.slice(1)); } catch (_) { return ''; }
  }

  // ---- state
  const st = {
    name: null,          // the open artifact
    info: null,
    offset: 0, limit: 100, total: 0, base: null,
    rows: [], rowPos: new Map(), // the page's block summaries, and index -> position
    damaged: new Map(),  // block index -> [finding]
    verify: null,
    selected: null,      // block index in the preview
    history: null,
    ctl: {},             // AbortControllers by purpose
  };
  function fresh(purpose) {
    if (st.ctl[purpose]) st.ctl[purpose].abort();
    st.ctl[purpose] = new AbortController();
    return st.ctl[purpose].signal;
  }

  // ---- token
  function initToken() {
    $('token').value = token();
    $('token-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const v = $('token').value.trim();
      if (v) sessionStorage.setItem(TOKEN_KEY, v); else sessionStorage.removeItem(TOKEN_KEY);
      status(v ? 'token set for this tab' : 'no token', '');
      loadArtifacts();
    });
    $('token-forget').addEventListener('click', () => {
      sessionStorage.removeItem(TOKEN_KEY);
      $('token').value = '';
      clear($('artifacts'));
      closeArtifact();
      status('token forgotten', '');
    });
  }

  // ---- artifacts list
  async function loadArtifacts() {
    const ul = $('artifacts');
    try {
      const j = await getJSON('/v1/artifacts', { signal: fresh('list') });
      const list = Array.isArray(j.artifacts) ? j.artifacts : [];
      clear(ul);
      $('artifacts-empty').hidden = list.length > 0;
      for (const a of list) {
        const name = String(a.name);
        const b = el('button', { type: 'button', class: 'artifact', 'data-name': name },
          el('span', { class: 'a-name', text: name }),
          el('span', { class: 'a-meta', text: fmtNum(a.blocks) + ' blocks \u00b7 ' + fmtBytes(a.bytes) + (a.format ? ' \u00b7 ' + a.format : '') }));
        b.addEventListener('click', () => openArtifact(name));
        if (name === st.name) b.classList.add('current');
        ul.append(el('li', null, b));
      }
      status(list.length + ' artifact' + (list.length === 1 ? '' : 's'), '');
      const want = hashName();
      if (!st.name && want && list.some((a) => String(a.name) === want)) openArtifact(want);
    } catch (e) {
      showError(e, 'artifacts');
    }
  }

  function closeArtifact() {
    st.name = null;
    $('artifact').hidden = true;
    closePreview();
  }

  async function openArtifact(name) {
    for (const c of Object.values(st.ctl)) c.abort();
    st.ctl = {};
    Object.assign(st, { name, info: null, offset: 0, total: 0, base: null, rows: [], rowPos: new Map(), damaged: new Map(), verify: null, history: null });
    if (location.hash.slice(1) !== encodeURIComponent(name)) history.replaceState(null, '', '#' + encodeURIComponent(name));
    for (const b of document.querySelectorAll('#artifacts .artifact')) b.classList.toggle('current', b.dataset.name === name);
    $('artifact').hidden = false;
    $('artifact-name').textContent = name;
    clear($('artifact-info'));
    clear($('blocks-body'));
    clear($('search-results'));
    $('search-note').textContent = '';
    clear($('commits-body'));
    clear($('timeline-plot'));
    $('sig-note').textContent = '';
    clear($('graph-plot'));
    $('graph-note').textContent = '';
    setBadge('pending', 'verifying\u2026');
    closePreview();
    selectTab('blocks');
    loadInfo();
    await loadPage(0);
    runVerify();
  }

  async function loadInfo() {
    const name = st.name;
    try {
      const i = await getJSON(art(name), { signal: fresh('info') });
      if (name !== st.name) return;
      st.info = i;
      const dl = clear($('artifact-info'));
      const add = (k, v) => { if (v !== undefined && v !== null && v !== '') dl.append(el('dt', { text: k }), el('dd', { text: v })); };
      add('format', i.format);
      add('blocks', fmtNum(i.blocks));
      add('size', fmtBytes(i.bytes));
      add('commits', fmtNum(i.commits));
      if (Array.isArray(i.signers)) add('signers', i.signers.map((s) => short(typeof s === 'string' ? s : (s.key || JSON.stringify(s)), 17)).join(', '));
      add('policy', i.policy_level);
      if (i.modified_us) add('modified', fmtTime(i.modified_us));
    } catch (e) {
      showError(e, 'artifact');
    }
  }

  // ---- blocks, one server page at a time
  function pageCount() { return Math.max(1, Math.ceil(st.total / st.limit)); }

  async function loadPage(offset, thenSelect) {
    const name = st.name;
    offset = Math.max(0, Math.floor(offset));
    try {
      const j = await getJSON(art(name) + '/blocks?offset=' + offset + '&limit=' + st.limit, { signal: fresh('page') });
      if (name !== st.name) return;
      st.total = Number(j.total) || 0;
      if (offset >= st.total && st.total > 0) return loadPage(Math.floor((st.total - 1) / st.limit) * st.limit, thenSelect);
      st.offset = typeof j.offset === 'number' ? j.offset : offset;
      const blocks = Array.isArray(j.blocks) ? j.blocks : [];
      if (blocks.length && typeof blocks[0].index === 'number') st.base = blocks[0].index - st.offset;
      renderPage(blocks);
      if (thenSelect !== undefined) openBlock(thenSelect);
    } catch (e) {
      showError(e, 'blocks');
    }
  }

  // The page (up to 1000 summaries) stays in memory; the table holds only
  // the rows in view plus a margin, between two spacer rows that keep the
  // scroll height right. A page turn or a scroll builds ~100 rows, never
  // the whole page.
  const MARGIN = 30;   // rows built above and below the visible ones
  let rowH = 25;       // px; measured from a rendered row
  let win = { start: -1, end: -1 };
  const wrapOf = () => $('blocks').closest('.table-wrap');

  function renderPage(blocks) {
    const t0 = performance.now();
    st.rows = blocks;
    st.rowPos = new Map(blocks.map((b, i) => [b.index, i]));
    const first = blocks.length ? blocks[0].index : null, last = blocks.length ? blocks[blocks.length - 1].index : null;
    $('page-num').value = String(Math.floor(st.offset / st.limit) + 1);
    $('page-num').max = String(pageCount());
    $('page-count').textContent = 'of ' + fmtNum(pageCount());
    $('page-info').textContent = blocks.length
      ? 'blocks ' + fmtNum(first) + '\u2013' + fmtNum(last) + ' of ' + fmtNum(st.total)
      : (st.total ? 'no blocks on this page' : 'no blocks');
    $('page-first').disabled = $('page-prev').disabled = st.offset === 0;
    $('page-next').disabled = $('page-last').disabled = st.offset + st.limit >= st.total;
    $('blocks').dataset.rows = String(blocks.length);
    wrapOf().scrollTop = 0;
    renderWindow(true);
    // the DOM work of a page turn (tests/ui reports it; paint follows)
    $('blocks').dataset.renderMs = (performance.now() - t0).toFixed(1);
  }

  function blockRow(b) {
    const idx = b.index;
    const cc = [b.codec && b.codec !== 'none' ? b.codec : '', b.cipher && b.cipher !== 'none' ? b.cipher : ''].filter(Boolean).join(' / ');
    const meta = metaText(b.meta);
    const f = st.damaged.get(idx);
    const state = f ? el('span', { class: 'flag', text: 'damaged', title: f.map((x) => x.message).join('\n') })
      : st.verify ? el('span', { class: 'okmark', text: 'ok' }) : null;
    const tr = el('tr', { 'data-index': idx, class: [f ? 'damaged' : '', idx === st.selected ? 'selected' : ''].join(' ').trim() || null },
      el('td', { class: 'num idx', text: idx }),
      el('td', { class: 'type', text: b.type }),
      el('td', { class: 'num', text: fmtNum(b.size) }),
      el('td', { class: 'num', text: fmtNum(b.stored_size) }),
      el('td', { text: cc || '\u2014' }),
      el('td', { class: 'num', text: b.commit === undefined || b.commit === null ? '' : b.commit }),
      el('td', { class: 'state' }, state),
      el('td', { class: 'meta', text: short(meta, 120), title: meta.length > 120 ? short(meta, 2000) : null }));
    tr.tabIndex = 0; // Enter or Space opens the block, as a click does
    tr.addEventListener('click', () => openBlock(idx));
    tr.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); openBlock(idx); }
    });
    return tr;
  }
  function spacer(px) {
    const tr = el('tr', { class: 'spacer', 'aria-hidden': 'true' }, el('td', { colspan: 8 }));
    tr.style.height = px + 'px'; // CSSOM, which the page's CSP allows
    return tr;
  }

  function renderWindow(force) {
    const rows = st.rows || [];
    const wrap = wrapOf();
    const view = Math.ceil((wrap.clientHeight || 800) / rowH) + 1;
    const top = Math.max(0, Math.floor(wrap.scrollTop / rowH));
    const start = Math.max(0, top - MARGIN), end = Math.min(rows.length, top + view + MARGIN);
    if (!force && start === win.start && end === win.end) return;
    // re-render only when the view nears the edge of what is built
    if (!force && win.start >= 0 && top - win.start >= MARGIN / 3 && win.end - (top + view) >= MARGIN / 3) return;
    win = { start, end };
    const act = document.activeElement;
    const focused = act && act.parentNode === $('blocks-body') && act.dataset.index !== undefined ? act.dataset.index : null;
    const frag = document.createDocumentFragment();
    if (start > 0) frag.append(spacer(start * rowH));
    for (let i = start; i < end; i++) frag.append(blockRow(rows[i]));
    if (end < rows.length) frag.append(spacer((rows.length - end) * rowH));
    clear($('blocks-body')).append(frag);
    if (focused !== null) { // the rebuilt row keeps the keyboard focus
      const again = $('blocks-body').querySelector('tr[data-index="' + CSS.escape(focused) + '"]');
      if (again) again.focus({ preventScroll: true });
    }
    const r = $('blocks-body').querySelector('tr[data-index]');
    const h = r ? r.getBoundingClientRect().height : 0;
    if (h > 4 && Math.abs(h - rowH) > 0.5) { rowH = h; renderWindow(true); }
  }

  function markDamage() { renderWindow(true); }
  function highlightSelected(scroll) {
    const pos = st.rowPos && st.selected !== null ? st.rowPos.get(st.selected) : undefined;
    if (scroll && pos !== undefined) {
      const wrap = wrapOf();
      const top = pos * rowH, bottom = top + rowH;
      if (top < wrap.scrollTop + rowH || bottom > wrap.scrollTop + wrap.clientHeight) wrap.scrollTop = Math.max(0, top - wrap.clientHeight / 2);
    }
    renderWindow(true);
  }

  function initPager() {
    $('page-first').addEventListener('click', () => loadPage(0));
    $('page-prev').addEventListener('click', () => loadPage(st.offset - st.limit));
    $('page-next').addEventListener('click', () => loadPage(st.offset + st.limit));
    $('page-last').addEventListener('click', () => loadPage(Math.floor((st.total - 1) / st.limit) * st.limit));
    $('page-num').addEventListener('change', () => {
      const p = Math.min(pageCount(), Math.max(1, Number($('page-num').value) || 1));
      loadPage((p - 1) * st.limit);
    });
    $('page-size').addEventListener('change', () => {
      st.limit = Number($('page-size').value) || 100;
      loadPage(Math.floor(st.offset / st.limit) * st.limit);
    });
    $('goto-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const v = $('goto-index').value;
      if (v !== '') showBlock(Number(v));
    });
  }

  // Shows block IDX: loads the page that holds it, then opens it.
  function showBlock(idx) {
    selectTab('blocks');
    const base = st.base === null ? 0 : st.base;
    const pos = idx - base;
    const off = Math.floor(Math.max(0, pos) / st.limit) * st.limit;
    if (off === st.offset && st.rowPos && st.rowPos.has(idx)) openBlock(idx);
    else loadPage(off, idx);
  }

  // ---- one block
  function closePreview() {
    st.selected = null;
    $('preview').hidden = true;
    revokeImage();
    highlightSelected();
  }
  let imageURL = null;
  function revokeImage() { if (imageURL) { URL.revokeObjectURL(imageURL); imageURL = null; } }

  async function openBlock(idx) {
    const name = st.name;
    st.selected = idx;
    highlightSelected(true);
    const signal = fresh('block');
    const p = $('preview');
    p.hidden = false;
    p.dataset.index = String(idx);
    p.dataset.state = 'loading';
    $('preview-title').textContent = 'Block ' + idx;
    clear($('preview-info'));
    const body = clear($('preview-body'));
    $('preview-meta').textContent = '';
    $('proof-result').textContent = '';
    $('proof-result').className = 'note';
    revokeImage();
    const dmg = st.damaged.get(idx);
    $('preview-damage').hidden = !dmg;
    $('preview-damage').textContent = dmg ? 'Damaged: ' + dmg.map((f) => f.message).join('; ') : '';
    body.append(el('p', { class: 'note', text: 'loading\u2026' }));
    try {
      // the summary: metadata and type (JSON form of the block route)
      const r = await request(art(name) + '/blocks/' + idx, { signal, headers: { Accept: 'application/json' } });
      const j = await r.json();
      if (name !== st.name || st.selected !== idx) return;
      const dl = $('preview-info');
      const add = (k, v) => { if (v !== undefined && v !== null && v !== '') dl.append(el('dt', { text: k }), el('dd', { text: v })); };
      add('index', j.index !== undefined ? j.index : idx);
      add('type', j.type);
      add('id', j.id);
      const pos = st.rowPos ? st.rowPos.get(idx) : undefined;
      const b = pos !== undefined ? st.rows[pos] : null;
      if (b) {
        add('size', fmtNum(b.size) + ' B');
        add('stored', fmtNum(b.stored_size) + ' B');
        add('codec', b.codec);
        add('cipher', b.cipher);
        add('commit', b.commit);
        if (typeof b.timestamp_us === 'number') add('time', fmtTime(b.timestamp_us));
      }
      let meta = j.meta;
      $('preview-meta').textContent = meta === null || meta === undefined ? '(none)' : JSON.stringify(meta, null, 2);
      await renderPreview(name, idx, String(j.type || ''), meta, j, body, signal);
      p.dataset.state = 'ready';
    } catch (e) {
      if (e.name === 'AbortError') return;
      clear(body).append(el('p', { class: 'error', text: e.message }));
      p.dataset.state = 'error';
    }
  }

  function sniffImage(b) {
    const at = (i, s) => s.every((x, k) => b[i + k] === x);
    if (at(0, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
    if (at(0, [0xff, 0xd8, 0xff])) return 'image/jpeg';
    if (at(0, [0x47, 0x49, 0x46, 0x38])) return 'image/gif';
    if (at(0, [0x52, 0x49, 0x46, 0x46]) && at(8, [0x57, 0x45, 0x42, 0x50])) return 'image/webp';
    if (at(0, [0x42, 0x4d])) return 'image/bmp';
    return null;
  }

  async function renderPreview(name, idx, type, meta, j, body, signal) {
    const t = type.toLowerCase();
    const kind = t === 'text' ? 'text'
      : t === 'json' || t === 'knowledge' || t === 'know' ? 'json'
        : t === 'image' ? 'image'
          : t === 'embedding' || t === 'embd' ? 'embedding' : 'other';
    const max = kind === 'image' ? IMAGE_MAX + 1 : kind === 'embedding' ? 4 * 65536 : kind === 'other' ? HEX_BYTES : PREVIEW_MAX + 1;
    const r = await request(art(name) + '/blocks/' + idx, { signal });
    const { bytes, truncated } = await readBytes(r, max);
    if (st.selected !== idx) return;
    clear(body);
    body.dataset.kind = kind;
    if (kind === 'image') {
      const mime = sniffImage(bytes);
      if (mime && !truncated) {
        imageURL = URL.createObjectURL(new Blob([bytes], { type: mime }));
        const img = el('img', { class: 'preview-img', alt: 'block ' + idx + ' (' + mime + ')', src: imageURL });
        body.append(img, el('p', { class: 'note', text: mime + ', ' + fmtBytes(bytes.length) }));
        await img.decode().then(() => {
          body.lastChild.textContent = mime + ', ' + img.naturalWidth + '\u00d7' + img.naturalHeight + ', ' + fmtBytes(bytes.length);
        }).catch(() => body.append(el('p', { class: 'error', text: 'the browser cannot decode this image' })));
        return;
      }
      body.append(el('p', { class: 'note', text: truncated ? 'image larger than ' + fmtBytes(IMAGE_MAX) + ': not shown' : 'not a PNG, JPEG, GIF, WebP or BMP image: the first bytes' }));
      body.append(hexDump(bytes.subarray(0, HEX_BYTES)));
      return;
    }
    if (kind === 'text' || kind === 'json') {
      const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(0, PREVIEW_MAX));
      let shown = text, note = null;
      if (kind === 'json') {
        if (!truncated) {
          try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch (e) { note = 'not valid JSON (' + e.message + '): shown as text'; }
        } else note = 'first ' + fmtBytes(PREVIEW_MAX) + ' only, not parsed';
      } else if (truncated) note = 'first ' + fmtBytes(PREVIEW_MAX) + ' only';
      if (note) body.append(el('p', { class: 'note', text: note }));
      body.append(el('pre', { class: 'preview-text', text: shown }));
      return;
    }
    if (kind === 'embedding') {
      body.append(embeddingPlot(bytes, meta, truncated));
      return;
    }
    body.append(el('p', { class: 'note', text: 'type ' + type + ': the first ' + Math.min(bytes.length, HEX_BYTES) + ' bytes' }));
    body.append(hexDump(bytes.subarray(0, HEX_BYTES)));
  }

  function hexDump(b) {
    const lines = [];
    for (let off = 0; off < b.length; off += 16) {
      const row = b.subarray(off, off + 16);
      const h = Array.from(row, (x) => x.toString(16).padStart(2, '0')).join(' ');
      const a = Array.from(row, (x) => (x >= 0x20 && x < 0x7f ? String.fromCharCode(x) : '.')).join('');
      lines.push(off.toString(16).padStart(8, '0') + '  ' + h.padEnd(47) + '  ' + a);
    }
    return el('pre', { class: 'hexdump', text: lines.join('\n') || '(empty)' });
  }

  // An embedding: float32 little-endian; the first row drawn as bars (or a
  // line when long), with its dimension count, range and norm.
  function embeddingPlot(bytes, meta, truncated) {
    const n = Math.floor(bytes.length / 4);
    const dv = new DataView(bytes.buffer, bytes.byteOffset, n * 4);
    let dims = meta && Number.isInteger(meta.dimensions) && meta.dimensions > 0 ? meta.dimensions : n;
    if (dims > n) dims = n;
    const rows = dims ? Math.floor(n / dims) : 0;
    const v = new Float32Array(dims);
    for (let i = 0; i < dims; i++) v[i] = dv.getFloat32(4 * i, true);
    let lo = 0, hi = 0, sq = 0;
    for (const x of v) { if (x < lo) lo = x; if (x > hi) hi = x; sq += x * x; }
    const W = 480, H = 160, pad = 4;
    const span = (hi - lo) || 1;
    const y = (x) => pad + (H - 2 * pad) * (hi - x) / span;
    const plot = svg('svg', { class: 'embedding-plot', viewBox: '0 0 ' + W + ' ' + H, width: W, height: H, role: 'img' });
    plot.append(svg('title', { text: 'embedding, ' + dims + ' dimensions' }));
    plot.append(svg('line', { x1: 0, x2: W, y1: y(0), y2: y(0), class: 'axis' }));
    if (dims && dims <= 256) {
      const bw = (W - 2 * pad) / dims;
      for (let i = 0; i < dims; i++) {
        const y0 = y(0), y1 = y(v[i]);
        plot.append(svg('rect', { x: (pad + i * bw).toFixed(2), width: Math.max(bw - 0.5, 0.5).toFixed(2), y: Math.min(y0, y1).toFixed(2), height: Math.max(Math.abs(y1 - y0), 0.5).toFixed(2), class: v[i] >= 0 ? 'pos' : 'neg' }));
      }
    } else if (dims) {
      const pts = [];
      for (let i = 0; i < dims; i++) pts.push((pad + (W - 2 * pad) * i / Math.max(dims - 1, 1)).toFixed(1) + ',' + y(v[i]).toFixed(1));
      plot.append(svg('polyline', { points: pts.join(' '), class: 'series' }));
    }
    const wrap = el('div', { class: 'embedding' }, plot);
    wrap.append(el('p', { class: 'note', text: dims + ' dimensions' + (rows > 1 ? ' \u00d7 ' + rows + ' rows (first row drawn)' : '') + (truncated ? ' (first ' + fmtNum(n) + ' values read)' : '') + ', min ' + lo.toFixed(4) + ', max ' + hi.toFixed(4) + ', L2 norm ' + Math.sqrt(sq).toFixed(4) }));
    return wrap;
  }

  // ---- search
  function initSearch() {
    $('search-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const q = $('search-q').value.trim();
      if (!q || !st.name) return;
      const name = st.name;
      const k = Math.min(100, Math.max(1, Number($('search-k').value) || 10));
      let mode = $('search-mode').value;
      const ol = clear($('search-results'));
      $('search-note').textContent = 'searching\u2026';
      const signal = fresh('search');
      const run = (m) => getJSON(art(name) + '/search?q=' + encodeURIComponent(q) + '&k=' + k + '&mode=' + encodeURIComponent(m), { signal });
      try {
        let j, fellBack = '';
        try {
          j = await run(mode);
        } catch (e) {
          // hybrid needs the artifact's embeddings to name a model the
          // server has; when they do not, the words alone still answer
          if (!(e instanceof ApiError) || e.status !== 422 || mode !== 'hybrid') throw e;
          fellBack = ' \u2014 hybrid search refused (' + e.message + '), so text search';
          mode = 'text';
          j = await run(mode);
        }
        if (name !== st.name) return;
        const res = Array.isArray(j.results) ? j.results : [];
        $('search-note').textContent = res.length + ' result' + (res.length === 1 ? '' : 's') + ' for \u201c' + short(q, 80) + '\u201d (' + mode + ')' + fellBack;
        $('search-note').dataset.mode = mode;
        for (const r of res) {
          const idx = r.index;
          const b = el('button', { type: 'button', class: 'result', 'data-index': idx },
            el('span', { class: 'r-idx', text: '#' + idx }),
            el('span', { class: 'r-type', text: r.type || '' }),
            el('span', { class: 'r-score', text: typeof r.score === 'number' ? r.score.toFixed(3) : '' }),
            el('span', { class: 'r-snippet', text: short(r.snippet === undefined || r.snippet === null ? '' : r.snippet, 300) }));
          b.addEventListener('click', () => showBlock(idx));
          if (st.damaged.has(idx)) b.classList.add('damaged');
          ol.append(el('li', null, b));
        }
      } catch (e) {
        if (e.name === 'AbortError') return;
        $('search-note').textContent = 'search: ' + e.message;
      }
    });
  }

  // ---- verification
  function setBadge(kind, text) {
    const b = $('verify-badge');
    b.className = 'badge ' + kind;
    b.textContent = text;
  }
  async function runVerify() {
    const name = st.name;
    setBadge('pending', 'verifying\u2026');
    $('verify-summary').textContent = 'verifying\u2026';
    try {
      const v = await getJSON(art(name) + '/verify', { signal: fresh('verify') });
      if (name !== st.name) return;
      st.verify = v;
      st.damaged = new Map();
      const findings = Array.isArray(v.findings) ? v.findings : [];
      for (const f of findings) {
        if (f && f.severity === 'error' && typeof f.block === 'number') {
          if (!st.damaged.has(f.block)) st.damaged.set(f.block, []);
          st.damaged.get(f.block).push(f);
        }
      }
      const errors = findings.filter((f) => f && f.severity === 'error').length;
      if (v.ok) setBadge('ok', 'verified');
      else setBadge('bad', 'FAILED: ' + errors + ' error' + (errors === 1 ? '' : 's') + (st.damaged.size ? ', ' + st.damaged.size + ' damaged block' + (st.damaged.size === 1 ? '' : 's') : ''));
      $('verify-summary').textContent = (v.ok ? 'OK' : 'FAILED') + ' \u2014 ' + fmtNum(v.blocks) + ' blocks, ' + findings.length + ' finding' + (findings.length === 1 ? '' : 's');
      renderVerify(findings, v.signers);
      markDamage();
      if (st.selected !== null) {
        const dmg = st.damaged.get(st.selected);
        $('preview-damage').hidden = !dmg;
        $('preview-damage').textContent = dmg ? 'Damaged: ' + dmg.map((f) => f.message).join('; ') : '';
      }
    } catch (e) {
      if (e.name === 'AbortError') return;
      setBadge('bad', 'verify failed');
      $('verify-summary').textContent = 'verify: ' + e.message;
    }
  }
  function renderVerify(findings, signers) {
    const dl = clear($('damaged-list'));
    if (!st.damaged.size) dl.append(el('li', { class: 'note', text: 'none' }));
    for (const idx of [...st.damaged.keys()].sort((a, b) => a - b)) {
      const b = el('button', { type: 'button', class: 'chip damaged', 'data-index': idx, text: '#' + idx });
      b.addEventListener('click', () => showBlock(idx));
      dl.append(el('li', null, b));
    }
    const sl = clear($('signers'));
    for (const s of Array.isArray(signers) ? signers : []) {
      if (typeof s === 'string') { sl.append(el('li', { class: 'mono', text: s })); continue; }
      sl.append(el('li', null, el('span', { class: 'mono', text: s.key || '' }), ' ', el('span', { class: 'note', text: [s.alg, s.pinned ? 'pinned' : 'not pinned'].filter(Boolean).join(', ') })));
    }
    if (!sl.firstChild) sl.append(el('li', { class: 'note', text: 'none reported' }));
    const tb = clear($('findings-body'));
    for (const f of findings) {
      const tr = el('tr', { class: 'sev-' + String(f.severity).replace(/[^a-z]/g, '') },
        el('td', { text: f.severity }),
        el('td', { class: 'mono', text: f.code || '' }),
        el('td', { class: 'num', text: f.block === null || f.block === undefined ? '' : f.block }),
        el('td', { text: f.message || '' }));
      if (typeof f.block === 'number') { tr.classList.add('link'); tr.addEventListener('click', () => showBlock(f.block)); }
      tb.append(tr);
    }
    if (!findings.length) tb.append(el('tr', null, el('td', { colspan: 4, class: 'note', text: 'no findings' })));
  }

  // ---- commit timeline
  async function loadHistory() {
    const name = st.name;
    if (st.history) return;
    try {
      // the route pages like the blocks route; at most HISTORY_MAX commits
      const signal = fresh('history');
      const all = [];
      for (;;) {
        const j = await getJSON(art(name) + '/history?offset=' + all.length + '&limit=1000', { signal });
        if (name !== st.name) return;
        const page = Array.isArray(j.commits) ? j.commits : [];
        all.push(...page);
        if (!page.length || all.length >= HISTORY_MAX || typeof j.total !== 'number' || all.length >= j.total) break;
      }
      st.history = all;
      renderHistory();
    } catch (e) {
      if (e.name === 'AbortError') return;
      $('sig-note').textContent = 'history: ' + e.message;
    }
  }
  function renderHistory() {
    const cs = st.history;
    const tb = clear($('commits-body'));
    let prev = 0;
    for (const c of cs) {
      const blocks = Number(c.blocks) || 0;
      const signer = typeof c.signer === 'string' ? c.signer : '';
      tb.append(el('tr', { 'data-seq': c.seq },
        el('td', { class: 'num', text: c.seq }),
        el('td', { text: fmtTime(c.time) }),
        el('td', { class: 'num', text: fmtNum(blocks) }),
        el('td', { class: 'num', text: fmtNum(blocks - prev) }),
        el('td', { class: 'mono', text: short(signer, 17), title: signer || null }),
        el('td', { text: c.alg || '' }),
        el('td', { class: 'sig' })));
      prev = blocks;
    }
    if (!cs.length) tb.append(el('tr', null, el('td', { colspan: 7, class: 'note', text: 'no commits' })));
    // the plot: commits along time, the cumulative block count upwards
    const box = clear($('timeline-plot'));
    if (!cs.length) return;
    const W = 720, H = 150, pl = 50, pr = 12, pt = 10, pb = 26;
    const times = cs.map((c) => { const d = toDate(c.time); return d ? d.getTime() : NaN; });
    const useTime = times.every(isFinite) && Math.max(...times) > Math.min(...times);
    const xs = useTime ? times : cs.map((c, i) => i);
    const x0 = Math.min(...xs), x1 = Math.max(...xs);
    const maxB = Math.max(1, ...cs.map((c) => Number(c.blocks) || 0));
    const X = (v) => pl + (W - pl - pr) * (x1 > x0 ? (v - x0) / (x1 - x0) : 0.5);
    const Y = (b) => pt + (H - pt - pb) * (1 - b / maxB);
    const g = svg('svg', { class: 'timeline', viewBox: '0 0 ' + W + ' ' + H, width: W, height: H, role: 'img' });
    g.append(svg('title', { text: 'commits over ' + (useTime ? 'time' : 'sequence') }));
    g.append(svg('line', { x1: pl, x2: W - pr, y1: H - pb, y2: H - pb, class: 'axis' }));
    g.append(svg('line', { x1: pl, x2: pl, y1: pt, y2: H - pb, class: 'axis' }));
    g.append(svg('text', { x: pl - 4, y: pt + 8, class: 'lbl end', text: fmtNum(maxB) }));
    g.append(svg('text', { x: pl - 4, y: H - pb, class: 'lbl end', text: '0' }));
    g.append(svg('text', { x: pl, y: H - 8, class: 'lbl', text: useTime ? fmtTime(x0) : 'seq ' + cs[0].seq }));
    g.append(svg('text', { x: W - pr, y: H - 8, class: 'lbl end', text: useTime ? fmtTime(x1) : 'seq ' + cs[cs.length - 1].seq }));
    const pts = cs.map((c, i) => X(xs[i]).toFixed(1) + ',' + Y(Number(c.blocks) || 0).toFixed(1));
    g.append(svg('polyline', { points: pts.join(' '), class: 'series step' }));
    const step = Math.max(1, Math.ceil(cs.length / 400));
    for (let i = 0; i < cs.length; i += step) {
      const c = cs[i];
      const dot = svg('circle', { cx: X(xs[i]).toFixed(1), cy: Y(Number(c.blocks) || 0).toFixed(1), r: 3.5, class: 'commit' });
      dot.append(svg('title', { text: 'commit ' + c.seq + ': ' + fmtNum(Number(c.blocks) || 0) + ' blocks, ' + fmtTime(c.time) }));
      g.append(dot);
    }
    box.append(g);
  }

  // ---- in-browser second opinion: commit bytes, signatures and proofs
  // (FORMAT.md §5.5, §6; the proof JSON of `maif prove --json`).
  const enc = new TextEncoder();
  async function sha256(...parts) {
    let n = 0;
    for (const p of parts) n += p.length;
    const buf = new Uint8Array(n);
    let o = 0;
    for (const p of parts) { buf.set(p, o); o += p.length; }
    return new Uint8Array(await crypto.subtle.digest('SHA-256', buf));
  }
  const eq = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
  const u64 = (b, o) => { const dv = new DataView(b.buffer, b.byteOffset + o, 8); return dv.getUint32(0, true) + dv.getUint32(4, true) * 4294967296; };
  const u32 = (b, o) => new DataView(b.buffer, b.byteOffset + o, 4).getUint32(0, true);
  const u16 = (b, o) => new DataView(b.buffer, b.byteOffset + o, 2).getUint16(0, true);
  const ALGS = { 1: 'ed25519', 2: 'rsa-pss', 3: 'p256' };

  // Checks one commit of a proof from its bytes; returns {seq, blocks, alg, signer}.
  async function checkCommit(c) {
    const hdr = unhex(c.header);
    const pl = unhex(c.payload);
    const prev = unhex(c.prev_record_hash, 32);
    if (hdr.length < 112) throw new Error('record header shorter than 112 bytes');
    if (hdr[0] !== 0x43) throw new Error('not a commit record');
    const ver = hdr[1];
    if (u64(hdr, 8) !== pl.length) throw new Error('stored_size is not the payload length');
    const rh = await sha256(prev, hdr.subarray(0, 80));
    if (!eq(rh, hdr.subarray(80, 112))) throw new Error('record hash does not match the header bytes');
    if (pl.length < 96 + 16) throw new Error('commit payload too short');
    const seq = u64(pl, 0), blocks = u64(pl, 8);
    const merkle = pl.subarray(24, 56), signer = pl.subarray(56, 88);
    const nseg = u32(pl, 88), nfr = u32(pl, 92);
    if (nseg > 64 || nfr > 64) throw new Error('too many segments or frontier hashes');
    const area = 96 + 24 * nseg + 32 * nfr;
    let sig, key, alg, sigOff;
    if (ver === 1) {
      if (pl.length !== area + 64 + 16) throw new Error('commit payload has the wrong size');
      alg = 1; sigOff = area; sig = pl.subarray(area, area + 64); key = signer;
    } else if (ver === 2) {
      if (pl.length < area + 8 + 16) throw new Error('commit payload too short');
      alg = pl[area];
      const pkLen = u16(pl, area + 2), sigLen = u16(pl, area + 4);
      const need = area + ((8 + pkLen + sigLen + 7) & ~7) + 16;
      if (!ALGS[alg] || pkLen < 1 || pkLen > 1200 || sigLen < 1 || sigLen > 1024 || pl.length !== need) throw new Error('bad signature area');
      key = pl.subarray(area + 8, area + 8 + pkLen);
      sigOff = area + 8 + pkLen;
      sig = pl.subarray(sigOff, sigOff + sigLen);
      const kid = alg === 1 ? key : await sha256(key);
      if (!eq(kid, signer)) throw new Error('signer is not the hash of the public key');
    } else throw new Error('commit record version ' + ver);
    const ch = await sha256(pl.subarray(0, sigOff), pl.subarray(sigOff + sig.length));
    if (!eq(ch, hdr.subarray(48, 80))) throw new Error('content hash does not match the payload');
    const msg = new Uint8Array(48);
    msg.set(enc.encode('MAIF-COMMIT-V1'), 0);
    msg.set(rh, 16);
    let ok;
    try {
      if (alg === 1) {
        const k = await crypto.subtle.importKey('raw', key, { name: 'Ed25519' }, false, ['verify']);
        ok = await crypto.subtle.verify({ name: 'Ed25519' }, k, sig, msg);
      } else if (alg === 2) {
        const k = await crypto.subtle.importKey('spki', key, { name: 'RSA-PSS', hash: 'SHA-256' }, false, ['verify']);
        ok = await crypto.subtle.verify({ name: 'RSA-PSS', saltLength: 32 }, k, sig, msg);
      } else {
        const k = await crypto.subtle.importKey('spki', key, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
        ok = await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, k, sig, msg);
      }
    } catch (e) {
      throw new Error('this browser cannot check ' + ALGS[alg] + ' signatures (' + e.message + ')');
    }
    if (!ok) throw new Error(ALGS[alg] + ' signature does not verify');
    // the summary the proof states must be what the bytes say
    const claims = [['seq', c.seq === seq], ['blocks', c.blocks === blocks], ['merkle_root', c.merkle_root === hex(merkle)],
      ['signer', c.signer === hex(signer)], ['signature', c.signature === hex(sig)], ['record_hash', c.record_hash === hex(rh)]];
    for (const [k, good] of claims) if (!good) throw new Error('"' + k + '" does not match the commit bytes');
    return { seq, blocks, merkle, alg: ALGS[alg], signer: hex(signer) };
  }

  const node = (l, r) => sha256(Uint8Array.of(1), l, r);
  // RFC 9162 §2.1.3.2
  async function checkInclusion(leafRH, index, size, path, root) {
    if (index >= size) return false;
    let fn = index, sn = size - 1;
    let r = await sha256(Uint8Array.of(0), leafRH);
    for (const p of path) {
      if (sn === 0) return false;
      if (fn % 2 === 1 || fn === sn) {
        r = await node(p, r);
        if (fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
      } else r = await node(r, p);
      fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
    }
    return sn === 0 && eq(r, root);
  }
  // RFC 9162 §2.1.4.2
  async function checkConsistency(first, second, firstRoot, secondRoot, path) {
    if (first > second) return false;
    if (first === second) return path.length === 0 && eq(firstRoot, secondRoot);
    if (first === 0) return path.length === 0;
    path = path.slice();
    if (Number.isInteger(Math.log2(first))) path.unshift(firstRoot); // a power of two
    if (!path.length) return false;
    let fn = first - 1, sn = second - 1;
    while (fn % 2 === 1) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    let fr = path[0], sr = path[0];
    for (const c of path.slice(1)) {
      if (sn === 0) return false;
      if (fn % 2 === 1 || fn === sn) {
        fr = await node(c, fr); sr = await node(c, sr);
        if (fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
      } else sr = await node(sr, c);
      fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
    }
    return sn === 0 && eq(fr, firstRoot) && eq(sr, secondRoot);
  }

  function webcryptoEd25519() {
    return crypto.subtle.importKey('raw', new Uint8Array(32), { name: 'Ed25519' }, false, ['verify']).then(() => true, () => false);
  }

  // The opened block: its inclusion proof against a signed commit.
  async function checkBlockProof() {
    const name = st.name, idx = st.selected;
    if (name === null || idx === null) return;
    const out = $('proof-result');
    out.className = 'note';
    out.textContent = 'checking\u2026';
    try {
      const p = await getJSON(art(name) + '/proof?block=' + encodeURIComponent(idx), { signal: fresh('proof') });
      if (p.proof !== 'maif-inclusion-v1') throw new Error('not an inclusion proof');
      if (p.block !== idx) throw new Error('the proof is for block ' + p.block);
      const c = await checkCommit(p.commit);
      if (p.tree_size !== c.blocks) throw new Error('tree_size is not the commit\'s block count');
      if (p.root !== hex(c.merkle)) throw new Error('root is not the commit\'s Merkle root');
      const path = (p.path || []).map((h) => unhex(h, 32));
      if (!await checkInclusion(unhex(p.leaf_record_hash, 32), p.block, p.tree_size, path, c.merkle)) throw new Error('the audit path does not lead to the commit\'s Merkle root');
      if (st.selected !== idx) return;
      out.className = 'good';
      out.textContent = 'Checked in this browser: record ' + short(p.leaf_record_hash, 17) + ' is leaf ' + p.block + ' of the ' + fmtNum(c.blocks) + '-block tree of commit ' + c.seq + ', signed (' + c.alg + ', WebCrypto) by ' + short(c.signer, 17) + '. The record hash itself is the server\'s word.';
    } catch (e) {
      if (e.name === 'AbortError') return;
      out.className = 'error';
      out.textContent = 'In-browser check failed: ' + e.message;
    }
  }

  // Every commit (the latest SIG_MAX_COMMITS): a consistency proof from it
  // to the last commit; both commits' signatures and the path are checked.
  async function checkSignatures() {
    const name = st.name;
    if (!st.history) await loadHistory();
    const cs = st.history || [];
    const note = $('sig-note');
    if (!await webcryptoEd25519()) { note.textContent = 'this browser has no WebCrypto Ed25519: not checked'; return; }
    if (!cs.length) { note.textContent = 'no commits'; return; }
    const last = cs[cs.length - 1].seq;
    let good = 0, bad = 0;
    const todo = cs.slice(-SIG_MAX_COMMITS);
    const signal = fresh('sigs');
    for (const c of todo) {
      if (name !== st.name) return;
      const cell = document.querySelector('#commits-body tr[data-seq="' + CSS.escape(String(c.seq)) + '"] .sig');
      try {
        const p = await getJSON(art(name) + '/proof?from=' + encodeURIComponent(c.seq) + '&to=' + encodeURIComponent(last), { signal });
        if (p.proof !== 'maif-consistency-v1') throw new Error('not a consistency proof');
        const a = await checkCommit(p.from_commit);
        const b = await checkCommit(p.to_commit);
        if (a.seq !== c.seq) throw new Error('the proof is for commit ' + a.seq);
        if (p.from_size !== a.blocks || p.to_size !== b.blocks || p.from_root !== hex(a.merkle) || p.to_root !== hex(b.merkle)) throw new Error('sizes or roots are not the commits\'');
        const path = (p.path || []).map((h) => unhex(h, 32));
        if (!await checkConsistency(a.blocks, b.blocks, a.merkle, b.merkle, path)) throw new Error('the consistency path does not check');
        good++;
        if (cell) { cell.className = 'sig good'; cell.textContent = a.alg + ' ok'; cell.title = 'signature by ' + a.signer + ' and consistency with commit ' + b.seq + ' checked in this browser'; }
      } catch (e) {
        if (e.name === 'AbortError') return;
        bad++;
        if (cell) { cell.className = 'sig error'; cell.textContent = 'failed'; cell.title = e.message; }
      }
      note.textContent = 'checked ' + (good + bad) + ' of ' + todo.length + ': ' + good + ' ok, ' + bad + ' failed';
    }
    note.textContent = (bad ? 'FAILED: ' : '') + good + ' of ' + todo.length + ' commit' + (todo.length === 1 ? '' : 's') + ' checked in this browser (signature, record and content hashes, consistency with commit ' + last + ')' + (bad ? ', ' + bad + ' failed' : '') + (cs.length > todo.length ? '; the ' + (cs.length - todo.length) + ' older ones not checked' : '');
    note.className = bad ? 'error' : 'good';
  }

  // ---- relationship graph
  async function loadGraph() {
    const name = st.name;
    const box = $('graph-plot');
    if (box.firstChild) return;
    $('graph-note').textContent = 'loading\u2026';
    try {
      const g = await getJSON(art(name) + '/graph', { signal: fresh('graph') });
      if (name !== st.name) return;
      drawGraph(g);
    } catch (e) {
      if (e.name === 'AbortError') return;
      $('graph-note').textContent = 'graph: ' + e.message;
    }
  }

  function drawGraph(g) {
    const allNodes = Array.isArray(g.nodes) ? g.nodes : [];
    const allEdges = Array.isArray(g.edges) ? g.edges : [];
    // Every block is a node; only nodes on an edge are drawn, the best
    // connected first, at most GRAPH_MAX_NODES of them.
    const degree = new Map();
    for (const e of allEdges) for (const end of [String(e.from), String(e.to)]) degree.set(end, (degree.get(end) || 0) + 1);
    const nodes = allNodes.filter((n) => degree.has(String(n.id)))
      .sort((a, b) => degree.get(String(b.id)) - degree.get(String(a.id))).slice(0, GRAPH_MAX_NODES);
    const pos = new Map();
    nodes.forEach((n, i) => pos.set(String(n.id), i));
    const edges = allEdges.filter((e) => pos.has(String(e.from)) && pos.has(String(e.to)));
    const linked = degree.size;
    $('graph-note').textContent = fmtNum(allNodes.length) + ' nodes, ' + fmtNum(allEdges.length) + ' edges; ' +
      (nodes.length < linked ? 'the ' + nodes.length + ' best connected of ' + fmtNum(linked) + ' linked nodes drawn' : fmtNum(linked) + ' linked nodes drawn') +
      (allNodes.length > linked ? ', ' + fmtNum(allNodes.length - linked) + ' without relationships left out' : '') +
      (allEdges.length ? '' : ': no relationships or knowledge in this artifact');
    if (!nodes.length) return;
    const W = 760, H = 520, N = nodes.length;
    // start on a circle, then a bounded number of force steps (Fruchterman-Reingold)
    const x = new Float64Array(N), y = new Float64Array(N);
    for (let i = 0; i < N; i++) { const a = 2 * Math.PI * i / N; x[i] = W / 2 + (W / 2 - 60) * Math.cos(a); y[i] = H / 2 + (H / 2 - 40) * Math.sin(a); }
    if (N <= 150) {
      const k = Math.sqrt((W - 80) * (H - 80) / N) * 0.8;
      const E = edges.map((e) => [pos.get(String(e.from)), pos.get(String(e.to))]);
      let t = W / 10;
      const dx = new Float64Array(N), dy = new Float64Array(N);
      for (let it = 0; it < 250; it++) {
        dx.fill(0); dy.fill(0);
        for (let i = 0; i < N; i++) for (let j = i + 1; j < N; j++) {
          let ddx = x[i] - x[j], ddy = y[i] - y[j];
          const d = Math.max(Math.hypot(ddx, ddy), 0.01), f = k * k / d;
          ddx /= d; ddy /= d;
          dx[i] += ddx * f; dy[i] += ddy * f; dx[j] -= ddx * f; dy[j] -= ddy * f;
        }
        for (const [a, b] of E) {
          if (a === b) continue;
          let ddx = x[a] - x[b], ddy = y[a] - y[b];
          const d = Math.max(Math.hypot(ddx, ddy), 0.01), f = d * d / k;
          ddx /= d; ddy /= d;
          dx[a] -= ddx * f; dy[a] -= ddy * f; dx[b] += ddx * f; dy[b] += ddy * f;
        }
        for (let i = 0; i < N; i++) {
          // gravity: separate components stay near the middle, not in corners
          dx[i] += (W / 2 - x[i]) * 0.15; dy[i] += (H / 2 - y[i]) * 0.15;
          const d = Math.max(Math.hypot(dx[i], dy[i]), 0.01), m = Math.min(d, t);
          x[i] = Math.min(W - 50, Math.max(50, x[i] + dx[i] / d * m));
          y[i] = Math.min(H - 20, Math.max(20, y[i] + dy[i] / d * m));
        }
        t *= 0.98;
      }
    }
    const s = svg('svg', { class: 'graph', viewBox: '0 0 ' + W + ' ' + H, width: W, height: H, role: 'img' });
    s.append(svg('title', { text: 'relationship graph' }));
    const defs = svg('defs');
    const marker = svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 16, refY: 5, markerWidth: 6, markerHeight: 6, orient: 'auto-start-reverse' });
    marker.append(svg('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrowhead' }));
    defs.append(marker);
    s.append(defs);
    for (const e of edges) {
      const a = pos.get(String(e.from)), b = pos.get(String(e.to));
      const line = svg('line', { x1: x[a].toFixed(1), y1: y[a].toFixed(1), x2: x[b].toFixed(1), y2: y[b].toFixed(1), class: 'edge', 'marker-end': 'url(#arrow)' });
      line.append(svg('title', { text: String(nodes[a].name) + ' \u2014' + String(e.predicate) + '\u2192 ' + String(nodes[b].name) }));
      s.append(line);
      if (N <= 60) s.append(svg('text', { x: ((x[a] + x[b]) / 2).toFixed(1), y: ((y[a] + y[b]) / 2 - 3).toFixed(1), class: 'elabel', text: short(e.predicate, 24) }));
    }
    nodes.forEach((n, i) => {
      const kind = ['block', 'entity', 'literal'].includes(n.kind) ? n.kind : 'other';
      const gNode = svg('g', { class: 'node ' + kind, transform: 'translate(' + x[i].toFixed(1) + ',' + y[i].toFixed(1) + ')', 'data-block': kind === 'block' && typeof n.block === 'number' ? n.block : null });
      const label = kind === 'block' ? '#' + n.block + (n.type ? ' ' + n.type : '') : String(n.name);
      gNode.append(kind === 'block' ? svg('rect', { x: -7, y: -7, width: 14, height: 14, rx: 2 }) : svg('circle', { r: kind === 'literal' ? 4 : 7 }));
      gNode.append(svg('title', { text: kind + ': ' + String(n.name) }));
      // labels point inwards so those at the right edge stay inside
      if (N <= 120) gNode.append(svg('text', x[i] > W * 0.6 ? { x: -10, y: 4, class: 'nlabel end', text: short(label, 28) } : { x: 10, y: 4, class: 'nlabel', text: short(label, 28) }));
      if (kind === 'block' && typeof n.block === 'number') gNode.addEventListener('click', () => showBlock(n.block));
      s.append(gNode);
    });
    $('graph-plot').append(s);
  }

  // ---- tabs
  function selectTab(name) {
    for (const b of document.querySelectorAll('#tabs [role=tab]')) b.setAttribute('aria-selected', String(b.dataset.tab === name));
    for (const p of document.querySelectorAll('#panels .panel')) p.hidden = p.id !== 'panel-' + name;
    if (!st.name) return;
    if (name === 'timeline') loadHistory();
    if (name === 'graph') loadGraph();
    if (name === 'search') $('search-q').focus();
  }

  function init() {
    document.body.dataset.busy = '0';
    initToken();
    initPager();
    initSearch();
    for (const b of document.querySelectorAll('#tabs [role=tab]')) b.addEventListener('click', () => selectTab(b.dataset.tab));
    $('artifacts-reload').addEventListener('click', loadArtifacts);
    let pending = false;
    wrapOf().addEventListener('scroll', () => {
      if (pending) return;
      pending = true;
      requestAnimationFrame(() => { pending = false; renderWindow(false); });
    }, { passive: true });
    $('preview-close').addEventListener('click', closePreview);
    $('verify-run').addEventListener('click', runVerify);
    $('proof-check').addEventListener('click', checkBlockProof);
    $('sig-check').addEventListener('click', checkSignatures);
    window.addEventListener('hashchange', () => {
      const want = hashName();
      if (want && want !== st.name) openArtifact(want);
    });
    if (token()) loadArtifacts();
    else status('enter a bearer token to begin', '');
  }
  init();
})();
