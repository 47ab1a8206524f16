// The web UI in a real headless chromium against a real `modelreg serve`
// seeded with the real CLI: sign in, every view on seeded data, the
// approver flow, the rollout panel and its buttons, an auditor without
// actions (and 403 if it tries), the XSS string kept as text, the CSP; the
// lists (search, sort, paging; empty lists that say why), the chart's
// thinned labels, a deleted version, the promotion checklist, file downloads, the CLI command
// to copy, the audit filters and model picker, a 420 px screen, dark mode;
// and the screenshots of docs/web-ui.md.
//
// Run by ctest (tests/CMakeLists.txt) with MODELREG_BIN and SCREENSHOT set.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { kChromium, kXss, Registry } from './harness.mjs';

const kCsp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
const kCommit = 'a'.repeat(40);

let reg, browser, profile, tokens, v1digest;
const dialogs = [];  // any alert/confirm/prompt: the XSS string must never open one
const pageErrors = [];  // uncaught errors in the page's scripts and CSP violations

before(async () => {
  // scripts/test installs these; a missing one is a failure, not a skip.
  assert.ok(existsSync(kChromium), `${kChromium} missing: apt-get install chromium (scripts/test does)`);
  let playwright;
  try {
    playwright = await import('playwright-core');
  } catch (e) {
    assert.fail(`playwright-core missing: npm ci --prefix tests/web (scripts/test does): ${e.message}`);
  }
  reg = new Registry(process.env.MODELREG_BIN);
  await reg.start();
  await seed();
  profile = mkdtempSync(join(tmpdir(), 'modelreg-web-profile-'));
  browser = await playwright.chromium.launchPersistentContext(profile, {
    executablePath: kChromium,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  if (browser) await browser.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
  if (reg) await reg.stop();
});

// churn v1 (production, served by agent edge-1, one decision), v2 (none),
// v3 (staging); a policy with a metric gate; v1 carries the XSS param.
async function seed() {
  tokens = {
    admin: reg.adminToken,
    trainer: reg.createToken('ci-trainer', 'trainer'),
    approver: reg.createToken('alice-approver', 'approver'),
    auditor: reg.createToken('bob-auditor', 'auditor'),
    agent: reg.createToken('edge-agent', 'agent'),
  };
  const register = (n, auc, logloss, extra = []) => JSON.parse(reg.cli(['register', 'churn', reg.bundle(`v${n}`, n),
    '--data', `train=s3://lake/churn/2026-11-0${n}@sha256:${String(n).repeat(64)}`,
    '--code-repo', 'https://git.example.com/ds/churn.git', '--code-commit', kCommit,
    '--param', `max_depth=${4 + n}`, '--metric', `auc=${auc}`, '--metric', `logloss=${logloss}`,
    '--env', 'python=3.11', ...extra, '--json'], tokens.trainer));
  v1digest = register(1, 0.88, 0.31, ['--param', `evil=${kXss}`]).digest;
  register(2, 0.93, 0.22);
  register(3, 0.91, 0.25);
  reg.cli(['policy', 'set', 'churn', '--gate', 'auc >= 0.85', '--approvals', '1'], tokens.admin);
  reg.cli(['approve', 'churn', '1', '--comment', 'looks good'], tokens.approver);
  reg.cli(['promote', 'churn', '1', '--to', 'staging'], tokens.trainer);
  reg.cli(['promote', 'churn', '1', '--to', 'production', '--reason', 'first release'], tokens.approver);
  reg.cli(['promote', 'churn', '3', '--to', 'staging'], tokens.trainer);
  // fraud v1: an admin forces it past a failing gate.
  reg.cli(['register', 'fraud', reg.bundle('f1', 11), '--metric', 'auc=0.5'], tokens.trainer);
  reg.cli(['policy', 'set', 'fraud', '--gate', 'auc >= 0.85'], tokens.admin);
  reg.cli(['promote', 'fraud', '1', '--to', 'staging'], tokens.trainer);
  reg.cli(['promote', 'fraud', '1', '--to', 'production', '--override', 'incident 42'], tokens.admin);
  await reg.post('/api/v1/agents/edge-1/status', tokens.agent,
    { host: 'edge-host-1', model: 'churn', version: 1, digest: v1digest, state: 'serving' });
  await reg.post('/api/v1/decisions', tokens.agent, { decisions: [{
    request_id: 'req-ui-1', model: 'churn', version: 1, digest: v1digest, agent_id: 'edge-1',
    at_ms: Date.now(), input_sha256: 'b'.repeat(64) }] });
  await seedMonitoring();
  seedMany();
}

// "many": kMany versions (more than a page of 50, enough to crowd the
// chart's axis), v5 and v6 in staging, auc varying; tokens limited to some
// models.
const kMany = 60;
const manyAuc = (n) => Number((0.7 + ((n * 7) % kMany) / 300).toFixed(4));
function seedMany() {
  for (let n = 1; n <= kMany; n++)
    reg.cli(['register', 'many', reg.bundle(`m${n}`, 30 + (n % 7)), '--metric', `auc=${manyAuc(n)}`,
      '--param', `n=${n}`], tokens.trainer);
  for (const n of ['5', '6']) reg.cli(['promote', 'many', n, '--to', 'staging'], tokens.trainer);
  reg.cli(['delete', 'many', '2', '--reason', 'superseded by v3'], tokens.admin);
  tokens.churnAuditor = reg.cli(['token', 'create', '--data', reg.data, '--role', 'auditor', '--name', 'eve-auditor',
    '--models', 'churn*'], tokens.admin).trim();
  tokens.nobodyAuditor = reg.cli(['token', 'create', '--data', reg.data, '--role', 'auditor', '--name', 'nil-auditor',
    '--models', 'nothing-*'], tokens.admin).trim();
}

// "scorer" v1 with a reference profile (the bundle file
// .modelreg/profile.json) and two monitoring windows of agent mon-1, the
// second with "age" shifted; v2 without a profile, monitored too.
async function seedMonitoring() {
  const kProfile = { format: 'modelreg.profile.v1', dataset: 'train', rows: 1000,
    columns: [{ name: 'age', type: 'numeric', count: 1000, missing: 0, min: 18, max: 90, edges: [30, 40, 50, 60],
      fractions: [0.2, 0.2, 0.2, 0.2, 0.2] }],
    schema: { columns: [{ name: 'age', type: 'numeric', min: 18, max: 90, required: true }], margin: 0.1 } };
  const dir = reg.bundle('s1', 21);
  mkdirSync(join(dir, '.modelreg'), { recursive: true });
  writeFileSync(join(dir, '.modelreg', 'profile.json'), JSON.stringify(kProfile));
  const d1 = JSON.parse(reg.cli(['register', 'scorer', dir, '--json'], tokens.trainer)).digest;
  const d2 = JSON.parse(reg.cli(['register', 'scorer', reg.bundle('s2', 22), '--json'], tokens.trainer)).digest;
  const minute = Math.floor(Date.now() / 60000) - 10;
  const feature = (counts) => ({ name: 'age', n: counts.reduce((a, b) => a + b, 0), missing: 0, out_of_range: 0,
    type_errors: 0, unknown_category: 0, counts });
  const win = (version, digest, m, reference, counts) => ({ version, digest, arm: '', start_ms: m * 60000,
    end_ms: (m + 1) * 60000, reference, requests: 1000, rows: 1000, unreadable: 0, violations: 0, rejected: 0,
    features: reference ? [feature(counts)] : [] });
  await reg.post('/api/v1/agents/mon-1/status', tokens.agent, { host: 'mon-host', model: 'scorer', version: 1,
    digest: d1, state: 'serving', monitoring: { run: '0123456789abcdef', windows: [
      win(1, d1, minute, true, [200, 200, 200, 200, 200]), win(1, d1, minute + 1, true, [50, 50, 100, 300, 500]),
      win(2, d2, minute + 1, false, [])] } });
}

async function signIn(token) {
  const page = await browser.newPage();
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) pageErrors.push(m.text()); });
  await page.goto(`${reg.url}/ui/`);
  await page.fill('#token', token);
  await page.click('#signin');
  await page.waitForSelector('#who:not(:empty)');
  return page;
}

