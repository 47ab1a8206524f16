// #/models: the models the token may see, searchable by name or creator,
// sorted by any column, 50 a page (listing.js); each with its latest and
// production version and when it last changed. An empty list says whether
// there are no models, none matching the search, or none this token may see.
import { api } from './api.js';
import { cliHint } from './cli_hint.js';
import { h, link, table, time } from './dom.js';
import { apiQuery, listState, pager, pageSize, searchBox, sortHeader } from './listing.js';

const kPageSize = 50;

export async function modelsView(ctx) {
  const st = listState('/models', ctx.query, { sort: 'name', order: 'asc' });
  // last_change: the newest of creation, the latest registration and the
  // last stage change, computed by the server.
  const answer = await api(`/models?${apiQuery(st, pageSize(st, kPageSize))}`);
  const version = (m, n) => (n === null || n === undefined ? '—' : link(['models', m.name, 'versions', n], `v${n}`));
  return h('div', {},
    h('h1', {}, 'Models'),
    h('div', { class: 'toolbar' }, searchBox(st, 'models-search', 'name or creator'),
      cliHint(['models'])),
    table([
      { label: 'model', sort: 'name', cell: (m) => link(['models', m.name], m.name) },
      { label: 'versions', sort: 'version_count', cell: (m) => String(m.version_count), num: true },
      { label: 'latest', sort: 'latest_version', cell: (m) => version(m, m.latest_version) },
      { label: 'production', sort: 'production_version', cell: (m) => version(m, m.production_version) },
      { label: 'last change', sort: 'last_change', cell: (m) => time(m.last_change) },
      { label: 'created by', sort: 'created_by', cell: (m) => m.created_by },
    ], answer.models, emptyText(ctx, st), { head: sortHeader(st) }),
    pager(st, answer.models.length, answer));
}

function emptyText(ctx, st) {
  if (st.q) return `No model matches “${st.q}”.`;
  const globs = ctx.whoami?.models || [];
  if (globs.length)
    return `No models this token may see: it is limited to ${globs.join(', ')}. Other models may exist.`;
  return 'No models yet: register one with `modelreg register`.';
}
