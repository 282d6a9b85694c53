// viewer.js — drives the web viewer of `maif serve` in the system's headless
// Chromium through playwright-core (no browser download). Run by
// tests/cli/test_ui.sh, which builds the artifacts, starts the real server
// and writes the expectations file; this script prints one line per check,
// "PASS: what" or "FAIL: what (why)", "INFO: ..." lines with timings, and
// saves screenshots.
//
// Environment: MAIF_UI_URL (http://127.0.0.1:PORT), MAIF_UI_TOKEN,
// MAIF_UI_EXPECT (JSON file), MAIF_UI_SHOTS (directory), MAIF_UI_PROFILE
// (a fresh, empty user-data-dir), MAIF_UI_CHROMIUM (default /usr/bin/chromium).
'use strict';
const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const URL_BASE = process.env.MAIF_UI_URL;
const TOKEN = process.env.MAIF_UI_TOKEN;
const X = JSON.parse(fs.readFileSync(process.env.MAIF_UI_EXPECT, 'utf8'));
const SHOTS = process.env.MAIF_UI_SHOTS;
const PROFILE = process.env.MAIF_UI_PROFILE;
const EXE = process.env.MAIF_UI_CHROMIUM || '/usr/bin/chromium';
const WAIT = 30000; // ms for any one thing to appear: a hang fails, it does not stall

let failures = 0;
const pass = (d) => console.log('PASS: ' + d);
const fail = (d, why) => { failures++; console.log('FAIL: ' + d + (why ? ' (' + String(why).split('\n')[0] + ')' : '')); };
async function check(desc, fn) {
  try {
    const r = await fn();
    if (r === false) fail(desc, 'condition false'); else pass(desc);
  } catch (e) {
    fail(desc, e && e.message ? e.message : e);
  }
}