// Opens a page by its hash route and waits for `selector` inside <main> once
// that route has rendered (a hash change keeps the previous page's DOM
// until the new one is ready).
async function view(page, hash, selector) {
  await page.goto(`${reg.url}/ui/${hash}`);
  await page.waitForSelector(`main[data-route="${hash.slice(1)}"] ${selector}`);
}

// Screenshots of other views go beside the README's one (the build dir), for
// a person to look at; model.png and narrow-dark.png are committed (docs/screenshots).
async function snapshot(page, name, fullPage = true) {
  if (!process.env.SCREENSHOT) return;
  mkdirSync(dirname(process.env.SCREENSHOT), { recursive: true });
  await page.screenshot({ path: join(dirname(process.env.SCREENSHOT), name), fullPage });
}

test('static UI: strict CSP and security headers, no path escapes the embedded table', async () => {
  const index = await reg.request('GET', '/ui/');
  assert.equal(index.status, 200);
  assert.equal(index.headers['content-security-policy'], kCsp);
  assert.equal(index.headers['x-content-type-options'], 'nosniff');
  assert.equal(index.headers['referrer-policy'], 'no-referrer');
  assert.match(index.headers['content-type'], /^text\/html/);
  const js = await reg.request('GET', '/ui/app.js');
  assert.match(js.headers['content-type'], /^text\/javascript/);
  assert.equal(js.headers['content-security-policy'], kCsp);
  for (const bad of ['nope.js', '..%2Fserve.url', '%2e%2e%2fregistry.db', '../admin.token', 'APP.JS'])
    assert.equal((await reg.request('GET', `/ui/${bad}`)).status, 404, bad);
  // An encoded NUL is refused by the HTTP layer before any route (docs/http.md).
  assert.equal((await reg.request('GET', '/ui/app.js%00')).status, 400);
  const root = await reg.request('GET', '/');
  assert.equal(root.status, 302);
  assert.equal(root.headers.location, '/ui/');
});

test('sign in with a token; it stays out of the URL; sign out forgets it', async () => {
  const page = await browser.newPage();
  await page.goto(`${reg.url}/ui/`);
  await page.fill('#token', 'mr_not-a-real-token');
  await page.click('#signin');
  await page.waitForSelector('.signin .error');
  assert.match(await page.textContent('.signin .error'), /401/);
  await page.fill('#token', tokens.auditor);
  await page.click('#signin');
  await page.waitForSelector('#who:not(:empty)');
  assert.equal(await page.textContent('#who'), 'bob-auditor (auditor)');
  assert.ok(!page.url().includes(tokens.auditor));
  assert.equal(await page.evaluate(() => sessionStorage.getItem('modelreg.token')), tokens.auditor);
  await page.click('#signout');
  await page.waitForSelector('#token');
  assert.equal(await page.evaluate(() => sessionStorage.getItem('modelreg.token')), null);
  await page.close();
});

