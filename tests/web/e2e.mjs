// End-to-end tests of the reviewer pages (web/): headless Chromium, driven by playwright-core,
// against a real `ahub serve` on a loopback port with the seed packages of packages/.
//
//   node tests/web/e2e.mjs AHUB_BINARY ARTIFACT_DIR      (ctest runs it from the source root)
//
// Screenshots of every page land in ARTIFACT_DIR; the discoveries page's render time
// (navigation start to cards on screen) is printed, not asserted.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {after, before, test} from 'node:test';

import {Hub, launchBrowser, packageArchive} from './hub.mjs';

const [ahub, artifacts] = process.argv.slice(2);
if (!ahub || !artifacts) {
  console.error('usage: node tests/web/e2e.mjs AHUB_BINARY ARTIFACT_DIR');
  process.exit(2);
}
fs.mkdirSync(artifacts, {recursive: true});

const SEEDS = fs.readdirSync('packages', {withFileTypes: true}).filter((d) => d.isDirectory()).length;
const PAGE = 20;  // cards per page of the discoveries page
const CACHE = 'cache-admission-zipfian';
const CACHE_1000 = 'cache-admission-zipfian-cap1000';

let hub;
let browser;
let page;
let reviewerToken;
let authorToken;
let seedList;  // the first page of GET /api/v1/packages once verification settled
let cacheTension;  // the id of the tension between the cache pair

// The cache pair's tension: the same metric, capacity 100 against 1000.
async function findCacheTension() {
  const {tensions} = await hub.json('/api/v1/tensions');
  const t = tensions.find((x) => x.metric === 'cache.hit_rate_gap_pp'
    && x.earlier.package === CACHE && x.later.package === CACHE_1000);
  assert.ok(t, `no cache.hit_rate_gap_pp tension between ${CACHE} and ${CACHE_1000}`);
  return t.id;
}

before(async () => {
  hub = new Hub(ahub);
  reviewerToken = hub.createToken('reviewer', 't');
  authorToken = hub.createToken('author', 'mallory');
  await hub.start();
  await hub.settle(SEEDS);
  seedList = await hub.json(`/api/v1/packages?limit=${PAGE}`);
  browser = await launchBrowser();
  page = await browser.context.newPage();
  page.on('pageerror', (e) => console.error(`# page error: ${e.message}`));
});

after(async () => {
  if (browser) await browser.close();
  if (hub) await hub.stop();
});

const shot = (name, p = page) => p.screenshot({path: path.join(artifacts, `${name}.png`), fullPage: true});
const cardIds = () => page.$$eval('#cards > li', (lis) => lis.map((li) => li.dataset.id));
const textOf = (selector) => page.locator(selector).innerText();

async function openDiscoveries(query = '') {
  await page.goto(`${hub.url}/${query}`);
  await page.waitForSelector('#cards > li');
}

test('pages are served with their types, a CSP without unsafe-inline, ETags and 404s', async () => {
  for (const [p, type] of [['/', 'text/html'], ['/tensions', 'text/html'], ['/submit', 'text/html'],
    [`/packages/${CACHE}`, 'text/html'], ['/assets/app.js', 'text/javascript'],
    ['/assets/style.css', 'text/css'], ['/assets/chart.umd.js', 'text/javascript']]) {
    const res = await fetch(hub.url + p);
    assert.equal(res.status, 200, p);
    assert.ok(res.headers.get('content-type').startsWith(type), `${p}: ${res.headers.get('content-type')}`);
    const csp = res.headers.get('content-security-policy');
    assert.match(csp, /script-src 'self'/, p);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, p);
    const etag = res.headers.get('etag');
    assert.match(etag, /^"[0-9a-f]{32}"$/, p);
    const again = await fetch(hub.url + p, {headers: {'If-None-Match': etag}});
    assert.equal(again.status, 304, p);
  }
  const missing = await fetch(`${hub.url}/assets/no-such-file.js`);
  assert.equal(missing.status, 404);
  assert.equal((await missing.json()).error.code, 'not_found');
});

