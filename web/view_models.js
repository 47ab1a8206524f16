// #/models: every model the token may see, its latest and production
// version and when it last changed (a registration or a stage change).
import { api, seg } from './api.js';
import { h, link, table, time } from './dom.js';

export async function modelsView() {
  const { models } = await api('/models');
  // The last change is the newest of the latest registration and the last
  // stage change; both come from read-role endpoints, one pair per model.
  const rows = await Promise.all(models.map(async (m) => {
    const [versions, history] = await Promise.all([
      api(`/models/${seg(m.name)}/versions`), api(`/models/${seg(m.name)}/history`)]);
    const times = [m.created_at, ...versions.versions.map((v) => v.created_at),
      ...history.history.map((c) => c.time)];
    return { ...m, last_change: times.sort().at(-1) };
  }));
  const version = (m, n) => (n === null || n === undefined ? '—' : link(['models', m.name, 'versions', n], `v${n}`));
  return h('div', {},
    h('h1', {}, 'Models'),
    table([
      { label: 'model', cell: (m) => link(['models', m.name], m.name) },
      { label: 'versions', cell: (m) => String(m.version_count), num: true },
      { label: 'latest', cell: (m) => version(m, m.latest_version) },
      { label: 'production', cell: (m) => version(m, m.production_version) },
      { label: 'last change', cell: (m) => time(m.last_change) },
      { label: 'created by', cell: (m) => m.created_by },
    ], rows, 'No models yet: register one with `modelreg register`.'));
}