test('models view: latest and production version, last change', async () => {
  const page = await signIn(tokens.auditor);
  await view(page, '#/models', 'table');
  const row = (await page.textContent('main tbody tr')).replace(/\s+/g, ' ');
  assert.match(row, /churn/);
  assert.match(row, /3/);
  assert.match(row, /v3.*v1/);  // latest v3, production v1
  assert.match(row, /\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ/);
  await view(page, '#/models/nope', '.error');  // an API error is shown in the page
  assert.match(await page.textContent('main .error'), /404 NOT_FOUND.*nope/);
  await page.close();
});

test('model view: stage badges, metric columns, chart, compare picker, policy', async () => {
  const page = await signIn(tokens.auditor);
  await view(page, '#/models/churn', 'svg.chart polyline');
  const badges = await page.$$eval('main tbody .badge', (els) => els.map((e) => e.textContent));
  assert.deepEqual(badges.slice(0, 3), ['staging', 'none', 'production']);  // v3, v2, v1
  const heads = await page.$$eval('main section:first-of-type th', (els) => els.map((e) => e.textContent));
  assert.ok(heads.includes('auc') && heads.includes('logloss'), heads.join());
  assert.equal(await page.locator('svg.chart circle').count(), 3);
  await page.selectOption('#chart-metric', 'logloss');
  assert.match(await page.textContent('svg.chart'), /0\.31/);
  assert.match(await page.textContent('ul.policy'), /auc >= 0\.85/);
  await page.click('#compare-go');
  await page.waitForSelector('h1:has-text("Compare")');
  assert.match(page.url(), /#\/compare\/churn\/2\/3$/);
  await page.close();
});

test('model view: an admin override is marked in the stage history', async () => {
  const page = await signIn(tokens.auditor);
  await view(page, '#/models/fraud', 'tbody');
  const marked = page.locator('td span.warn', { hasText: 'override' });
  assert.equal(await marked.count(), 1);
  const row = (await page.locator('tr', { has: marked }).textContent()).replace(/\s+/g, ' ');
  assert.match(row, /staging.*production.*override.*admin.*incident 42/);
  await page.close();
});

test('version view: lineage graph, files, approvals, audit events; XSS param stays text', async () => {
  const page = await signIn(tokens.auditor);
  await view(page, '#/models/churn/versions/1', '[data-testid=lineage-graph]');
  const graph = await page.textContent('[data-testid=lineage-graph]');
  for (const want of ['train', 's3://lake/churn/2026-11-01', 'git.example.com/ds/churn.git', 'churn v1', 'edge-1'])
    assert.ok(graph.includes(want), `lineage graph lacks ${want}: ${graph}`);
  assert.equal(await page.locator(`td:text-is("${kXss}")`).count(), 1);
  assert.equal(await page.locator('main img').count(), 0);
  assert.match(await page.textContent('main'), /model\.bin/);
  assert.match(await page.textContent('main'), /alice-approver/);
  assert.match(await page.textContent('main'), /looks good/);
  await snapshot(page, 'version.png');
  const actions = await page.$$eval('main section:last-of-type tbody td:nth-child(4)', (els) => els.map((e) => e.textContent));
  assert.ok(actions.includes('register') && actions.includes('approve'), actions.join());
  assert.deepEqual(dialogs, []);
  await page.close();
});

test('version view: reference profile table and PSI chart with the threshold; "no reference" without a profile', async () => {
  const page = await signIn(tokens.auditor);
  await view(page, '#/models/scorer/versions/1', '[data-testid=drift-charts]');
  const charts = page.locator('[data-testid=drift-charts] svg.chart.drift');
  assert.equal(await charts.count(), 1);
  assert.equal(await page.locator('[data-testid=drift-charts] polyline.threshold').count(), 1);
  assert.equal(await page.locator('[data-testid=drift-charts] circle.dot').count(), 2);
  assert.equal(await page.locator('[data-testid=drift-charts] circle.dot.alarm').count(), 1);
  assert.match(await page.textContent('[data-testid=drift-charts]'), /age\s*alarm/);
  // The profile table, where the registry serves GET .../profile (else the
  // version reads as having none).
  const served = (await reg.request('GET', '/api/v1/models/scorer/versions/1/profile', { token: tokens.auditor })).status;
  if (served === 200) {
    const profile = (await page.textContent('[data-testid=profile]')).replace(/\s+/g, ' ');
    assert.match(profile, /age.*input.*numeric.*18 – 90.*5/);
  }
  await snapshot(page, 'drift.png');
  await view(page, '#/models/scorer/versions/2', '[data-testid=no-reference]');
  assert.equal(await page.locator('[data-testid=no-profile]').count(), 1);
  assert.match(await page.textContent('[data-testid=no-profile]'), /no reference profile/);
  assert.deepEqual(pageErrors, []);
  await page.close();
});

test('compare view: metric, param, data and file changes', async () => {
  const page = await signIn(tokens.auditor);
  await view(page, '#/compare/churn/1/2', 'h1:has-text("Compare")');
  const text = (await page.textContent('main')).replace(/\s+/g, ' ');
  assert.match(text, /auc ?0\.88 ?0\.93/);
  assert.match(text, /max_depth ?5 ?6/);
  assert.match(text, /evil ?<img src=x onerror=alert\(1\)> ?—/);
  assert.match(text, /s3:\/\/lake\/churn\/2026-11-01/);
  assert.match(text, /changed ?model\.bin/);
  assert.match(text, /Files \(1 unchanged\)/);
  await page.close();
});

test('models list: search, sort by a column, paging', async () => {
  const page = await signIn(tokens.auditor);
  await view(page, '#/models', 'table');
  assert.equal(await page.textContent('[data-testid=cli-command]'), 'modelreg models');
  await page.fill('#models-search', 'CHU');
  await page.press('#models-search', 'Enter');
  await page.waitForSelector('main[data-route="/models?q=CHU"] table');
  assert.deepEqual(await page.$$eval('main tbody td:first-child', (els) => els.map((e) => e.textContent)), ['churn']);
  // Sort by the number of versions: first click ascending, second descending.
  await view(page, '#/models', 'th a[data-sort=version_count]');
  await page.click('th a[data-sort=version_count]');
  await page.waitForSelector('main[data-route="/models?sort=version_count&order=asc"] th a[aria-sort=ascending]');
  await page.click('th a[data-sort=version_count]');
  await page.waitForSelector('main[data-route="/models?sort=version_count&order=desc"] th a[aria-sort=descending]');
  assert.equal(await page.textContent('main tbody tr:first-child td:first-child'), 'many');
  // Two a page: next, next, then no next; "first page" goes back.
  await view(page, '#/models?per=2', '[data-testid=pager] a[data-page=next]');
  const names = await page.$$eval('main tbody td:first-child', (els) => els.map((e) => e.textContent));
  await page.click('[data-testid=pager] a[data-page=next]');
  await page.waitForSelector('main[data-route*="page="] [data-testid=pager] a[data-page=first]');
  names.push(...await page.$$eval('main tbody td:first-child', (els) => els.map((e) => e.textContent)));
  assert.deepEqual(names, ['churn', 'fraud', 'many', 'scorer']);  // by name, two a page
  assert.match(await page.textContent('[data-testid=pager]'), /2 shown of 4/);
  assert.equal(await page.locator('[data-testid=pager] a[data-page=next]').count(), 0);
  await page.click('[data-testid=pager] a[data-page=first]');
  await page.waitForSelector('main[data-route="/models?per=2"] table');
  await page.close();
});

test('empty lists say why: no match, or none this token may see', async () => {
  let page = await signIn(tokens.nobodyAuditor);
  await view(page, '#/models', 'p.empty');
  assert.match(await page.textContent('main p.empty'), /No models this token may see: it is limited to nothing-\*/);
  await page.close();
  page = await signIn(tokens.auditor);
  await view(page, '#/models?q=zzz', 'p.empty');
  assert.match(await page.textContent('main p.empty'), /No model matches “zzz”/);
  await page.close();
});

test('versions list: search, stage filter, sort by a metric, paging; the chart thins its labels', async () => {
  const page = await signIn(tokens.auditor);
  await view(page, '#/models/many', '[data-testid=pager]');
  assert.equal(await page.locator('main section tbody tr').first().locator('td').first().textContent(), `v${kMany}`);
  assert.equal(await page.locator('main table').first().locator('tbody tr').count(), 50);
  assert.equal(await page.textContent('[data-testid=cli-command]'), 'modelreg versions many');
  await page.click('[data-testid=pager] a[data-page=next]');
  await page.waitForSelector('main[data-route*="page="] [data-testid=pager] a[data-page=first]');
  const rest = await page.$$eval('main section:has(#versions-search) tbody tr td:first-child', (els) => els.map((e) => e.textContent));
  assert.deepEqual(rest, Array.from({ length: kMany - 50 }, (_, i) => `v${kMany - 50 - i}`));

  // The chart: every version a dot, but labels at least 30 px apart.
  await view(page, '#/models/many', 'svg.chart polyline');
  assert.equal(await page.locator('svg.chart circle').count(), kMany);
  const boxes = await page.$$eval('svg.chart text.xlabel', (els) => els.map((e) => e.getBoundingClientRect()));
  assert.ok(boxes.length >= 5 && boxes.length < 20, `${boxes.length} labels`);
  for (let i = 1; i < boxes.length; i++)
    assert.ok(boxes[i].left > boxes[i - 1].right + 2, `labels ${i - 1} and ${i} overlap`);
  assert.match(await page.textContent('svg.chart'), new RegExp(`v${kMany}`));

  await page.selectOption('#versions-stage', 'staging');
  await page.waitForSelector('main[data-route="/models/many?stage=staging"] table');
  assert.deepEqual(await page.$$eval('main section:has(#versions-search) tbody td:first-child', (els) => els.map((e) => e.textContent)), ['v6', 'v5']);
  await page.fill('#versions-search', 'v7');
  await page.press('#versions-search', 'Enter');
  await page.waitForSelector('main[data-route="/models/many?q=v7&stage=staging"] p.empty');
  await view(page, '#/models/many?q=v7', 'table');
  assert.deepEqual(await page.$$eval('main section:has(#versions-search) tbody td:first-child', (els) => els.map((e) => e.textContent)), ['v7']);

  await view(page, '#/models/many', 'th a[data-sort="metric:auc"]');
  await page.click('th a[data-sort="metric:auc"]');
  await page.waitForSelector('main[data-route="/models/many?sort=metric%3Aauc&order=asc"] th a[aria-sort]');
  const aucs = await page.$$eval('main section:has(#versions-search) tbody tr', (rows) => rows.map((r) => Number(r.children[2].textContent)));
  assert.deepEqual(aucs, [...aucs].sort((a, b) => a - b));
  assert.equal(aucs[0], Math.min(...Array.from({ length: kMany }, (_, i) => manyAuc(i + 1))));
  await page.close();
});

test('version page: promotion checklist, file download, CLI commands to copy', async () => {
  const page = await signIn(tokens.approver);
  await view(page, '#/models/churn/versions/2', '[data-testid=gates]');
  const checks = await page.$$eval('[data-testid=gates] li', (els) => els.map((e) => [e.dataset.ok, e.textContent]));
  assert.equal(checks.length, 2);
  assert.equal(checks[0][0], 'false');
  assert.match(checks[0][1], /approvals >= 1.*approvals: 0 of 1/);
  assert.equal(checks[1][0], 'true');
  assert.match(checks[1][1], /auc >= 0\.85 actual 0\.93 vs 0\.85/);
  assert.match(await page.textContent('[data-testid=gates-summary]'), /1 of 2 checks fail/);
  assert.match(await page.textContent('main section:has([data-testid=gates])'), /Approvals so far: 0 of 1 required · compared with production v1/);
  // The checklist comes before the Promote button.
  const order = await page.evaluate(() => {
    const g = document.querySelector('[data-testid=gates]');
    const b = document.querySelector('[data-action]');
    return g.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING;
  });
  assert.ok(order);

  // A file downloads with the token in the header, byte for byte.
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('a[data-download="model.bin"]')]);
  assert.equal(download.suggestedFilename(), 'model.bin');
  const path = await download.path();
  const { readFileSync } = await import('node:fs');
  const got = readFileSync(path);
  assert.equal(got.length, 4096 + 2 * 1000);
  assert.ok(got.every((b) => b === 2));

  // The CLI command, copied to the clipboard.
  const cmds = await page.$$eval('[data-testid=cli-command]', (els) => els.map((e) => e.textContent));
  assert.deepEqual(cmds, ['modelreg show churn 2', 'modelreg pull churn 2 ./churn-v2']);
  await browser.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: reg.url });
  await page.locator('[data-testid=cli-copy]').first().click();
  await page.waitForSelector('[data-testid=cli-copy]:text-is("Copied")');
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), 'modelreg show churn 2');
  // Production, archived and rejected versions have no checklist.
  await view(page, '#/models/churn/versions/1', 'h1 .badge');
  assert.equal(await page.locator('[data-testid=gates]').count(), 0);
  await page.close();
});