test('discoveries: cards in API order with scores, levels, tension markers and chips', async () => {
  // Render time: navigation start to the cards on screen, over several loads, with where the
  // time went (the document, the API answer) from the browser's own timing entries.
  const loads = [];
  for (let i = 0; i < 5; ++i) {
    await openDiscoveries();
    loads.push(await page.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0];
      const api = performance.getEntriesByType('resource').find((r) => r.name.includes('/api/v1/packages'));
      return {
        cards: performance.getEntriesByName('ahub:discoveries-rendered')[0].startTime,
        document: nav.responseEnd,
        scripts: nav.domContentLoadedEventEnd,
        api: api ? api.responseEnd - api.startTime : NaN,
      };
    }));
  }
  const ms = (v) => v.toFixed(1);
  const median = [...loads].sort((a, b) => a.cards - b.cards)[Math.floor(loads.length / 2)];
  console.log(`# discoveries render time (navigation start to cards rendered): first load ${
    ms(loads[0].cards)} ms, median of ${loads.length} ${ms(median.cards)} ms `
    + `(all: ${loads.map((l) => ms(l.cards)).join(' / ')} ms); median load: document at ${
      ms(median.document)} ms, modules run by ${ms(median.scripts)} ms, API answer ${ms(median.api)} ms`);
  await shot('discoveries');

  assert.equal(await page.title(), 'Discoveries · AttentionHub');
  assert.deepEqual(await cardIds(), seedList.items.map((p) => p.id), 'cards follow the API ranking');
  for (const p of seedList.items) {
    const card = page.locator(`#cards > li[data-id="${p.id}"]`);
    assert.equal(await card.locator('.score-value').innerText(), p.score.toFixed(1), p.id);
    assert.equal(await card.locator('.summary').textContent(), p.summary, p.id);
    assert.equal(await card.locator('.claims-count').innerText(), `${p.claims} claim${p.claims === 1 ? '' : 's'}`);
    assert.match(await card.locator('.meta').innerText(), new RegExp(`v${p.version}[\\s\\S]*${p.published}`));
    assert.equal(await card.getAttribute('data-level'), p.level);
    assert.equal(await card.locator('.tension-marker').count(), p.open_tensions ? 1 : 0, p.id);
  }
  // The cache pair is deterministic: the re-measurement raised the open tension (+5) and ranks
  // first at 4 + 2 x 2 reproduced + 5 = 13.0.
  assert.equal((await cardIds())[0], CACHE_1000);
  const first = page.locator(`#cards > li[data-id="${CACHE_1000}"]`);
  assert.equal(await first.locator('.score-value').innerText(), '13.0');
  assert.match(await first.locator('.level').innerText(), /Reproduces/);
  assert.match(await first.locator('.tension-marker').innerText(), /1 open tension/);

  const chips = await page.$$eval('.chip[data-facet]', (as) => as.map((a) => [
    a.dataset.facet, a.dataset.name, a.querySelector('.count').textContent]));
  const expected = [
    ...seedList.facets.categories.map((f) => ['category', f.name, String(f.count)]),
    ...seedList.facets.tags.map((f) => ['tag', f.name, String(f.count)]),
  ];
  assert.deepEqual(chips, expected);
  // The three systems seeds are cs.DC; the cache pair shares the caching tag.
  assert.ok(chips.some(([k, n, c]) => k === 'category' && n === 'cs.DC' && Number(c) >= 3));
  assert.ok(chips.some(([k, n, c]) => k === 'tag' && n === 'caching' && Number(c) >= 2));
});