async function main() {
  fs.mkdirSync(SHOTS, { recursive: true });
  const ctx = await chromium.launchPersistentContext(PROFILE, {
    executablePath: EXE,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1440, height: 900 },
  });
  const page = ctx.pages()[0] || await ctx.newPage();
  page.setDefaultTimeout(WAIT);
  const pageErrors = [], cspErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => { if (/Content.Security.Policy/i.test(m.text())) cspErrors.push(m.text()); });
  const shot = async (name) => { await page.screenshot({ path: path.join(SHOTS, name + '.png'), fullPage: false }); };
  const idle = () => page.waitForFunction(() => document.body.dataset.busy === '0');
  // The table holds only the rows in view (and a margin): the page's row
  // count is #blocks[data-rows]; its last row is seen by scrolling down.
  const pageRows = () => page.$eval('#blocks', (t) => Number(t.dataset.rows));
  const domRows = () => page.$$eval('#blocks-body tr[data-index]', (r) => r.length);
  const lastIndex = async () => {
    await page.$eval('#panel-blocks .table-wrap', (w) => { w.scrollTop = w.scrollHeight; });
    await page.waitForFunction(() => {
      const w = document.querySelector('#panel-blocks .table-wrap');
      const rows = document.querySelectorAll('#blocks-body tr[data-index]');
      return rows.length && !document.querySelector('#blocks-body tr.spacer:last-child') && w.scrollTop > 0;
    });
    return page.$eval('#blocks-body tr[data-index]:last-of-type', (tr) => Number(tr.dataset.index));
  };
  const waitFirst = (i) => page.waitForFunction((want) => {
    const tr = document.querySelector('#blocks-body tr[data-index]');
    return tr && tr.dataset.index === String(want) && document.body.dataset.busy === '0';
  }, i);
  const B = X.base; // the index of the first block

  // ---- token
  await check('the viewer loads from /ui/', async () => {
    const r = await page.goto(URL_BASE + '/ui/');
    if (!r.ok()) throw new Error('HTTP ' + r.status());
    await page.waitForSelector('#token');
    return (await page.title()) === 'maif viewer';
  });
  await check('without a token it asks for one', async () => /token/.test(await page.textContent('#status')));
  await shot('01-token');
  await check('a wrong token is refused (401 shown)', async () => {
    await page.fill('#token', 'not-the-token');
    await page.click('#token-use');
    await page.waitForSelector('#status.error');
    const t = await page.textContent('#status');
    return /token/.test(t) && (await page.$$('#artifacts li')).length === 0;
  });
  await check('the right token lists the artifacts', async () => {
    await page.fill('#token', TOKEN);
    await page.click('#token-use');
    await page.waitForSelector('#artifacts .artifact[data-name="' + X.big + '"]');
    await page.waitForSelector('#artifacts .artifact[data-name="' + X.tampered + '"]');
  });
  await check('the token is kept in sessionStorage (a reload needs no retyping)', async () => {
    const t = await page.evaluate(() => sessionStorage.getItem('maif.token'));
    if (t !== TOKEN) throw new Error('sessionStorage holds ' + JSON.stringify(t));
    await page.reload();
    await page.waitForSelector('#artifacts .artifact[data-name="' + X.big + '"]');
  });

  // ---- paging through the big artifact
  await check('opening the artifact shows its first page', async () => {
    await page.click('#artifacts .artifact[data-name="' + X.big + '"]');
    await waitFirst(B);
    const n = await pageRows();
    if (n !== 100) throw new Error(n + ' rows');
    const info = await page.textContent('#page-info');
    if (!info.includes(X.total.toLocaleString('en'))) throw new Error('page info: ' + info);
  });
  await check('the artifact verifies (badge)', async () => {
    await page.waitForSelector('#verify-badge.ok');
    return (await page.textContent('#verify-badge')) === 'verified';
  });
  await shot('02-blocks-first-page');
  await check('Next shows the second page', async () => {
    await page.click('#page-next');
    await waitFirst(B + 100);
  });
  const pages = Math.ceil(X.total / 1000);
  await check('1000 rows a page: Next through all ' + pages + ' pages to the last block', async () => {
    await page.selectOption('#page-size', '1000');
    await waitFirst(B);
    let ms = 0;
    const dom = [];
    for (let p = 1; p < pages; p++) {
      const t0 = Date.now();
      await page.click('#page-next');
      await waitFirst(B + 1000 * p);
      ms += Date.now() - t0;
      dom.push(Number(await page.$eval('#blocks', (t) => t.dataset.renderMs)));
      const rows = await pageRows();
      const want = Math.min(1000, X.total - 1000 * p);
      if (rows !== want) throw new Error('page ' + (p + 1) + ': ' + rows + ' rows, want ' + want);
      const built = await domRows();
      if (built >= 200) throw new Error(built + ' rows built for a page of ' + rows + ': the table is not windowed');
    }
    console.log('INFO: ' + (pages - 1) + ' page turns of 1000 rows: ' + ms + ' ms in all, ' + (ms / (pages - 1)).toFixed(0) + ' ms each (click to the rows on screen: fetch, parse, render); the DOM work of a page (build, insert, style and layout): median ' + dom.sort((a, b) => a - b)[dom.length >> 1] + ' ms');
    // the baseline, in the same page: all 1000 rows of a page built into a
    // copy of the table in the same place (what a table without windowing costs)
    const full = [];
    for (let r = 0; r < 5; r++) {
      full.push(await page.evaluate(async (off) => {
        const res = await fetch('/v1/artifacts/' + document.getElementById('artifact-name').textContent + '/blocks?offset=' + off + '&limit=1000',
          { headers: { Authorization: 'Bearer ' + sessionStorage.getItem('maif.token') } });
        const j = await res.json();
        const orig = document.getElementById('blocks');
        const t0 = performance.now();
        const t = orig.cloneNode(false);
        t.removeAttribute('id');
        t.append(orig.tHead.cloneNode(true));
        const tb = document.createElement('tbody');
        for (const b of j.blocks) {
          const tr = document.createElement('tr');
          for (const v of [b.index, b.type, b.size, b.stored_size, b.codec, b.commit, 'ok', JSON.stringify(b.meta)]) {
            const td = document.createElement('td');
            td.textContent = String(v);
            tr.append(td);
          }
          tb.append(tr);
        }
        t.append(tb);
        orig.parentNode.append(t);
        t.getBoundingClientRect();
        const ms = performance.now() - t0;
        t.remove();
        return ms;
      }, 1000 * r));
    }
    console.log('INFO: baseline, all 1000 rows of a page built into the table (same page, same run): median ' + full.sort((a, b) => a - b)[2].toFixed(1) + ' ms');
    if (!(await page.isDisabled('#page-next'))) throw new Error('Next still enabled on the last page');
    const last = await lastIndex();
    if (last !== B + X.total - 1) throw new Error('last row ' + last);
  });
  await check('100 rows a page: Last jumps to the last page', async () => {
    await page.selectOption('#page-size', '100');
    await page.click('#page-first');
    await waitFirst(B);
    await page.click('#page-last');
    const firstOfLast = B + Math.floor((X.total - 1) / 100) * 100;
    await waitFirst(firstOfLast);
    const last = await lastIndex();
    if (last !== B + X.total - 1) throw new Error('last row ' + last);
    const pn = await page.inputValue('#page-num');
    if (pn !== String(Math.ceil(X.total / 100))) throw new Error('page number ' + pn);
  });
  await shot('03-last-page');

  // ---- opening blocks
  const open = async (idx) => {
    await page.fill('#goto-index', String(idx));
    await page.click('#goto-form button');
    await page.waitForFunction((i) => {
      const p = document.getElementById('preview');
      return !p.hidden && p.dataset.index === String(i) && p.dataset.state !== 'loading' && document.body.dataset.busy === '0';
    }, idx);
  };
  await check('a text block: its text in the preview', async () => {
    await open(X.text_index);
    const t = await page.textContent('#preview-body .preview-text');
    if (t !== X.text_value) throw new Error('shows ' + JSON.stringify(t.slice(0, 80)));
    const sel = await page.$('#blocks-body tr.selected');
    if (!sel || Number(await sel.getAttribute('data-index')) !== X.text_index) throw new Error('row not selected');
  });
  await check('the keyboard opens a block too (Enter on a focused row)', async () => {
    const next = X.text_index + 1;
    await page.focus('#blocks-body tr[data-index="' + next + '"]');
    await page.keyboard.press('Enter');
    await page.waitForFunction((i) => {
      const p = document.getElementById('preview');
      return p.dataset.index === String(i) && p.dataset.state === 'ready';
    }, next);
    const f = await page.evaluate(() => document.activeElement && document.activeElement.dataset.index);
    if (f !== String(next)) throw new Error('focus on ' + f);
    await open(X.text_index);
  });
  await check('its inclusion proof checks in the browser (WebCrypto Ed25519, Merkle path)', async () => {
    await page.click('#proof-check');
    await page.waitForSelector('#proof-result.good, #proof-result.error');
    const t = await page.textContent('#proof-result');
    if (!/^Checked in this browser/.test(t)) throw new Error(t);
  });
  await shot('04-preview-text');
  await check('an image block: an <img> from a blob: URL, decoded at its size', async () => {
    await open(X.image_index);
    const img = await page.waitForSelector('#preview-body img.preview-img');
    const r = await img.evaluate((e) => ({ src: e.src, w: e.naturalWidth, h: e.naturalHeight }));
    if (!r.src.startsWith('blob:')) throw new Error('src ' + r.src);
    if (r.w !== X.image_width || r.h !== X.image_height) throw new Error(r.w + 'x' + r.h + ', want ' + X.image_width + 'x' + X.image_height);
  });
  await shot('05-preview-image');
  await check('an embedding: a plot of its ' + X.embedding_dims + ' values', async () => {
    await open(X.embedding_index);
    const bars = await page.$$eval('#preview-body svg.embedding-plot rect', (r) => r.length);
    if (bars !== X.embedding_dims) throw new Error(bars + ' bars');
    const note = await page.textContent('#preview-body .embedding .note');
    if (!note.startsWith(X.embedding_dims + ' dimensions')) throw new Error(note);
  });
  await shot('06-preview-embedding');
  await check('a JSON block: pretty-printed', async () => {
    await open(X.json_index);
    const t = await page.textContent('#preview-body .preview-text');
    return t === JSON.stringify(JSON.parse(X.json_value), null, 2);
  });
  await check('a binary block: a hex dump of its first bytes', async () => {
    await open(X.binary_index);
    const t = await page.textContent('#preview-body .hexdump');
    return t.startsWith('00000000  ' + X.binary_hex16);
  });
  await check('hostile text and metadata stay text (no element, no script)', async () => {
    await open(X.hostile_index);
    const t = await page.textContent('#preview-body .preview-text');
    if (t !== X.hostile_text) throw new Error('text ' + JSON.stringify(t.slice(0, 80)));
    const injected = await page.evaluate(() => ({
      pwned: window.__pwned,
      img: document.querySelectorAll('#preview img, #blocks img').length,
      b: document.querySelectorAll('#blocks b, #preview b').length,
    }));
    if (injected.pwned !== undefined || injected.img || injected.b) throw new Error(JSON.stringify(injected));
    const meta = await page.textContent('#preview-meta');
    if (!meta.includes('<b>bold</b>')) throw new Error('metadata not shown as text');
  });
  await shot('07-preview-hostile');

  // ---- search
  await check('search finds the block with the unique words, and opens it', async () => {
    await page.click('#tabs [data-tab=search]');
    await page.fill('#search-q', X.search_query);
    await page.click('#search-form button[type=submit]');
    const hit = await page.waitForSelector('#search-results .result[data-index="' + X.search_index + '"]');
    const snip = await hit.$eval('.r-snippet', (e) => e.textContent);
    console.log('INFO: search note: ' + await page.textContent('#search-note'));
    if (!snip.includes(X.search_word)) throw new Error('snippet ' + JSON.stringify(snip));
    await shot('08-search');
    await hit.click();
    await page.waitForFunction((i) => {
      const p = document.getElementById('preview');
      return !p.hidden && p.dataset.index === String(i) && p.dataset.state === 'ready';
    }, X.search_index);
    const t = await page.textContent('#preview-body .preview-text');
    if (t !== X.search_text) throw new Error('opened ' + JSON.stringify(t));
    if (!(await page.isVisible('#panel-blocks'))) throw new Error('blocks tab not shown');
    const sel = await page.$('#blocks-body tr.selected');
    if (!sel || Number(await sel.getAttribute('data-index')) !== X.search_index) throw new Error('its row is not on the page shown');
  });

  await check('hybrid search over embedded texts (maif embed) ranks the right note first', async () => {
    await page.click('#artifacts .artifact[data-name="' + X.notes + '"]');
    await page.waitForSelector('#verify-badge.ok');
    await page.click('#tabs [data-tab=search]');
    await page.fill('#search-q', X.notes_query);
    await page.selectOption('#search-mode', 'hybrid');
    await page.click('#search-form button[type=submit]');
    await page.waitForSelector('#search-results .result');
    const first = await page.$eval('#search-results .result', (e) => Number(e.dataset.index));
    const note = await page.textContent('#search-note');
    if (first !== X.notes_hit) throw new Error('first result #' + first + ': ' + note);
    if (!/\(hybrid\)$/.test(note)) throw new Error(note);
  });
  await shot('08b-search-hybrid');
  await check('an embedding made by maif embed: ' + X.notes_embedding_dims + ' values plotted', async () => {
    await page.click('#tabs [data-tab=blocks]');
    await open(X.notes_embedding);
    const bars = await page.$$eval('#preview-body svg.embedding-plot rect', (r) => r.length);
    if (bars !== X.notes_embedding_dims) throw new Error(bars + ' bars');
  });
  await page.click('#artifacts .artifact[data-name="' + X.big + '"]');
  await waitFirst(B);

  // ---- timeline and signatures
  await check('the timeline lists every commit', async () => {
    await page.click('#tabs [data-tab=timeline]');
    await page.waitForSelector('#commits-body tr[data-seq]');
    const n = (await page.$$('#commits-body tr[data-seq]')).length;
    if (n !== X.commits) throw new Error(n + ' rows, want ' + X.commits);
    const dots = (await page.$$('#timeline-plot circle.commit')).length;
    if (dots !== X.commits) throw new Error(dots + ' dots');
  });
  await check('every commit signature checks in the browser (WebCrypto)', async () => {
    await page.click('#sig-check');
    await page.waitForSelector('#sig-note.good, #sig-note.error');
    const t = await page.textContent('#sig-note');
    if (!t.startsWith(X.commits + ' of ' + X.commits + ' commit')) throw new Error(t);
    const ok = (await page.$$('#commits-body td.sig.good')).length;
    if (ok !== X.commits) throw new Error(ok + ' ok cells');
  });
  await shot('09-timeline');

  // ---- graph
  await check('the relationship graph is drawn (entities, blocks, hostile names as text)', async () => {
    await page.click('#tabs [data-tab=graph]');
    await page.waitForSelector('#graph-plot svg.graph');
    const r = await page.evaluate(() => ({
      nodes: document.querySelectorAll('#graph-plot g.node').length,
      edges: document.querySelectorAll('#graph-plot line.edge').length,
      labels: Array.from(document.querySelectorAll('#graph-plot .nlabel'), (e) => e.textContent),
      foreign: document.querySelectorAll('#graph-plot img, #graph-plot script, #graph-plot foreignObject').length,
    }));
    if (r.nodes < X.graph_min_nodes || r.edges < X.graph_min_edges) throw new Error(r.nodes + ' nodes, ' + r.edges + ' edges');
    if (!r.labels.includes('Alice')) throw new Error('no Alice label');
    if (r.foreign) throw new Error('injected elements');
  });
  await shot('10-graph');
  await check('a block in the graph opens that block', async () => {
    await page.click('#graph-plot g.node.block[data-block="' + X.graph_to + '"]');
    await page.waitForFunction((i) => {
      const p = document.getElementById('preview');
      return !p.hidden && p.dataset.index === String(i) && p.dataset.state === 'ready';
    }, X.graph_to);
    return page.isVisible('#panel-blocks');
  });

  // ---- the tampered copy
  await check('the tampered copy fails verification (badge)', async () => {
    await page.click('#artifacts .artifact[data-name="' + X.tampered + '"]');
    await page.waitForSelector('#verify-badge.bad');
    const t = await page.textContent('#verify-badge');
    if (!/FAILED/.test(t)) throw new Error(t);
  });
  await check('the damaged block is flagged in the list', async () => {
    await page.click('#tabs [data-tab=blocks]');
    await open(X.damaged_index);
    const row = await page.waitForSelector('#blocks-body tr.damaged[data-index="' + X.damaged_index + '"]');
    const flag = await row.$eval('.flag', (e) => e.textContent);
    if (flag !== 'damaged') throw new Error('flag ' + flag);
    const others = await page.$$eval('#blocks-body tr.damaged', (rs) => rs.map((r) => r.dataset.index));
    if (others.length !== 1) throw new Error('damaged rows: ' + others.join(','));
    if (await page.isHidden('#preview-damage')) throw new Error('the preview does not say it is damaged');
  });
  await shot('11-tampered-list');
  await check('the findings name the damaged block', async () => {
    await page.click('#tabs [data-tab=verify]');
    await page.waitForSelector('#damaged-list .chip.damaged');
    const chips = await page.$$eval('#damaged-list .chip', (c) => c.map((e) => e.textContent));
    if (JSON.stringify(chips) !== JSON.stringify(['#' + X.damaged_index])) throw new Error('chips ' + chips.join(','));
    const rows = await page.$$eval('#findings-body tr.sev-error', (rs) => rs.map((r) => [r.cells[2].textContent, r.cells[3].textContent]));
    if (!rows.some(([b, m]) => b === String(X.damaged_index) && /hash/.test(m))) throw new Error(JSON.stringify(rows));
  });
  await shot('12-tampered-findings');

  await check('no script errors and no Content-Security-Policy violations', async () => {
    if (pageErrors.length || cspErrors.length) throw new Error(pageErrors.concat(cspErrors).join(' | '));
  });
  await ctx.close();
}

main().then(() => process.exit(0), (e) => { fail('the browser session', e && e.stack ? e.stack : e); process.exit(1); });