test('a deleted version: marked in the list, its page says when, by whom and why, with no actions or downloads', async () => {
  const page = await signIn(tokens.admin);
  await view(page, '#/models/many?sort=version&order=asc', 'table');
  const row = page.locator('tr:has(a:text-is("v2"))');
  assert.equal(await row.locator('.badge.deleted').count(), 1);
  assert.equal(await page.locator('tr:has(a:text-is("v3")) .badge.deleted').count(), 0);
  await view(page, '#/models/many/versions/2', 'h1 .badge');
  assert.match(await page.textContent('[data-testid=deleted]'), /Deleted at \S+ by admin because superseded by v3/);
  assert.equal(await page.locator('[data-action]').count(), 0);
  assert.equal(await page.locator('[data-testid=gates]').count(), 0);
  assert.equal(await page.locator('a[data-download]').count(), 0);
  const cmds = await page.$$eval('[data-testid=cli-command]', (els) => els.map((e) => e.textContent));
  assert.deepEqual(cmds, ['modelreg show many 2']);
  await page.close();
});

test('audit log: filters by model, actor, action and time; a token limited to some models picks one', async () => {
  let page = await signIn(tokens.auditor);
  await view(page, '#/audit', '[data-testid=audit-filters]');
  await page.fill('#audit-actor', 'alice-approver');
  await page.fill('#audit-action', 'approve');
  await page.click('[data-testid=audit-filters] button[type=submit]');
  await page.waitForSelector('main[data-route="/audit?actor=alice-approver&action=approve"] tbody');
  const rows = await page.$$eval('main tbody tr', (trs) => trs.map((r) => [r.children[2].textContent, r.children[3].textContent]));
  assert.ok(rows.length >= 1);
  for (const [actor, action] of rows) assert.deepEqual([actor, action], ['alice-approver', 'approve']);
  assert.equal(await page.textContent('[data-testid=cli-command]'), 'modelreg audit log --actor alice-approver --action approve');
  await view(page, '#/audit?model=fraud&until=2000-01-01', 'p.empty');
  assert.match(await page.textContent('main p.empty'), /No event matches/);
  await view(page, '#/audit?model=fraud&since=2000-01-01&action=promote', 'tbody');
  const models = await page.$$eval('main tbody tr td:nth-child(5)', (els) => els.map((e) => e.textContent));
  assert.ok(models.length >= 2 && models.every((m) => m === 'fraud'), models.join());
  await page.close();

  // Limited to churn*: no 403, a picker of the models it may read.
  page = await signIn(tokens.churnAuditor);
  await view(page, '#/audit', '[data-testid=audit-pick]');
  assert.equal(await page.locator('main .error').count(), 0);
  const options = await page.$$eval('#audit-model option', (els) => els.map((e) => e.value));
  assert.deepEqual(options, ['', 'churn']);
  await page.selectOption('#audit-model', 'churn');
  await page.waitForSelector('main[data-route="/audit?model=churn"] tbody');
  const seen = await page.$$eval('main tbody tr td:nth-child(5)', (els) => els.map((e) => e.textContent));
  assert.ok(seen.length > 0 && seen.every((m) => m === 'churn'), seen.join());
  await page.close();
});

