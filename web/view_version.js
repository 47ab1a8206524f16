// #/models/M/versions/N: one version with its lineage graph, params,
// metrics and environment, reference profile and drift, files, approvals
// (each downloadable) and audit events, the promotion checklist before the
// approver actions that fit its stage, and the CLI commands to copy.
import { versionActions } from './actions.js';
import { api, seg } from './api.js';
import { cliHint } from './cli_hint.js';
import { age, badge, bytes, h, kvTable, link, section, shortDigest, table, time } from './dom.js';
import { downloadLink } from './download.js';
import { driftCharts, profileTable } from './drift.js';
import { gateChecklist } from './gates.js';
import { lineageGraph } from './graph.js';
import { fetchFiles, fetchLineage } from './lineage.js';

export async function versionView(ctx, model, version) {
  const base = `/models/${seg(model)}/versions/${seg(version)}`;
  const v = await api(base);
  // A deleted version (docs/operations.md, retention): its record and
  // lineage stay, its files (manifest, profile) are no longer served, and
  // nothing may move it any more.
  const gone = v.deleted || null;
  const [lineage, files, profile, drift] = await Promise.all([fetchLineage(model, version),
    gone ? [] : fetchFiles(model, version),
    gone ? h('p', { class: 'muted' }, 'Deleted with its files.') : profileTable(model, version),
    driftCharts(model, version)]);
  // Before Promote: what the policy says of this version now.
  const checklist = !gone && ['none', 'staging'].includes(v.stage) ? await gateChecklist(model, v.version) : null;
  return h('div', {},
    h('h1', {}, link(['models', model], model), ` v${v.version} `, badge(v.stage), gone ? ' ' : null,
      gone ? h('span', { class: 'badge deleted' }, 'deleted') : null),
    cliHint(['show', model, String(v.version)]),
    gone ? h('p', { class: 'deleted-note', 'data-testid': 'deleted' },
      `Deleted at ${gone.at} by ${gone.by} because ${gone.reason}. Its files are gone; its lineage, approvals `,
      'and history stay.') : null,
    checklist,
    gone ? null : versionActions(ctx, model, v),
    h('dl', { class: 'facts' },
      h('dt', {}, 'digest'), h('dd', {}, h('code', {}, v.digest)),
      h('dt', {}, 'registered'), h('dd', {}, time(v.created_at), ` by ${v.created_by}`),
      h('dt', {}, 'files'), h('dd', {}, `${v.file_count} files, ${bytes(v.total_bytes)}`)),
    section('Lineage', lineageGraph(lineage)),
    h('div', { class: 'three' },
      section('Params', kvTable(lineage.params)),
      section('Metrics', kvTable(lineage.metrics)),
      section('Environment', kvTable(lineage.environment))),
    section('Reference profile', profile),
    section('Drift (PSI per monitoring window, dashed: alarm threshold)', drift),
    section('Files', table([
      { label: 'path', cell: (f) => f.path },
      { label: 'size', cell: (f) => bytes(f.size), num: true },
      { label: 'digest', cell: (f) => shortDigest(f.digest) },
      { label: '', cell: (f) => (gone ? '' : downloadLink(model, f)) },
    ], files, gone ? 'Its files were deleted.' : 'No files.'), gone ? null : cliHint(['pull', model, String(v.version), `./${model}-v${v.version}`], 'All files, verified:')),
    section('Approvals', table([
      { label: 'approver', cell: (a) => a.approver },
      { label: 'time', cell: (a) => time(a.time) },
      { label: 'comment', cell: (a) => a.comment || '—' },
    ], v.approvals, 'No approvals yet.')),
    section('Serving', table([
      { label: 'agent', cell: (a) => a.agent },
      { label: 'host', cell: (a) => a.host || '—' },
      { label: 'state', cell: (a) => a.state },
      { label: 'heartbeat', cell: (a) => `${age(a.heartbeat_age_s)} ago` },
    ], lineage.serving, 'No agent serves this version.')),
    section('Audit events', await auditEvents(ctx, model, v.version)));
}

// The auditor and admin roles read the audit log; others are told so
// instead of being shown a 403.
async function auditEvents(ctx, model, version) {
  if (!['auditor', 'admin'].includes(ctx.role)) return h('p', { class: 'muted' }, 'Your role cannot read the audit log.');
  // Servers without the version filter ignore it; filtering here covers both.
  const r = await api(`/audit/events?model=${seg(model)}&version=${seg(version)}&limit=10000`);
  const events = r.events.filter((e) => e.version === version);
  return table([
    { label: 'seq', cell: (e) => String(e.seq), num: true },
    { label: 'time', cell: (e) => time(e.time) },
    { label: 'actor', cell: (e) => e.actor },
    { label: 'action', cell: (e) => e.action },
    { label: 'details', cell: (e) => h('code', {}, JSON.stringify(e.details)) },
  ], events, 'No events for this version.');
}
