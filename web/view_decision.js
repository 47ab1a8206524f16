// #/decisions/ID: which version produced a decision, and everything behind
// it: lineage, approvals, promotions, the agent that served it. Uses the
// decision audit endpoint when the server has it, else the decision record
// alone.
import { api, apiIfAvailable, seg } from './api.js';
import { badge, h, kvTable, link, notAvailable, section, show, table, time } from './dom.js';
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

  const full = await apiIfAvailable(`/decisions/${seg(id)}/audit`);
  const d = full ? full.decision : await api(`/decisions/${seg(id)}`);
  page.append(section('Decision', kvTable({
    request_id: d.request_id, model: d.model, version: d.version, digest: d.digest,
    agent: d.agent_id, time: d.time, input_sha256: d.input_sha256, output: d.output,
  })));
  if (d.version)
    page.append(h('p', {}, 'Produced by ', link(['models', d.model, 'versions', d.version], `${d.model} v${d.version}`)));
  if (!full) {
    page.append(notAvailable('Lineage, approvals, promotions and the serving agent of a decision'));
    return page;
  }
  // The version's lineage: under `lineage`, or (as main serves it) the
  // version entry itself carries the lineage fields.
  const lineage = full.lineage || full.version;
  page.append(h('div', {},  // h() skips the parts this server did not send
    full.version ? section('Version', h('p', {}, badge(full.version.stage),
      ` registered ${show(full.version.created_at)} by ${show(full.version.created_by)}`)) : null,
    lineage ? section('Lineage', lineageGraph(normalizeLineage(lineage))) : null,
    full.approvals ? section('Approvals', table([
      { label: 'approver', cell: (a) => a.approver },
      { label: 'time', cell: (a) => time(a.time) },
      { label: 'comment', cell: (a) => a.comment || '—' },
    ], full.approvals, 'No approvals recorded.')) : null,
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