// Every element of the page inside the viewport, except inside a wrapper
// that scrolls sideways (tables, the lineage graph).
async function overflowing(page) {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const bad = [];
    for (const el of document.querySelectorAll('body *')) {
      if (el.closest('.table-wrap, .graph, dialog:not([open])')) continue;
      const r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      if (r.left < -1 || r.right > width + 1) bad.push(`${el.tagName}.${el.className} ${Math.round(r.left)}..${Math.round(r.right)}`);
    }
    for (const w of document.querySelectorAll('.table-wrap')) {
      const r = w.getBoundingClientRect();
      if (r.right > width + 1) bad.push(`table-wrap ${Math.round(r.right)}`);
    }
    if (document.documentElement.scrollWidth > width) bad.push(`page scrolls sideways: ${document.documentElement.scrollWidth}`);
    return bad;
  });
}

test('a 420 px screen: no element wider than the viewport; tables scroll inside their wrapper', async () => {
  const page = await signIn(tokens.admin);
  await page.setViewportSize({ width: 420, height: 900 });
  for (const [hash, sel] of [['#/models', 'table'], ['#/models/many', 'svg.chart'], ['#/models/churn/versions/1', '[data-testid=lineage-graph]'],
    ['#/models/churn/versions/3', '[data-testid=gates]'], ['#/audit', 'table'], ['#/fleet', 'table'], ['#/compare/churn/1/2', 'h1']]) {
    await view(page, hash, sel);
    assert.deepEqual(await overflowing(page), [], hash);
  }
  await view(page, '#/models/churn/versions/3', '[data-testid=gates]');
  await page.emulateMedia({ colorScheme: 'dark' });
  await snapshot(page, 'narrow-dark.png', false);  // docs/web-ui.md: the first screen only
  await page.close();
});

