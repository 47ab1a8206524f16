// #/fleet: every serving agent, what it serves, its state and how long ago
// it last reported.
import { api } from './api.js';
import { age, h, link, shortDigest, table } from './dom.js';

// Servers that know each agent's reporting period say whether it has gone
// silent; for older ones, a heartbeat older than this is flagged.
const kStaleSeconds = 120;
const silent = (a) => a.silent ?? a.heartbeat_age_s > kStaleSeconds;

export async function fleetView() {
  const { agents } = await api('/agents');
  return h('div', {},
    h('h1', {}, 'Fleet'),
    table([
      { label: 'agent', cell: (a) => a.id },
      { label: 'host', cell: (a) => a.host || '—' },
      { label: 'model', cell: (a) => link(['models', a.model], a.model) },
      { label: 'stage', cell: (a) => a.stage },
      { label: 'version', cell: (a) => (a.version ? link(['models', a.model, 'versions', a.version], `v${a.version}`) : '—') },
      { label: 'digest', cell: (a) => shortDigest(a.digest) },
      { label: 'state', cell: (a) => h('span', { class: `state state-${a.state === 'serving' ? 'ok' : 'other'}` }, a.state || '—') },
      { label: 'heartbeat', cell: (a) => h('span', { class: silent(a) ? 'warn' : null }, `${age(a.heartbeat_age_s)} ago${silent(a) ? ' (silent)' : ''}`) },
      { label: 'last error', cell: (a) => a.last_error || '—' },
    ], agents, 'No agent has reported yet.'));
}
