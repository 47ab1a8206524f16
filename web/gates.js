// The promotion checklist of the version page: every check of the model's
// policy (approvals, metric gates, clean code, data digests) as the server
// judges this version now against the current production version
// (GET .../gates, the same evaluation a promotion runs), shown before
// anyone presses Promote.
import { api, seg } from './api.js';
import { h, section, show } from './dom.js';

export async function gateChecklist(model, version) {
  const g = await api(`/models/${seg(model)}/versions/${seg(version)}/gates`);
  const failing = g.checks.filter((c) => !c.ok).length;
  return section('Promotion checklist',
    h('p', { class: g.ready ? 'state-ok' : 'warn', 'data-testid': 'gates-summary' },
      g.ready ? 'Every check passes: a promotion to production would go through.'
        : `${failing} of ${g.checks.length} checks fail: a promotion to production would be refused.`),
    h('p', { class: 'muted' }, `Approvals so far: ${g.approvals} of ${g.approvals_required} required · compared with `,
      g.production_version ? `production v${g.production_version}` : 'no production version'),
    h('ul', { class: 'checklist', 'data-testid': 'gates' }, g.checks.map((c) =>
      h('li', { class: c.ok ? 'pass' : 'fail', 'data-ok': String(c.ok) },
        h('span', { class: 'mark', 'aria-label': c.ok ? 'passes' : 'fails' }, c.ok ? '✓' : '✗'), ' ',
        h('code', {}, c.check),
        'actual' in c ? ` actual ${show(c.actual)}` : null,
        'against' in c ? ` vs ${show(c.against)}` : null,
        c.detail ? h('span', { class: 'muted' }, ` — ${c.detail}`) : null))));
}
