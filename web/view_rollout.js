// The rollout panel of the model page (docs/rollouts.md): the model's active
// rollout, else its newest ended one, as GET /models/M/rollout reports it —
// mode, state, the two arms with their counts, error rates and latency, the
// shares with the current step, shadow agreement, how many agents report,
// the judge's verdict, who started and ended it; and for approvers the
// advance/finish/abort buttons (actions.js). A model without a rollout (404)
// shows nothing.
import { rolloutActions } from './actions.js';
import { api, seg } from './api.js';
import { h, link, shortDigest, table, time } from './dom.js';

// The rollout status, or null when the model has none.
export async function fetchRollout(model) {
  try {
    return await api(`/models/${seg(model)}/rollout`);
  } catch (e) {
    if (e.status === 404 && e.code === 'NOT_FOUND') return null;
    throw e;
  }
}

const pct = (x) => `${Number(x).toFixed(2).replace(/\.?0+$/, '')} %`;
const ms = (x) => `${Number(x).toFixed(1)} ms`;

export function rolloutPanel(ctx, model, status) {
  if (!status) return null;
  const r = status.rollout;
  const arms = status.arms || {};
  return h('section', { class: 'rollout', 'data-testid': 'rollout', 'data-state': r.state },
    h('h2', {}, `Rollout ${r.id}: `, r.mode, ' ',
      h('span', { class: `rollout-state state-${r.state === 'active' ? 'ok' : 'other'}`, 'data-testid': 'rollout-state' }, r.state)),
    facts([
      ['baseline', versionLink(model, r.baseline)],
      ['candidate', versionLink(model, r.candidate)],
      ['traffic', shares(r)],
      ['routing', r.key_header ? ['by header ', h('code', {}, r.key_header)] : 'by request id'],
      ['started', [time(r.started_at), ` by ${r.started_by}`]],
      r.override_reason ? ['override', h('span', { class: 'warn' }, r.override_reason)] : null,
      r.ended_at ? ['ended', [time(r.ended_at), ` by ${r.ended_by}`, r.reason ? `: ${r.reason}` : '']] : null,
      ['agents', `${status.reporters ?? 0} reporting`],
      status.verdict ? ['verdict', verdict(status.verdict)] : ['verdict', h('span', { class: 'muted' }, 'none yet')],
    ]),
    h('div', { 'data-testid': 'rollout-arms' }, table([
      { label: 'arm', cell: ([name]) => name },
      { label: 'version', cell: ([, a]) => link(['models', model, 'versions', a.version], `v${a.version}`) },
      { label: 'requests', num: true, cell: ([, a]) => String(a.requests ?? 0) },
      { label: 'errors', num: true, cell: ([, a]) => String(a.errors ?? 0) },
      { label: 'error rate', num: true, cell: ([, a]) => pct(100 * (a.error_rate ?? 0)) },
      { label: 'p50', num: true, cell: ([, a]) => ('p50_ms' in a ? ms(a.p50_ms) : h('span', { class: 'muted' }, 'no samples yet')) },
      { label: 'p99', num: true, cell: ([, a]) => ('p99_ms' in a ? ms(a.p99_ms) : h('span', { class: 'muted' }, 'no samples yet')) },
    ], ['baseline', 'candidate'].filter((n) => arms[n]).map((n) => [n, arms[n]]))),
    status.shadow ? shadowView(status.shadow) : null,
    r.state === 'active' ? rolloutActions(ctx, model, r) : null);
}

// [[label, value], ...] (null entries skipped) as the page's fact list.
function facts(rows) {
  return h('dl', { class: 'facts' }, rows.filter(Boolean).map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

function versionLink(model, arm) {
  return [link(['models', model, 'versions', arm.version], `v${arm.version}`), ' ', shortDigest(arm.digest)];
}

// Canary: every step's share, the current one marked; shadow: none; A/B: the share.
function shares(r) {
  if (r.mode === 'shadow') return 'none (the candidate gets copies; the baseline answers)';
  const steps = r.steps_pct || [];
  return h('ol', { class: 'steps', 'data-testid': 'rollout-steps' }, steps.map((s, i) =>
    h('li', { class: i === r.step ? 'current' : null, 'aria-current': i === r.step ? 'step' : null },
      pct(s), i === r.step ? ' (now)' : null)));
}

function shadowView(s) {
  return h('p', { 'data-testid': 'rollout-shadow' },
    `Shadow: compared ${s.compared}: equal ${s.equal}, numeric difference ${s.numeric_diff} (max ${s.max_abs_diff}), ` +
    `differ ${s.differ}, dropped ${s.dropped}; agreement ${pct(100 * (s.agreement ?? 0))}`);
}

function verdict(v) {
  const ok = v.decision === 'continue';
  return h('span', { 'data-testid': 'rollout-verdict' },
    h('span', { class: ok ? 'state-ok' : 'warn' }, v.decision), v.reason ? `: ${v.reason}` : '');
}
