// #/models: every model the token may see, its latest and production
// version and when it last changed (a registration or a stage change).
import { api } from './api.js';
import { h, link, table, time } from './dom.js';

export async function modelsView() {
  // last_change: the newest of creation, the latest registration and the
  // last stage change, computed by the server (one request for the page).
  const { models: rows } = await api('/models');
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
