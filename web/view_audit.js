// #/audit: the hash-chained audit log, newest first, with the result of
// recomputing the chain (GET /audit/verify).
import { api, seg } from './api.js';
import { h, link, table, time } from './dom.js';

const kPageSize = 1000;
const kMaxPages = 10;  // the page shows at most the first 10 000 events

export async function auditView() {
  const [verify, events] = await Promise.all([api('/audit/verify'), allEvents()]);
  return h('div', {},
    h('h1', {}, 'Audit log'),
    verifyBox(verify),
    events.truncated ? h('p', { class: 'muted' }, `Showing the first ${events.list.length} events.`) : null,
    table([
      { label: 'seq', cell: (e) => String(e.seq), num: true },
      { label: 'time', cell: (e) => time(e.time) },
      { label: 'actor', cell: (e) => e.actor },
      { label: 'action', cell: (e) => e.action },
      { label: 'model', cell: (e) => (e.model ? link(['models', e.model], e.model) : '—') },
      { label: 'version', cell: (e) => (e.model && e.version ? link(['models', e.model, 'versions', e.version], `v${e.version}`) : '—') },
      { label: 'details', cell: (e) => h('code', {}, JSON.stringify(e.details)) },
    ], [...events.list].reverse(), 'The audit log is empty.'));
}

async function allEvents() {
  const list = [];
  let after = 0;
  for (let page = 0; page < kMaxPages; page++) {
    const r = await api(`/audit/events?after_seq=${seg(after)}&limit=${kPageSize}`);
    list.push(...r.events);
    if (r.next_after_seq === undefined) return { list, truncated: false };
    after = r.next_after_seq;
  }
  return { list, truncated: true };
}

function verifyBox(v) {
  if (v.ok)
    return h('div', { class: 'verify ok', 'data-testid': 'verify' },
      h('strong', {}, 'Chain verified'), `: ${v.checked} events, head `, h('code', {}, v.head_hash || '—'));
  return h('div', { class: 'verify bad', 'data-testid': 'verify', role: 'alert' },
    h('strong', {}, 'Chain BROKEN'), ` at event ${v.first_bad_seq}: ${v.problem} (${v.checked} checked)`);
}
