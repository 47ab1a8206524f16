// #/decisions/ID: which version produced a decision, and everything behind
// it: lineage, approvals, promotions, the agent that served it (the
// decision audit endpoint).
import { api, seg } from './api.js';
import { badge, h, kvTable, link, section, show, table, time } from './dom.js';
import { lineageGraph } from './graph.js';
import { normalizeLineage } from './lineage.js';

export async function decisionView(ctx, id) {
  const input = h('input', { id: 'decision-id', type: 'text', placeholder: 'request id', value: id || '' });
  const form = h('form', {
    class: 'row',
    onsubmit: (ev) => {
      ev.preventDefault();
      if (input.value.trim()) location.hash = `#/decisions/${seg(input.value.trim())}`;
    },
  }, h('label', { for: 'decision-id' }, 'Decision id '), input, ' ', h('button', { type: 'submit' }, 'Look up'));
  const page = h('div', {}, h('h1', {}, 'Decision lookup'), form);
  if (!id) return page;

  const full = await api(`/decisions/${seg(id)}/audit`);
  const d = full.decision;
  page.append(section('Decision', kvTable({
    request_id: d.request_id, model: d.model, version: d.version, digest: d.digest,
    agent: d.agent_id, time: d.time, input_sha256: d.input_sha256, output: d.output,
    // During a rollout (docs/rollouts.md): which arm answered, and a fallback.
    ...(d.arm ? { arm: `${d.arm} of rollout ${d.rollout_id}` } : {}),
    ...(d.fallback ? { fallback: d.fallback } : {}),
  })));
  if (d.version)
    page.append(h('p', {}, 'Produced by ', link(['models', d.model, 'versions', d.version], `${d.model} v${d.version}`)));
  // The version entry carries its lineage; null when the digest is no
  // registered version of the model (shown as such, not guessed).
  const v = full.version;
  page.append(h('div', {},  // h() skips null parts
    v ? section('Version', h('p', {}, badge(v.stage), ` registered ${show(v.created_at)} by ${show(v.created_by)}`))
      : section('Version', h('p', { class: 'muted' }, 'The digest is no registered version of this model.')),
    v ? section('Lineage', lineageGraph(normalizeLineage(v))) : null,
    section('Approvals', table([
      { label: 'approver', cell: (a) => a.approver },
      { label: 'time', cell: (a) => time(a.time) },
      { label: 'comment', cell: (a) => a.comment || '—' },
    ], full.approvals, 'No approvals recorded.')),
    section('Promotions', table([
      { label: 'time', cell: (p) => time(p.time) },
      { label: 'kind', cell: (p) => p.kind },
      { label: 'by', cell: (p) => p.actor },
      { label: 'reason', cell: (p) => p.reason || '—' },
    ], full.promotions, 'No promotions recorded.')),
    section('Agent at the time', full.agent_at_time ? kvTable(full.agent_at_time) : h('p', { class: 'muted' }, 'Unknown.')),
    full.production_at_time ? section('Production release at the time', kvTable(full.production_at_time)) : null));
  return page;
}
