// Lineage, files and diff of versions, from the registry's lineage, manifest
// and diff endpoints (the UI ships in the same binary as the API).
import { api, seg } from './api.js';

const kTitle = 'org.opencontainers.image.title';

export async function fetchLineage(model, version) {
  return normalizeLineage(await api(`/models/${seg(model)}/versions/${seg(version)}/lineage`));
}

// The lineage lists serving agents as fleet entries (`id`); the graph reads
// `agent`.
export function normalizeLineage(l) {
  return { ...l, serving: (l.serving || []).map((a) => ({ ...a, agent: a.agent ?? a.id })) };
}

// The files of a version from its OCI manifest: one layer per file.
export async function fetchFiles(model, version) {
  const m = await api(`/models/${seg(model)}/versions/${seg(version)}/manifest`);
  return (m.layers || []).map((l) => ({ path: (l.annotations || {})[kTitle] || '?', size: l.size, digest: l.digest }));
}

export async function fetchDiff(model, from, to) {
  return api(`/models/${seg(model)}/diff?from=${seg(from)}&to=${seg(to)}`);
}