test('discoveries: chips, search and sort filter and show in the address', async () => {
  const ids = async (query) => (await hub.json(`/api/v1/packages?limit=${PAGE}&${query}`)).items.map((p) => p.id);
  const algorithms = await ids('tag=algorithms');
  assert.ok(algorithms.includes('bisect-membership'));
  await openDiscoveries();
  await page.click('.chip[data-facet="tag"][data-name="algorithms"]');
  await page.waitForURL(/\?tag=algorithms$/);
  await page.waitForFunction((n) => !document.querySelector('#results.stale')
    && document.querySelectorAll('#cards > li').length === n, algorithms.length);
  assert.deepEqual(await cardIds(), algorithms);
  assert.equal(await page.getAttribute('.chip[data-name="algorithms"]', 'aria-current'), 'true');
  assert.match(await textOf('#result-count'), /packages? · tag “algorithms”/);
  await shot('discoveries-filtered');

  // A shared address opens the same view; the active chip, by keyboard, removes the filter.
  await openDiscoveries('?tag=caching');
  assert.deepEqual(await cardIds(), await ids('tag=caching'));
  assert.ok((await cardIds()).includes(CACHE) && (await cardIds()).includes(CACHE_1000));
  await page.focus('.chip[data-name="caching"]');
  await page.keyboard.press('Enter');
  await page.waitForURL(`${hub.url}/`);
  await page.waitForFunction((n) => document.querySelectorAll('#cards > li').length === n,
    Math.min(SEEDS, PAGE));

  const capacity = await ids('q=capacity');
  assert.ok(capacity.includes(CACHE) && capacity.includes(CACHE_1000));
  await page.fill('#q', 'capacity');
  await page.waitForURL(/\?q=capacity$/);
  await page.waitForFunction((n) => !document.querySelector('#results.stale')
    && document.querySelectorAll('#cards > li').length === n, capacity.length);
  assert.deepEqual(await cardIds(), capacity);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'q', 'typing keeps focus');

  await page.fill('#q', 'no-such-words-anywhere');
  await page.waitForSelector('.state-empty');
  assert.match(await textOf('.state-empty'), /No package matches these filters/);

  await openDiscoveries();
  await page.selectOption('#sort', 'recent');
  await page.waitForURL(/\?sort=recent$/);
  await page.waitForFunction(() => !document.querySelector('#results.stale'));
  assert.deepEqual(await cardIds(), await ids('sort=recent'));
});

test('package page: claims with claimed and measured values, verdicts, score, plots, runs', async () => {
  await openDiscoveries();
  await page.click(`#cards > li[data-id="${CACHE}"] h2 a`);
  await page.waitForURL(`${hub.url}/packages/${CACHE}`);
  await page.waitForSelector('.plot canvas');
  await page.waitForSelector('main:not([aria-busy])');
  // Keyboard and screen-reader users start at the new page's heading.
  assert.equal(await page.evaluate(() => document.activeElement.tagName), 'H1');
  const pkg = await hub.json(`/api/v1/packages/${CACHE}`);

  assert.equal(await textOf('h1'), pkg.title);
  const rows = page.locator('table.claims tbody tr');
  assert.equal(await rows.count(), 3);
  assert.deepEqual(await rows.evaluateAll((trs) => trs.map((tr) => tr.dataset.claim)),
    ['lfu-hit-rate', 'lru-hit-rate', 'gap']);
  const lfu = page.locator('tr[data-claim="lfu-hit-rate"]');
  assert.equal(await lfu.locator('.claimed').innerText(), '64.5 %');
  assert.equal(await lfu.locator('.expect').innerText(), 'expect 64.5 ± 0.005 %');
  assert.equal(await lfu.locator('.measured').innerText(), '64.495 %');
  assert.match(await lfu.locator('.verdict').innerText(), /reproduced/);
  assert.equal(await lfu.locator('.hosts').innerText(), '1');
  assert.equal(await page.locator('tr[data-claim="gap"] .measured').innerText(), '11.811 pp');
  for (const c of pkg.claims) {
    assert.equal(await page.getAttribute(`tr[data-claim="${c.id}"]`, 'data-verdict'), c.verdict);
  }
  // Why this score: the breakdown rows and the total.
  assert.match(await textOf('#score'), /reproduced claims\s+3\s+× 2\s+\+6/);
  assert.match(await textOf('#score tfoot'), new RegExp(`Score\\s+${pkg.score}`));
  // Hit rate per policy, drawn by Chart.js, with its numbers as a table.
  assert.equal(await page.getAttribute('.plot', 'data-plot'), 'hit-rate');
  assert.match(await page.locator('.plot-data').textContent(), /lfu\s*64\.495/);
  // Runs, logs on demand; versions; tensions.
  assert.match(await textOf('#runs .run'), /succeeded/);
  await page.click('#runs .run summary');
  await page.waitForSelector('#runs .logs h4');
  assert.match(await textOf('#runs .logs'), /stdout[\s\S]*stderr[\s\S]*results\.json/);
  assert.match(await textOf('#versions'), /v1 \(shown\)/);
  assert.match(await textOf('#tensions'), new RegExp(`cache\\.hit_rate_gap_pp[\\s\\S]*${CACHE_1000}`));
  await shot(`package-${CACHE}`);

  await page.goto(`${hub.url}/packages/${CACHE_1000}`);
  await page.waitForSelector('.plot canvas');
  assert.match(await textOf('#relations'), new RegExp(`Re-measures ${CACHE}`));
  // Two capacities, one bar group each.
  assert.match(await page.locator('.plot-data').textContent(), /capacity 1,000, warm-up 20,000/);
  await shot(`package-${CACHE_1000}`);

  await page.goto(`${hub.url}/packages/bisect-membership`);
  await page.waitForSelector('.plot[data-plot="speedup"] canvas');
  assert.equal(await page.locator('.plot[data-plot="time-per-query"]').count(), 1);
  await shot('package-bisect-membership');

  await page.goto(`${hub.url}/packages/no-such-package`);
  await page.waitForSelector('.state-empty');
  assert.equal(await textOf('h1'), 'Package not found');
});