test('dark mode follows prefers-color-scheme', async () => {
  const page = await signIn(tokens.auditor);
  const colors = () => page.evaluate(() => [getComputedStyle(document.documentElement).backgroundColor,
    getComputedStyle(document.querySelector('main section')).backgroundColor,
    getComputedStyle(document.documentElement).color]);
  await page.emulateMedia({ colorScheme: 'light' });
  await view(page, '#/models/many', 'svg.chart');
  assert.deepEqual(await colors(), ['rgb(246, 247, 249)', 'rgb(255, 255, 255)', 'rgb(29, 36, 48)']);
  await page.emulateMedia({ colorScheme: 'dark' });
  assert.deepEqual(await colors(), ['rgb(12, 17, 29)', 'rgb(22, 27, 38)', 'rgb(228, 231, 236)']);
  await snapshot(page, 'many-dark.png');
  await page.close();
});

test('fleet, audit log with verify result, decision lookup', async () => {
  const page = await signIn(tokens.auditor);
  await view(page, '#/fleet', 'table');
  const fleet = await page.textContent('main tbody');
  for (const want of ['edge-1', 'edge-host-1', 'churn', 'v1', 'serving', 's ago']) assert.ok(fleet.includes(want), want);
  await view(page, '#/audit', '[data-testid=verify]');
  assert.match(await page.textContent('[data-testid=verify]'), /Chain verified: \d+ events/);
  assert.match(await page.textContent('main tbody'), /policy/);
  // An older page: the events before event 5 (seq has no gaps), newest first,
  // with a way back to the newest.
  await view(page, '#/audit?before=5', '[data-testid=audit-pager]');
  const seqs = await page.$$eval('main tbody tr td:first-child', (els) => els.map((e) => e.textContent));
  assert.deepEqual(seqs, ['4', '3', '2', '1']);
  assert.match(await page.textContent('[data-testid=audit-pager]'), /Events 1–4 of \d+/);
  assert.equal(await page.locator('[data-testid=audit-pager] a[data-page=newest][href="#/audit"]').count(), 1);
  assert.equal(await page.locator('[data-testid=audit-pager] a[data-page=older]').count(), 0);
  await view(page, '#/decisions', '#decision-id');
  await page.fill('#decision-id', 'req-ui-1');
  await page.press('#decision-id', 'Enter');
  await page.waitForSelector('main[data-route="/decisions/req-ui-1"] section');
  const text = await page.textContent('main');
  assert.match(text, /req-ui-1/);
  assert.match(text, /edge-1/);
  assert.ok(text.includes(v1digest));
  assert.equal(await page.locator('main a[href="#/models/churn/versions/1"]').count() > 0, true);
  await snapshot(page, 'decision.png');
  await page.close();
});

test('auditor: no action buttons, and the server refuses the action anyway', async () => {
  const page = await signIn(tokens.auditor);
  await view(page, '#/models/churn/versions/2', 'h1 .badge');
  assert.equal(await page.locator('[data-action]').count(), 0);
  await view(page, '#/models/churn', 'table');
  assert.equal(await page.locator('[data-action]').count(), 0);
  const status = await page.evaluate(async () => (await fetch('/api/v1/models/churn/versions/2/approvals', {
    method: 'POST',
    headers: { Authorization: `Bearer ${sessionStorage.getItem('modelreg.token')}`, 'Content-Type': 'application/json' },
    body: '{"comment":"sneaky"}',
  })).status);
  assert.equal(status, 403);
  await page.close();
});

