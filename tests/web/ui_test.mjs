// The web UI in a real headless chromium against a real `modelreg serve`
// seeded with the real CLI: sign in, every view on seeded data, the
// approver flow, the rollout panel and its buttons, an auditor without
// actions (and 403 if it tries), the XSS string kept as text, the CSP, and
// the README's screenshot.
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
// a person to look at; only model.png is committed.
async function snapshot(page, name) {
  if (!process.env.SCREENSHOT) return;
  mkdirSync(dirname(process.env.SCREENSHOT), { recursive: true });
  await page.screenshot({ path: join(dirname(process.env.SCREENSHOT), name), fullPage: true });
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
  await view(page, '#/audit/before/4', '[data-testid=audit-pager]');
  const seqs = await page.$$eval('main tbody tr td:first-child', (els) => els.map((e) => e.textContent));
  assert.deepEqual(seqs, ['4', '3', '2', '1']);
  assert.match(await page.textContent('[data-testid=audit-pager]'), /Events 1–4 of \d+/);
  assert.equal(await page.locator('[data-testid=audit-pager] a[href="#/audit"]').count(), 1);
  assert.equal(await page.locator('[data-testid=audit-pager] a[href^="#/audit/before/"]').count(), 0);
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