test('tensions page: the cache pair side by side with the condition diff', async () => {
  cacheTension = await findCacheTension();
  await page.goto(`${hub.url}/tensions`);
  await page.waitForSelector('article.tension');
  // Open tensions come first.
  const statuses = await page.$$eval('article.tension', (as) => as.map((a) => a.dataset.status));
  assert.deepEqual(statuses, [...statuses].sort((a, b) => (b === 'open') - (a === 'open')));
  const t = page.locator(`#tension-${cacheTension}`);
  assert.match(await t.locator('h2').innerText(), /cache\.hit_rate_gap_pp/);
  assert.equal(await t.getAttribute('data-status'), 'open');
  assert.match(await t.locator('.kind').innerText(), /Scope/);
  assert.match(await t.locator('[data-side="earlier"] h3').innerText(), new RegExp(`${CACHE} v1`));
  assert.match(await t.locator('[data-side="later"] h3').innerText(), new RegExp(`${CACHE_1000} v1`));
  assert.equal(await t.locator('[data-side="earlier"] .value').innerText(), '11.81 pp');
  assert.equal(await t.locator('[data-side="later"] .value').innerText(), '5.81 pp');
  assert.equal(await t.locator('[data-side="later"] .interval').innerText(), '[5.805, 5.815] pp');
  const capacity = t.locator('tr[data-key="capacity"]');
  assert.equal(await capacity.getAttribute('class'), 'differs');
  assert.deepEqual(await capacity.locator('td').allInnerTexts(), ['100', '1000']);
  assert.equal(await t.locator('tr[data-key="catalog"]').getAttribute('class'), '');
  // Read-only without a token: an invitation, no form.
  assert.equal(await t.locator('form.review').count(), 0);
  assert.match(await t.locator('.review-locked').innerText(), /Sign in with a reviewer token/);
  await shot('tensions');
});

test('reviewer: a token entered once marks a tension explained with a note', async () => {
  await page.goto(`${hub.url}/tensions`);
  await page.waitForSelector('article.tension');
  await page.click('.review-locked button');
  await page.fill('#token-input', 'ahub_not-a-real-token-0000000000000000000000000');
  await page.click('.token-form button[type="submit"]');
  await page.waitForFunction(() => /refused/.test(document.getElementById('token-help').textContent));
  await page.fill('#token-input', reviewerToken);
  await page.click('.token-form button[type="submit"]');
  await page.waitForSelector('.reviewer-on');
  await page.waitForSelector('article.tension form.review');

  const note = 'Capacity differs: 1 % vs 10 % of the catalog <b>not bold</b>';
  const t = page.locator(`#tension-${cacheTension || await findCacheTension()}`);
  await t.locator('input[value="explained"]').check();
  await t.locator('textarea').fill(note);
  await t.locator('button[type="submit"]').click();
  await page.waitForSelector(`#tension-${await t.getAttribute('data-id')}[data-status="explained"] .form-message.ok`);
  assert.equal(await t.locator('.note p').nth(1).textContent(), note);
  const stored = await hub.json(`/api/v1/tensions/${await t.getAttribute('data-id')}`);
  assert.equal(stored.status, 'explained');
  assert.equal(stored.note, note);
  await shot('tensions-reviewed');

  // The token lasts for the session: a reload keeps reviewer mode; forgetting it ends it.
  await page.reload();
  await page.waitForSelector('article.tension form.review');
  assert.equal(await page.locator('.reviewer-on').count(), 1);
  await page.click('#reviewer button');
  await page.waitForSelector('.review-locked');
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
});