async function act(page, action, text) {
  await page.click(`[data-action=${action}]`);
  await page.fill('dialog textarea', text);
  await page.click('dialog [data-confirm]');
}

test('approver: a failing promotion shows the API error; approve + promote changes the stage', async () => {
  const page = await signIn(tokens.approver);
  assert.ok(await page.locator('#nav a[href="#/audit"]').isHidden());  // approvers cannot read the audit log
  await view(page, '#/models/churn/versions/3', '[data-action=promote-production]');
  await act(page, 'promote-production', 'try without approval');
  await page.waitForSelector('dialog .error');
  assert.match(await page.textContent('dialog .error'), /422/);
  await page.click('dialog [data-cancel]');

  await view(page, '#/models/churn/versions/2', '[data-action=approve]');
  assert.equal(await page.textContent('h1 .badge'), 'none');
  await act(page, 'approve', 'metrics better on holdout');
  await page.waitForSelector('td:text-is("metrics better on holdout")');
  await act(page, 'promote-staging', 'for the canary');
  await page.waitForSelector('h1 .badge[data-stage=staging]');
  await act(page, 'promote-production', 'better auc');
  await page.waitForSelector('h1 .badge[data-stage=production]');
  assert.equal(await page.locator('[data-action=promote-production]').count(), 0);

  await view(page, '#/models/churn', 'svg.chart polyline');
  const badges = await page.$$eval('main tbody .badge', (els) => els.map((e) => e.textContent));
  assert.deepEqual(badges.slice(0, 3), ['staging', 'production', 'archived']);
  assert.equal(await page.locator('[data-action=rollback]').count(), 1);
  // The README's screenshot: the model page after the promotion.
  const shot = process.env.SCREENSHOT;
  assert.ok(shot, 'SCREENSHOT (output path) is not set');
  mkdirSync(dirname(shot), { recursive: true });
  await page.screenshot({ path: shot, fullPage: true });
  await page.close();
});

// Shows the page at `hash` again (a goto to the same URL is no hash change).
async function reload(page, hash, selector) {
  await page.reload();
  await page.waitForSelector(`main[data-route="${hash.slice(1)}"] ${selector}`);
}

// A latency histogram (docs/rollouts.md: 41 buckets) with `n` samples in bucket `i`.
const histogram = (i, n) => Array.from({ length: 41 }, (_, k) => (k === i ? n : 0));

// The rollout panel (docs/rollouts.md, docs/web-ui.md) on its own model so
// the churn pages above keep their stages: ranker v1 in production, v2
// approved and staged, a canary of v2 started over REST, an agent's counts.
test('rollout panel: arms with counts, current step; approver advances and aborts; auditor sees no buttons', async () => {
  const register = (n) => JSON.parse(reg.cli(['register', 'ranker', reg.bundle(`r${n}`, 20 + n), '--metric', 'auc=0.9', '--json'], tokens.trainer));
  const r1 = register(1);
  register(2);
  for (const v of ['1', '2']) {
    reg.cli(['approve', 'ranker', v, '--comment', 'ok'], tokens.approver);
    reg.cli(['promote', 'ranker', v, '--to', 'staging'], tokens.trainer);
  }
  reg.cli(['promote', 'ranker', '1', '--to', 'production', '--reason', 'first'], tokens.approver);

  // No rollout yet: the model page shows no panel.
  const auditor = await signIn(tokens.auditor);
  await view(auditor, '#/models/ranker', 'table');
  assert.equal(await auditor.locator('[data-testid=rollout]').count(), 0);

  const started = await reg.request('POST', '/api/v1/models/ranker/rollout', { token: tokens.approver,
    body: { version: '2', mode: 'canary', steps_pct: [5, 50, 100] } });
  assert.equal(started.status, 201, started.text);
  const id = JSON.parse(started.text).rollout.id;
  // Before any report: no samples, nobody reporting.
  await reload(auditor, '#/models/ranker', '[data-testid=rollout]');
  assert.match(await auditor.textContent('[data-testid=rollout-arms]'), /no samples yet/);
  assert.match(await auditor.textContent('[data-testid=rollout]'), /0 reporting/);

  await reg.post('/api/v1/agents/edge-r1/status', tokens.agent, {
    host: 'edge-host-r1', model: 'ranker', version: 1, digest: r1.digest, state: 'serving',
    rollout: { id, step: 0, run: 'run-ui-1', arms: {
      baseline: { requests: 950, errors: 3, latency_buckets: histogram(12, 950) },
      candidate: { requests: 50, errors: 1, latency_buckets: histogram(13, 50) } } } });

  // The auditor: the panel with both arms and their counts, 5 % current, no buttons.
  await reload(auditor, '#/models/ranker', '[data-testid=rollout]');
  const panel = (await auditor.textContent('[data-testid=rollout]')).replace(/\s+/g, ' ');
  assert.match(panel, /canary/);
  assert.equal(await auditor.textContent('[data-testid=rollout-state]'), 'active');
  const arms = await auditor.$$eval('[data-testid=rollout-arms] tbody tr',
    (rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent)));
  assert.equal(arms.length, 2);
  assert.deepEqual(arms[0].slice(0, 5), ['baseline', 'v1', '950', '3', '0.32 %']);
  assert.deepEqual(arms[1].slice(0, 5), ['candidate', 'v2', '50', '1', '2 %']);
  assert.match(arms[0][5], /ms$/);
  assert.match(arms[1][6], /ms$/);
  assert.equal(await auditor.textContent('ol.steps li.current'), '5 % (now)');
  assert.match(panel, /1 reporting/);
  assert.match(await auditor.textContent('[data-testid=rollout-verdict]'), /^continue/);
  assert.match(panel, /started.* by alice-approver/);
  assert.equal(await auditor.locator('a[href="#/models/ranker/versions/2"]').count() > 0, true);
  assert.equal(await auditor.locator('[data-action]').count(), 0);
  await auditor.close();

  // The approver: Advance -> 50 % is current.
  const page = await signIn(tokens.approver);
  await view(page, '#/models/ranker', '[data-action=rollout-advance]');
  assert.equal(await page.locator('[data-action=rollout-finish]').count(), 1);
  assert.equal(await page.locator('[data-action=rollback]').count(), 0);  // production is frozen meanwhile
  await snapshot(page, 'rollout.png');
  await page.click('[data-action=rollout-advance]');
  assert.equal(await page.locator('dialog textarea').count(), 0);  // advance records no reason
  await page.click('dialog [data-confirm]');
  await page.waitForSelector('ol.steps li.current:text-is("50 % (now)")');
  // Abort: refused in the dialog without a reason, done with one.
  await page.click('[data-action=rollout-abort]');
  await page.click('dialog [data-confirm]');
  await page.waitForSelector('dialog .error');
  assert.match(await page.textContent('dialog .error'), /reason is required/);
  await page.fill('dialog textarea', 'p99 too high for the batch job');
  await page.click('dialog [data-confirm]');
  await page.waitForSelector('[data-testid=rollout-state]:text-is("aborted")');
  const ended = (await page.textContent('[data-testid=rollout]')).replace(/\s+/g, ' ');
  assert.match(ended, /ended.* by alice-approver: p99 too high for the batch job/);
  assert.equal(await page.locator('[data-testid=rollout] [data-action]').count(), 0);
  const status = JSON.parse((await reg.request('GET', '/api/v1/models/ranker/rollout', { token: tokens.auditor })).text);
  assert.equal(status.rollout.state, 'aborted');
  assert.equal(status.rollout.step, 1);
  assert.equal(await page.locator('[data-action=rollback]').count(), 1);
  await page.close();
});

