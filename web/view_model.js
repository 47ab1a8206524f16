// #/models/M: the rollout panel (when the model has a rollout), the versions
// with stage badges and key metrics as columns (searchable, filtered by
// stage, sorted by any column, 50 a page: listing.js), a chart of a chosen
// metric across the newest versions, a compare picker, the policy and the
// stage history.
import { rollbackAction } from './actions.js';
import { api, seg } from './api.js';
import { lineChart } from './chart.js';
import { cliHint } from './cli_hint.js';
import { badge, h, link, section, shortDigest, show, table, time } from './dom.js';
import { apiQuery, listState, pager, pageSize, searchBox, sortHeader } from './listing.js';
import { fetchRollout, rolloutPanel } from './view_rollout.js';

const kMaxMetricColumns = 6;  // more would not fit; the version page lists all
const kMaxVersions = 500;  // the chart and the compare picker: the newest ones
const kPageSize = 50;
const kStages = ['none', 'staging', 'production', 'archived', 'rejected'];

export async function modelView(ctx, model) {
  const base = `/models/${seg(model)}`;
  const st = listState(`/models/${seg(model)}`, ctx.query, { sort: 'version', order: 'desc' }, ['stage']);
  const [m, page, newest, policy, history, rollout] = await Promise.all([
    api(base), api(`${base}/versions?${apiQuery(st, pageSize(st, kPageSize), { stage: st.stage })}`),
    api(`${base}/versions?order=desc&limit=${kMaxVersions}`),
    api(`${base}/policy`), api(`${base}/history`), fetchRollout(model)]);
  // Each version carries its metrics; the chart shows the newest kMaxVersions.
  const versions = [...newest.versions].reverse();
  const metricNames = [...new Set(versions.flatMap((v) => Object.keys(v.metrics)))].sort();

  const columns = [
    { label: 'version', sort: 'version', cell: (v) => link(['models', model, 'versions', v.version], `v${v.version}`) },
    { label: 'stage', sort: 'stage', cell: (v) => (v.deleted ? h('span', {}, badge(v.stage), ' ', h('span', { class: 'badge deleted' }, 'deleted')) : badge(v.stage)) },
    ...metricNames.slice(0, kMaxMetricColumns).map((name) => ({
      label: name, num: true, sort: `metric:${name}`, cell: (v) => show(v.metrics[name]) })),
    { label: 'digest', cell: (v) => shortDigest(v.digest) },
    { label: 'registered', sort: 'created_at', cell: (v) => time(v.created_at) },
    { label: 'by', sort: 'created_by', cell: (v) => v.created_by },
  ];
  const filtered = st.q || st.stage;
  return h('div', {},
    h('h1', {}, 'Model ', h('span', { class: 'name' }, m.name)),
    h('p', { class: 'muted' }, `${m.version_count} versions · production: `,
      m.production_version ? link(['models', model, 'versions', m.production_version], `v${m.production_version}`) : 'none'),
    // While a rollout runs, production is frozen (docs/rollouts.md): no rollback button.
    m.production_version && rollout?.rollout.state !== 'active' ? rollbackAction(ctx, model) : null,
    rolloutPanel(ctx, model, rollout),
    cliHint(['versions', model]),
    section('Versions', h('div', { class: 'toolbar' }, searchBox(st, 'versions-search', 'version, creator or digest'),
      stageFilter(st)),
    table(columns, page.versions, filtered ? 'No version matches.' : 'No versions yet.', { head: sortHeader(st) }),
    pager(st, page.versions.length, page)),
    metricNames.length ? section('Metric across versions', metricChart(versions, metricNames),
      versions.length < m.version_count ? h('p', { class: 'muted' }, `The newest ${versions.length} of ${m.version_count} versions.`) : null) : null,
    versions.length >= 2 ? section('Compare two versions', comparePicker(model, versions)) : null,
    section('Policy', policyView(policy)),
    section('Stage history', table([
      { label: 'time', cell: (c) => time(c.time) },
      { label: 'version', cell: (c) => link(['models', model, 'versions', c.version], `v${c.version}`) },
      { label: 'from', cell: (c) => badge(c.from) },
      { label: 'to', cell: (c) => badge(c.to) },
      { label: 'kind', cell: (c) => (c.kind === 'override'
        ? h('span', { class: 'warn', title: 'an admin promoted it past failing gates' }, 'override') : c.kind) },
      { label: 'by', cell: (c) => c.actor },
      { label: 'reason', cell: (c) => c.reason || '—' },
    ], [...history.history].reverse(), 'No stage changes yet.')));
}

function stageFilter(st) {
  const select = h('select', { id: 'versions-stage', 'aria-label': 'stage' },
    h('option', { value: '' }, 'every stage'),
    kStages.map((s) => h('option', { value: s, selected: st.stage === s }, s)));
  select.addEventListener('change', () => { location.hash = st.href({ stage: select.value }); });
  return select;
}

function metricChart(versions, names) {
  const select = h('select', { id: 'chart-metric', 'aria-label': 'metric' }, names.map((n) => h('option', { value: n }, n)));
  const holder = h('div', { class: 'chart-holder' });
  const draw = () => {
    const name = select.value;
    const points = versions
      .filter((v) => typeof v.metrics[name] === 'number')
      .map((v) => ({ x: v.version, y: v.metrics[name], stage: v.stage }));
    holder.replaceChildren(lineChart(points, { label: `${name} by version` }));
  };
  select.addEventListener('change', draw);
  draw();
  return h('div', {}, h('label', { for: 'chart-metric' }, 'Metric '), select, holder);
}

function comparePicker(model, versions) {
  const options = (selected) => versions.map((v) =>
    h('option', { value: v.version, selected: v.version === selected }, `v${v.version}`));
  const last = versions.at(-1).version;
  const from = h('select', { id: 'compare-from', 'aria-label': 'from' }, options(versions.at(-2).version));
  const to = h('select', { id: 'compare-to', 'aria-label': 'to' }, options(last));
  const go = h('button', { type: 'button', id: 'compare-go' }, 'Compare');
  go.addEventListener('click', () => {
    location.hash = `#/compare/${seg(model)}/${seg(from.value)}/${seg(to.value)}`;
  });
  return h('div', { class: 'row' }, from, ' → ', to, ' ', go);
}

function policyView(p) {
  return h('ul', { class: 'policy' },
    h('li', {}, `Approvals required: ${p.approvals}`),
    h('li', {}, 'Gates: ', p.gates.length ? p.gates.map((g) => h('code', { class: 'gate' }, g)) : 'none'),
    h('li', {}, `Clean code required: ${p.require_clean_code ? 'yes' : 'no'}`),
    h('li', {}, `Data digests required: ${p.require_data_digests ? 'yes' : 'no'}`));
}
