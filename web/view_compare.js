// #/compare/M/A/B: what changed from version A to version B — params,
// metrics, data, code, environment and files.
import { bytes, h, link, section, shortDigest, show, table } from './dom.js';
import { fetchDiff } from './lineage.js';

export async function compareView(ctx, model, from, to) {
  const d = await fetchDiff(model, from, to);
  const change = (label) => table([
    { label: 'name', cell: (e) => e.name ?? e.field },
    { label: `v${d.from.version}`, cell: (e) => h('span', { class: e.from === null ? 'muted' : 'old' }, show(e.from)) },
    { label: `v${d.to.version}`, cell: (e) => h('span', { class: e.to === null ? 'muted' : 'new' }, show(e.to)) },
  ], label, 'No change.');
  const dataSide = (s) => (s ? `${s.uri}${s.digest ? ' @ ' + s.digest.slice(0, 19) + '…' : ''}` : null);
  const f = d.files;
  return h('div', {},
    h('h1', {}, 'Compare ', link(['models', model], model), ' ',
      link(['models', model, 'versions', d.from.version], `v${d.from.version}`), ' → ',
      link(['models', model, 'versions', d.to.version], `v${d.to.version}`)),
    h('p', { class: 'muted' }, 'Digests: ', shortDigest(d.from.digest), ' → ', shortDigest(d.to.digest)),
    section('Metrics', change(d.metrics)),
    section('Params', change(d.params)),
    section('Data', change(d.data.map((e) => ({ name: e.name, from: dataSide(e.from), to: dataSide(e.to) })))),
    section('Code', change(d.code)),
    section('Environment', change(d.environment)),
    section(`Files (${f.unchanged} unchanged)`, table([
      { label: 'change', cell: (x) => h('span', { class: `chg-${x.kind}` }, x.kind) },
      { label: 'path', cell: (x) => x.path },
      { label: 'size', cell: (x) => x.size, num: true },
      { label: 'digest', cell: (x) => x.digest },
    ], [
      ...f.added.map((x) => ({ kind: 'added', path: x.path, size: bytes(x.size), digest: shortDigest(x.digest) })),
      ...f.removed.map((x) => ({ kind: 'removed', path: x.path, size: bytes(x.size), digest: shortDigest(x.digest) })),
      ...f.changed.map((x) => ({ kind: 'changed', path: x.path, size: `${bytes(x.from.size)} → ${bytes(x.to.size)}`,
        digest: h('span', {}, shortDigest(x.from.digest), ' → ', shortDigest(x.to.digest)) })),
    ], 'No file changed.')));
}