test('rollout panel, shadow: agreement shown, no advance; finish promotes nothing', async () => {
  const started = await reg.request('POST', '/api/v1/models/ranker/rollout', { token: tokens.approver,
    body: { version: '2', mode: 'shadow' } });
  assert.equal(started.status, 201, started.text);
  const { id } = JSON.parse(started.text).rollout;
  const r1 = JSON.parse((await reg.request('GET', '/api/v1/models/ranker/versions/1', { token: tokens.auditor })).text);
  await reg.post('/api/v1/agents/edge-r1/status', tokens.agent, {
    host: 'edge-host-r1', model: 'ranker', version: 1, digest: r1.digest, state: 'serving',
    rollout: { id, step: 0, run: 'run-ui-2', arms: {
      baseline: { requests: 400, errors: 0, latency_buckets: histogram(12, 400) },
      candidate: { requests: 400, errors: 0 } },
    shadow: { compared: 400, equal: 390, differ: 4, dropped: 0, max_abs_diff: 0.002 } } });
  const page = await signIn(tokens.approver);
  await view(page, '#/models/ranker', '[data-testid=rollout-shadow]');
  assert.match(await page.textContent('[data-testid=rollout-shadow]'),
    /compared 400: equal 390, numeric difference 6 \(max 0\.002\), differ 4, dropped 0; agreement 97\.5 %/);
  assert.match(await page.textContent('[data-testid=rollout-arms]'), /no samples yet/);  // the candidate's copies: no latency sent
  assert.equal(await page.locator('ol.steps').count(), 0);
  assert.equal(await page.locator('[data-action=rollout-advance]').count(), 0);
  await page.click('[data-action=rollout-finish]');
  await page.click('dialog [data-confirm]');
  await page.waitForSelector('[data-testid=rollout-state]:text-is("finished")');
  const badges = await page.$$eval('main tbody .badge', (els) => els.map((e) => e.textContent));
  assert.deepEqual(badges.slice(0, 2), ['staging', 'production']);  // v2 still staging: shadow promotes nothing
  await page.close();
});

test('a change made elsewhere shows a notice; refresh shows it', async () => {
  const page = await signIn(tokens.auditor);
  await view(page, '#/models/fraud', 'tbody .badge');
  assert.ok(await page.locator('#live').isHidden());
  // The page follows the event feed (long poll): a training job registers fraud v2.
  reg.cli(['register', 'fraud', reg.bundle('f2', 12), '--metric', 'auc=0.9'], tokens.trainer);
  await page.waitForSelector('#live:not([hidden]) #live-refresh');
  assert.match(await page.textContent('#live'), /fraud v2 model_version\.created by ci-trainer/);
  assert.equal(await page.locator('main a:text-is("v2")').count(), 0);  // not re-rendered under the reader
  await page.click('#live-refresh');
  await page.waitForSelector('main a:text-is("v2")');
  assert.ok(await page.locator('#live').isHidden());
  await page.close();
});

test('no XSS dialog, no script error, no token in the server log', () => {
  assert.deepEqual(dialogs, []);
  assert.deepEqual(pageErrors, []);
  const log = reg.log();
  for (const [role, token] of Object.entries(tokens)) assert.ok(!log.includes(token), `${role} token in the log`);
});
