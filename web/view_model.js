// #/models/M: the rollout panel (when the model has a rollout), the versions
// with stage badges and key metrics as columns, a chart of a chosen metric
// across versions, a compare picker, the policy and the stage history.
import { rollbackAction } from './actions.js';
import { api, seg } from './api.js';
import { lineChart } from './chart.js';
import { badge, h, link, section, shortDigest, show, table, time } from './dom.js';
import { fetchRollout, rolloutPanel } from './view_rollout.js';

const kMaxMetricColumns = 6;  // more would not fit; the version page lists all
const kMaxVersions = 500;

export async function modelView(ctx, model) {
  const base = `/models/${seg(model)}`;
  const [m, list, policy, history, rollout] = await Promise.all([
    api(base), api(`${base}/versions`), api(`${base}/policy`), api(`${base}/history`), fetchRollout(model)]);
  // The list carries each version's metrics; the newest kMaxVersions are shown.
  const versions = list.versions.slice(-kMaxVersions);
  const metricNames = [...new Set(versions.flatMap((v) => Object.keys(v.metrics)))].sort();

  const columns = [
    { label: 'version', cell: (v) => link(['models', model, 'versions', v.version], `v${v.version}`) },
    { label: 'stage', cell: (v) => badge(v.stage) },
    ...metricNames.slice(0, kMaxMetricColumns).map((name) => ({
      label: name, num: true, cell: (v) => show(v.metrics[name]) })),
    { label: 'digest', cell: (v) => shortDigest(v.digest) },
    { label: 'registered', cell: (v) => time(v.created_at) },
    { label: 'by', cell: (v) => v.created_by },
  ];
  return h('div', {},
    h('h1', {}, 'Model ', h('span', { class: 'name' }, m.name)),
    h('p', { class: 'muted' }, `${m.version_count} versions · production: `,
      m.production_version ? link(['models', model, 'versions', m.production_version], `v${m.production_version}`) : 'none'),
    // While a rollout runs, production is frozen (docs/rollouts.md): no rollback button.
    m.production_version && rollout?.rollout.state !== 'active' ? rollbackAction(ctx, model) : null,
    rolloutPanel(ctx, model, rollout),
    section('Versions', table(columns, [...versions].reverse(), 'No versions yet.'),
      versions.length < list.versions.length ? h('p', { class: 'muted' }, `The newest ${versions.length} of ${list.versions.length} versions.`) : null),
    metricNames.length ? section('Metric across versions', metricChart(versions, metricNames)) : null,
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
