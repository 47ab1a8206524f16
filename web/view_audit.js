// #/audit: the hash-chained audit log, newest first, kShown a page, with
// the result of recomputing the chain (GET /audit/verify) and filters by
// model, actor, action and time (#/audit?model=M&actor=A&action=X&since=T
// &until=T&before=SEQ). A token limited to some models reads only their
// events: it gets a model picker instead of a refusal.
import { api, ApiError } from './api.js';
import { cliHint } from './cli_hint.js';
import { h, link, table, time } from './dom.js';
import { queryString, routeWith } from './listing.js';

const kShown = 1000;
const kFilters = ['model', 'actor', 'action', 'since', 'until'];

export async function auditView(ctx) {
  const f = {};
  for (const k of kFilters) if (ctx.query.get(k)) f[k] = ctx.query.get(k);
  const before = ctx.query.get('before') || '';
  const scoped = (ctx.whoami?.models || []).length > 0;
  const [verify, models] = await Promise.all([verifyOrNull(), scoped ? api('/models') : null]);
  const form = filterForm(f, scoped ? models.models.map((m) => m.name) : null);
  const head = [h('h1', {}, 'Audit log'), verify ? verifyBox(verify) : null, form];
  if (scoped && !f.model)
    return h('div', {}, ...head, h('p', { class: 'muted', 'data-testid': 'audit-pick' },
      `This token reads the audit log of some models only (${ctx.whoami.models.join(', ')}): pick one above.`));

  // The newest kShown events that match, before event `before` when paging back.
  const { events } = await api(`/audit/events?${queryString({ ...f, newest: kShown, before_seq: before })}`);
  const filtered = Object.keys(f).length > 0;
  const older = events.length === kShown ? events[0].seq : null;
  const pager = h('p', { class: 'muted', 'data-testid': 'audit-pager' },
    events.length ? `Events ${events[0].seq}–${events.at(-1).seq}` : 'No events',
    !filtered && verify ? ` of ${verify.checked}. ` : '. ',
    older ? h('a', { href: routeWith('/audit', { ...f, before: older }), 'data-page': 'older' }, '← older') : null,
    older && before ? ' · ' : null,
    before ? h('a', { href: routeWith('/audit', f), 'data-page': 'newest' }, 'newest →') : null);
  return h('div', {}, ...head,
    cliHint(['audit', 'log', ...(f.model ? ['--model', f.model] : []), ...(f.since ? ['--since', f.since] : []),
      ...(f.actor ? ['--actor', f.actor] : []), ...(f.action ? ['--action', f.action] : []),
      ...(f.until ? ['--until', f.until] : [])]),
    older || before ? pager : null,
    table([
      { label: 'seq', cell: (e) => String(e.seq), num: true },
      { label: 'time', cell: (e) => time(e.time) },
      { label: 'actor', cell: (e) => e.actor },
      { label: 'action', cell: (e) => e.action },
      { label: 'model', cell: (e) => (e.model ? link(['models', e.model], e.model) : '—') },
      { label: 'version', cell: (e) => (e.model && e.version ? link(['models', e.model, 'versions', e.version], `v${e.version}`) : '—') },
      { label: 'details', cell: (e) => h('code', { class: 'details' }, JSON.stringify(e.details)) },
    ], [...events].reverse(), filtered ? 'No event matches these filters.' : 'The audit log is empty.'));
}

// The chain check reads every event: tokens limited to some models may not.
async function verifyOrNull() {
  try {
    return await api('/audit/verify');
  } catch (e) {
    if (e instanceof ApiError && e.status === 403) return null;
    throw e;
  }
}

// models: the names to pick from (a token limited to some models), or null
// for a free text field.
function filterForm(f, models) {
  const input = (name, placeholder) => h('input', { type: 'text', id: `audit-${name}`, name, value: f[name] || '',
    placeholder, 'aria-label': name });
  const model = models
    ? h('select', { id: 'audit-model', name: 'model', 'aria-label': 'model' },
      h('option', { value: '' }, 'pick a model'),
      models.map((m) => h('option', { value: m, selected: f.model === m }, m)))
    : input('model', 'model');
  const fields = [model, input('actor', 'actor'), input('action', 'action (e.g. promote)'),
    input('since', 'since (2026-11-23)'), input('until', 'until (2026-11-24T12:00:00Z)')];
  const form = h('form', { class: 'filters', 'data-testid': 'audit-filters' }, fields,
    h('button', { type: 'submit' }, 'Filter'),
    Object.keys(f).length ? h('a', { href: '#/audit' }, 'clear') : null);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const values = {};
    for (const el of fields) values[el.name] = el.value.trim();
    location.hash = routeWith('/audit', values);
  });
  if (models) model.addEventListener('change', () => form.requestSubmit());
  return form;
}

function verifyBox(v) {
  if (v.ok)
    return h('div', { class: 'verify ok', 'data-testid': 'verify' },
      h('strong', {}, 'Chain verified'), `: ${v.checked} events, head `, h('code', {}, v.head_hash || '—'));
  return h('div', { class: 'verify bad', 'data-testid': 'verify', role: 'alert' },
    h('strong', {}, 'Chain BROKEN'), ` at event ${v.first_bad_seq}: ${v.problem} (${v.checked} checked)`);
}