test('submit page: curl, ahub submit, the format, the OpenAPI link, agents', async () => {
  await page.goto(`${hub.url}/submit`);
  await page.waitForSelector('#agents');
  const text = await textOf('main');
  assert.match(text, new RegExp(`ahub submit my-package --hub ${hub.url}`));
  assert.match(text, /curl -s -H "Authorization: Bearer \$T"/);
  assert.match(text, /format: ahub\/1/);
  assert.match(text, /ahub verify --hub .* --attest --token/);
  const href = await page.getAttribute('a[href="/api/v1/openapi.json"]', 'href');
  assert.equal((await hub.json(href)).openapi, '3.1.0');
  await shot('submit');
});

test('untrusted package text shows literally and never runs', async () => {
  // Each payload would set window.__xss to its own number if it ever ran.
  const hostile = (n) => `<img src=x onerror="window.__xss=${n}">`;
  const manifest = `format: ahub/1
id: xss-probe
version: 1
title: 'Hostile title <b>bold</b> ${hostile(1)}'
summary: 'Summary <script>window.__xss=5</script> and ${hostile(2)} stay text.'
categories: [cs.CR]
tags: [security]
authors:
  - {name: 'Mallory ${hostile(3)}'}
published: 2026-06-12
license: MIT
provenance: {kind: original, url: "javascript:window.__xss='url'"}
claims:
  - id: probe
    statement: '<script>window.__xss=6</script>${hostile(4)} is only text.'
    metric: security.xss_probe
    unit: ""
    value: 1
`;
  const res = await fetch(`${hub.url}/api/v1/packages`, {
    method: 'POST', body: packageArchive({'package.yaml': manifest}),
    headers: {Authorization: `Bearer ${authorToken}`, 'Content-Type': 'application/gzip'},
  });
  assert.equal(res.status, 201, await res.text());
  const violations = [];
  page.on('console', (m) => { if (/Content Security Policy/.test(m.text())) violations.push(m.text()); });

  await openDiscoveries('?q=hostile');
  await page.waitForSelector('#cards > li[data-id="xss-probe"]');
  const card = page.locator('#cards > li[data-id="xss-probe"]');
  assert.equal(await card.locator('h2').textContent(), `Hostile title <b>bold</b> ${hostile(1)}`);
  assert.match(await card.locator('.summary').textContent(), /<script>window.__xss=5<\/script>/);

  await card.locator('h2 a').click();
  await page.waitForSelector('table.claims');
  assert.equal(await textOf('h1'), `Hostile title <b>bold</b> ${hostile(1)}`);
  assert.equal(await page.locator('.package-head .summary').textContent(),
    `Summary <script>window.__xss=5</script> and ${hostile(2)} stay text.`);
  assert.equal(await page.locator('tr[data-claim="probe"] .statement').textContent(),
    `<script>window.__xss=6</script>${hostile(4)} is only text.`);
  assert.match(await textOf('.authors'), /Mallory <img src=x onerror=/);
  // The javascript: provenance URL is shown, not linked.
  assert.equal(await page.locator('.provenance a').count(), 0);
  await page.waitForTimeout(200);  // give an injected onerror the chance to fire
  await shot('package-xss-probe');

  assert.equal(await page.evaluate(() => window.__xss), undefined);
  assert.equal(await page.locator('main img, main script, main b').count(), 0);
  assert.deepEqual(violations, [], 'nothing even tried to run inline');
});

