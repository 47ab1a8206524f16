// #/audit: the hash-chained audit log, newest first, with the result of
// recomputing the chain (GET /audit/verify).
import { api, seg } from './api.js';
import { h, link, table, time } from './dom.js';

// A page of the log: the newest kShown events, or (#/audit/before/N) the
// kShown events before event N+1, with links to older and newer pages.
const kShown = 1000;

export async function auditView(ctx, before) {
  const verify = await api('/audit/verify');
  // Sequence numbers count up from 1 with no gaps (each event hashes its
  // predecessor), so a page is the events after `last - kShown`.
  const last = before === undefined ? verify.checked : Math.min(Number(before), verify.checked);
  const after = Math.max(0, last - kShown);
  const { events } = await api(`/audit/events?after_seq=${seg(after)}&limit=${last - after}`);
  const pager = h('p', { class: 'muted', 'data-testid': 'audit-pager' },
    `Events ${after + 1}–${last} of ${verify.checked}. `,
    after > 0 ? h('a', { href: `#/audit/before/${after}` }, '← older') : null,
    after > 0 && last < verify.checked ? ' · ' : null,
    last < verify.checked ? h('a', { href: '#/audit' }, 'newest →') : null);
  return h('div', {},
    h('h1', {}, 'Audit log'),
    verifyBox(verify),
    after > 0 || last < verify.checked ? pager : null,
    table([
      { label: 'seq', cell: (e) => String(e.seq), num: true },
      { label: 'time', cell: (e) => time(e.time) },
      { label: 'actor', cell: (e) => e.actor },
      { label: 'action', cell: (e) => e.action },
      { label: 'model', cell: (e) => (e.model ? link(['models', e.model], e.model) : '—') },
      { label: 'version', cell: (e) => (e.model && e.version ? link(['models', e.model, 'versions', e.version], `v${e.version}`) : '—') },
      { label: 'details', cell: (e) => h('code', {}, JSON.stringify(e.details)) },
    ], [...events].reverse(), 'The audit log is empty.'));
}

function verifyBox(v) {
  if (v.ok)
    return h('div', { class: 'verify ok', 'data-testid': 'verify' },
      h('strong', {}, 'Chain verified'), `: ${v.checked} events, head `, h('code', {}, v.head_hash || '—'));
  return h('div', { class: 'verify bad', 'data-testid': 'verify', role: 'alert' },
    h('strong', {}, 'Chain BROKEN'), ` at event ${v.first_bad_seq}: ${v.problem} (${v.checked} checked)`);
}
