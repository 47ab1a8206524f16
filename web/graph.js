// The lineage of one version drawn as a left-to-right graph of boxes:
// parent → data → code → this version → agents serving it (→ children).
// Plain elements and text nodes, laid out by CSS (flex columns).
import { age, badge, h, link, show } from './dom.js';

const short = (d) => (d ? String(d).replace(/^sha256:/, '').slice(0, 12) : '—');

export function lineageGraph(l) {
  const cols = [];
  if (l.parents && l.parents.length) cols.push(column('parent', l.parents.map(versionNode)));
  cols.push(column('data', l.data.length ? l.data.map((d) =>
    node('data', d.name, d.uri, d.digest ? `sha256 ${short(d.digest)}` : 'no digest')) : [empty('no datasets')]));
  cols.push(column('code', [l.code ? node('code', l.code.repo || 'code',
    `${l.code.branch ? l.code.branch + ' @ ' : ''}${(l.code.commit || '').slice(0, 12)}`,
    l.code.entrypoint ? `entrypoint ${l.code.entrypoint}` : null,
    l.code.dirty ? h('span', { class: 'warn' }, 'dirty tree') : 'clean tree') : empty('no code recorded')]));
  cols.push(column('version', [node('version current', `${l.model} v${l.version}`, badge(l.stage), `sha256 ${short(l.digest)}`)]));
  cols.push(column('serving', l.serving.length ? l.serving.map((a) =>
    node('agent', a.agent, a.host || null, `${a.state} · v${show(a.version)} · ${age(a.heartbeat_age_s)} ago`))
    : [empty('not served by any agent')]));
  if (l.children && l.children.length) cols.push(column('children', l.children.map(versionNode)));

  const parts = [];
  cols.forEach((c, i) => {
    if (i) parts.push(h('div', { class: 'arrow', 'aria-hidden': 'true' }, '→'));
    parts.push(c);
  });
  return h('div', { class: 'graph', 'data-testid': 'lineage-graph' }, parts);
}

function column(title, nodes) {
  return h('div', { class: 'col', 'data-col': title }, h('div', { class: 'col-title' }, title), nodes);
}

function node(kind, title, ...lines) {
  return h('div', { class: `node ${kind}` }, h('div', { class: 'node-title' }, title),
    lines.filter((x) => x !== null && x !== undefined).map((x) => h('div', { class: 'node-line' }, x)));
}

function empty(text) {
  return h('div', { class: 'node empty' }, text);
}

function versionNode(p) {
  const title = p.model && p.version ? link(['models', p.model, 'versions', p.version], `${p.model} v${p.version}`)
    : `sha256 ${short(p.digest)}`;
  return node('version', title, p.stage ? badge(p.stage) : null);
}