test('paging: a store larger than one page pages forward and back', async () => {
  // Past one page whatever the seeds: submit small packages until there are at least 22.
  const before = (await hub.json('/api/v1/packages?limit=1')).total;
  for (let i = 1; i <= PAGE + 2 - before; ++i) {
    const id = `paging-probe-${String(i).padStart(2, '0')}`;
    const manifest = `format: ahub/1\nid: ${id}\nversion: 1\ntitle: Paging probe ${i}\n`
      + 'summary: One more package, so that the discoveries page needs two pages.\n'
      + 'categories: [cs.DS]\nauthors: [{name: Probe}]\npublished: 2026-06-13\n'
      + 'provenance: {kind: original}\n'
      + 'claims: [{id: c, statement: A number., metric: paging.probe, unit: "", value: 1}]\n';
    const res = await fetch(`${hub.url}/api/v1/packages`, {
      method: 'POST', body: packageArchive({'package.yaml': manifest}),
      headers: {Authorization: `Bearer ${authorToken}`, 'Content-Type': 'application/gzip'},
    });
    assert.equal(res.status, 201, await res.text());
  }
  const total = (await hub.json('/api/v1/packages?limit=1')).total;
  const second = Math.min(total - PAGE, PAGE);
  assert.ok(second > 0);
  await openDiscoveries();
  assert.equal((await cardIds()).length, PAGE);
  assert.equal(await textOf('#result-count'), `Packages 1–${PAGE} of ${total}`);
  await page.click('#pager a[rel="next"]');
  await page.waitForURL(/\?cursor=/);
  await page.waitForFunction((n) => !document.querySelector('#results.stale')
    && document.querySelectorAll('#cards > li').length === n, second);
  assert.equal(await textOf('#result-count'), `Packages ${PAGE + 1}–${PAGE + second} of ${total}`);
  const secondPage = await cardIds();
  const api = await hub.json(`/api/v1/packages?limit=${PAGE}`);
  const next = await hub.json(`/api/v1/packages?limit=${PAGE}&cursor=${encodeURIComponent(api.next_cursor)}`);
  assert.deepEqual(secondPage, next.items.map((p) => p.id));
  await shot('discoveries-page-2');
  await page.click('#pager a[rel="prev"]');
  await page.waitForURL(`${hub.url}/`);
  await page.waitForFunction((n) => document.querySelectorAll('#cards > li').length === n, PAGE);
  assert.equal(await page.locator('#pager a[rel="prev"]').count(), 0);
});

test('error states: the API failing or unreachable, then recovering', async () => {
  const list = (url) => url.pathname === '/api/v1/packages';
  const tensions = (url) => url.pathname === '/api/v1/tensions';
  await page.route(list, (route) => route.fulfill({
    status: 503, contentType: 'application/json',
    body: JSON.stringify({error: {code: 'storage_error', message: 'the store is unavailable', details: []}}),
  }));
  await page.goto(`${hub.url}/`);
  await page.waitForSelector('.state-error');
  assert.equal(await page.getAttribute('.state-error', 'role'), 'alert');
  assert.match(await textOf('.state-error'), /Could not load the packages\.[\s\S]*the store is unavailable[\s\S]*storage_error/);
  await shot('discoveries-error');

  await page.unroute(list);
  await page.route(list, (route) => route.abort('connectionrefused'));
  await page.click('.state-error button');
  await page.waitForFunction(() => /did not answer/.test(document.querySelector('.state-error')?.textContent || ''));

  await page.unroute(list);
  await page.click('.state-error button');
  await page.waitForSelector('#cards > li');

  await page.route(tensions, (route) => route.abort('connectionrefused'));
  await page.goto(`${hub.url}/tensions`);
  await page.waitForSelector('.state-error');
  assert.match(await textOf('.state-error'), /Could not load the tensions/);
  await page.unroute(tensions);
});

test('phone width: cards and the claims table stay readable', async () => {
  const phone = await browser.context.newPage();
  await phone.setViewportSize({width: 390, height: 844});
  await phone.goto(`${hub.url}/`);
  await phone.waitForSelector('#cards > li');
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px`);
  await shot('phone-discoveries', phone);
  await phone.goto(`${hub.url}/packages/${CACHE}`);
  await phone.waitForSelector('.plot canvas');
  assert.equal(await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth) <= 0, true);
  await shot('phone-package', phone);
  await phone.close();
});
