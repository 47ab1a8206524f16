// Lineage and diff, from the server's endpoints when it has them, otherwise
// rebuilt in the browser from older endpoints (version detail, the lineage
// record = config blob, the manifest, the fleet) in the same shape, so each
// view has one renderer. Fields the fallback cannot know are left out and
// `partial` says so.
import { api, apiIfAvailable, seg } from './api.js';

const kTitle = 'org.opencontainers.image.title';

export async function fetchLineage(model, version) {
  const base = `/models/${seg(model)}/versions/${seg(version)}`;
  const served = await apiIfAvailable(`${base}/lineage`);
  if (served) return normalizeLineage(served);
  const d = await api(base);
  const [record, fleet] = await Promise.all([
    api(`/models/${seg(model)}/blobs/${seg(d.config_digest)}`),
    api(`/agents?model=${seg(model)}`),
  ]);
  return {
    model, version: d.version, digest: d.digest, stage: d.stage,
    data: record.data || [], code: record.code || null, params: record.params || {},
    metrics: record.metrics || {}, environment: record.environment || {},
    parents: record.parent ? [{ model: null, version: null, digest: record.parent, stage: null }] : [],
    children: null,  // needs a server-side search
    serving: fleet.agents.filter((a) => a.digest === d.digest)
      .map((a) => ({ agent: a.id, host: a.host, state: a.state, version: a.version, digest: a.digest,
        heartbeat_age_s: a.heartbeat_age_s })),
    partial: true,
  };
}

// The server's lineage lists serving agents as fleet entries (`id`); the
// graph reads `agent`. Accepts either, so both server versions render.
export function normalizeLineage(l) {
  return { ...l, serving: (l.serving || []).map((a) => ({ ...a, agent: a.agent ?? a.id })) };
}

// The files of a version from its OCI manifest: one layer per file.
export async function fetchFiles(model, version) {
  const m = await api(`/models/${seg(model)}/versions/${seg(version)}/manifest`);
  return (m.layers || []).map((l) => ({ path: (l.annotations || {})[kTitle] || '?', size: l.size, digest: l.digest }));
}

export async function fetchDiff(model, from, to) {
  const served = await apiIfAvailable(`/models/${seg(model)}/diff?from=${seg(from)}&to=${seg(to)}`);
  if (served) return served;
  const [a, b, fa, fb] = await Promise.all([
    fetchLineage(model, from), fetchLineage(model, to), fetchFiles(model, from), fetchFiles(model, to)]);
  return {
    model,
    from: { version: a.version, digest: a.digest },
    to: { version: b.version, digest: b.digest },
    params: diffMaps(a.params, b.params),
    metrics: diffMaps(a.metrics, b.metrics),
    environment: diffMaps(a.environment, b.environment),
    data: diffData(a.data, b.data),
    code: ['repo', 'commit', 'branch', 'dirty', 'entrypoint']
      .map((field) => ({ field, from: (a.code || {})[field] ?? null, to: (b.code || {})[field] ?? null }))
      .filter((c) => !same(c.from, c.to)),
    files: diffFiles(fa, fb),
    partial: true,
  };
}

const same = (x, y) => JSON.stringify(x) === JSON.stringify(y);

// Changed, added and removed entries; a missing side is null.
function diffMaps(a = {}, b = {}) {
  const names = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return names.map((name) => ({ name, from: a[name] ?? null, to: b[name] ?? null }))
    .filter((e) => !same(e.from, e.to));
}

function diffData(a, b) {
  const side = (list, name) => {
    const d = list.find((x) => x.name === name);
    return d ? { uri: d.uri, digest: d.digest ?? null } : null;
  };
  const names = [...new Set([...a, ...b].map((x) => x.name))].sort();
  return names.map((name) => ({ name, from: side(a, name), to: side(b, name) }))
    .filter((e) => !same(e.from, e.to));
}

function diffFiles(a, b) {
  const before = new Map(a.map((f) => [f.path, f]));
  const after = new Map(b.map((f) => [f.path, f]));
  const out = { added: [], removed: [], changed: [], unchanged: 0 };
  for (const f of b) if (!before.has(f.path)) out.added.push(f);
  for (const f of a) {
    const g = after.get(f.path);
    if (!g) out.removed.push(f);
    else if (g.digest !== f.digest)
      out.changed.push({ path: f.path, from: { size: f.size, digest: f.digest }, to: { size: g.size, digest: g.digest } });
    else out.unchanged++;
  }
  return out;
}
