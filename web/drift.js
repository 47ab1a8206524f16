// Monitoring on the version page (docs/monitoring.md): the version's
// reference profile as a table, and per feature an SVG chart of PSI over
// the monitoring windows with the alarm threshold (which moves with each
// window's size), alarmed windows marked. Drawn without a library; names
// from the server are text nodes only.
import { api, ApiError, seg } from './api.js';
import { h, table } from './dom.js';

const kNs = 'http://www.w3.org/2000/svg';
const kMaxCharts = 12;

function s(tag, attrs = {}, text) {
  const el = document.createElementNS(kNs, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

const num = (x, d = 3) => (typeof x === 'number' ? String(+x.toFixed(d)) : '—');

// The profile table; "no reference profile" when the version has none.
export async function profileTable(model, version) {
  let p;
  try {
    p = await api(`/models/${seg(model)}/versions/${seg(version)}/profile`);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404)
      return h('p', { class: 'muted', 'data-testid': 'no-profile' }, 'no reference profile');
    throw e;
  }
  const columns = (p.columns || []).map((c) => ({ ...c, role: 'input' }));
  if (p.output) columns.push({ ...p.output, role: 'output' });
  const range = (c) => c.type === 'numeric' ? `${num(c.min)} – ${num(c.max)}`
    : c.type === 'categorical' ? (c.categories || []).slice(0, 5).join(', ') + ((c.categories || []).length > 5 ? ', …' : '')
      : 'false / true';
  return h('div', { 'data-testid': 'profile' },
    h('p', { class: 'muted' }, `dataset ${p.dataset || '—'}, ${p.rows} rows`),
    table([
      { label: 'column', cell: (c) => c.name },
      { label: 'role', cell: (c) => c.role },
      { label: 'type', cell: (c) => c.type },
      { label: 'missing', cell: (c) => (c.count ? `${num((100 * c.missing) / c.count, 1)} %` : '—'), num: true },
      { label: 'range / top values', cell: range },
      { label: 'bins', cell: (c) => String((c.fractions || []).length), num: true },
    ], columns, 'No columns.'));
}

// One chart per feature (most drifted first): PSI per window and the
// threshold, from GET /models/M/drift?version=V.
export async function driftCharts(model, version) {
  const d = await api(`/models/${seg(model)}/drift?version=${seg(version)}`);
  const v = (d.versions || []).find((x) => String(x.version) === String(version));
  if (!v) return h('p', { class: 'muted' }, 'No monitoring windows reported for this version.');
  if (!v.reference) return h('p', { class: 'muted', 'data-testid': 'no-reference' }, 'no reference: drift is not computed for a version registered without a profile');
  const byFeature = new Map();
  for (const w of d.windows || []) {
    if (typeof w.psi !== 'number') continue;
    if (!byFeature.has(w.feature)) byFeature.set(w.feature, []);
    byFeature.get(w.feature).push(w);
  }
  const worst = (ws) => Math.max(...ws.map((w) => (w.threshold > 0 ? w.psi / w.threshold : 0)));
  const features = [...byFeature.entries()].sort((a, b) => worst(b[1]) - worst(a[1])).slice(0, kMaxCharts);
  return h('div', { class: 'drift-charts', 'data-testid': 'drift-charts' },
    ...features.map(([name, ws]) => h('div', { class: 'drift-chart' },
      h('h3', {}, name, ws.some((w) => w.alarm) ? h('span', { class: 'alarm' }, ' alarm') : ''),
      psiChart(name, ws))));
}

// ws: the feature's windows, oldest first (several agents may share a time).
function psiChart(name, ws, { width = 420, height = 160 } = {}) {
  const pad = { left: 48, right: 12, top: 12, bottom: 28 };
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart drift', role: 'img', 'aria-label': `PSI of ${name}` });
  const xs = ws.map((w) => w.start_ms);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const y1 = Math.max(...ws.map((w) => Math.max(w.psi, w.threshold || 0))) * 1.1 || 1;
  const px = (x) => pad.left + (x1 === x0 ? 0.5 : (x - x0) / (x1 - x0)) * (width - pad.left - pad.right);
  const py = (y) => height - pad.bottom - (y / y1) * (height - pad.top - pad.bottom);
  for (const y of [0, y1 / 2, y1]) {
    svg.append(s('line', { x1: pad.left, y1: py(y), x2: width - pad.right, y2: py(y), class: 'grid' }));
    svg.append(s('text', { x: pad.left - 6, y: py(y) + 4, 'text-anchor': 'end', class: 'axis' }, num(y)));
  }
  for (const [x, anchor] of [[x0, 'start'], [x1, 'end']])
    svg.append(s('text', { x: px(x), y: height - 8, 'text-anchor': anchor, class: 'axis' }, new Date(x).toISOString().slice(5, 16).replace('T', ' ')));
  const line = (key, cls) => s('polyline', { points: ws.map((w) => `${px(w.start_ms)},${py(w[key] || 0)}`).join(' '), class: cls });
  svg.append(line('threshold', 'threshold'));
  svg.append(line('psi', 'line'));
  for (const w of ws) {
    const dot = s('circle', { cx: px(w.start_ms), cy: py(w.psi), r: 3.5, class: w.alarm ? 'dot alarm' : 'dot' });
    dot.append(s('title', {}, `${new Date(w.start_ms).toISOString()} ${w.agent}: PSI ${num(w.psi, 4)}, threshold ${num(w.threshold, 4)}, n ${w.n}${w.alarm ? ' — alarm' : ''}`));
    svg.append(dot);
  }
  return svg;
}
