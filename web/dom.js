// Building DOM nodes safely. Every string from the server becomes a text
// node (createTextNode / textContent); nothing here parses HTML, so a model
// param like `<img src=x onerror=alert(1)>` is shown, never run.

// h('a', {href: '#/x', class: 'c', onclick: fn}, 'text', node, [more]) -> Element.
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// Hash-route link: every path segment encoded, the text shown as text.
export function link(segments, text) {
  return h('a', { href: '#/' + segments.map((s) => encodeURIComponent(String(s))).join('/') }, text);
}

// columns: [{label, cell: row => Node|string, num: bool}]; head(column)
// draws a header cell's content (listing.js: a sort link). The table sits
// in a wrapper that scrolls sideways on a narrow screen.
export function table(columns, rows, empty = 'Nothing yet.', { head = (c) => c.label } = {}) {
  if (!rows.length) return h('p', { class: 'muted empty' }, empty);
  return h('div', { class: 'table-wrap' }, h('table', {},
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { class: c.num ? 'num' : null }, head(c))))),
    h('tbody', {}, rows.map((r) =>
      h('tr', {}, columns.map((c) => h('td', { class: c.num ? 'num' : null }, c.cell(r))))))));
}

// Key/value pairs of a plain object as a two-column table.
export function kvTable(obj, empty = 'None recorded.') {
  const rows = Object.entries(obj || {}).sort(([a], [b]) => (a < b ? -1 : 1));
  return table([{ label: 'name', cell: ([k]) => k }, { label: 'value', cell: ([, v]) => show(v) }], rows, empty);
}

const kStages = new Set(['none', 'staging', 'production', 'archived', 'rejected']);
export function badge(stage) {
  const s = String(stage ?? 'none');
  return h('span', { class: `badge stage-${kStages.has(s) ? s : 'other'}`, 'data-stage': s }, s);
}

export function section(title, ...children) {
  return h('section', {}, h('h2', {}, title), ...children);
}

export function show(v) {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export function shortDigest(d) {
  const s = String(d ?? '');
  return h('code', { title: s }, s.startsWith('sha256:') ? s.slice(0, 19) + '…' : s);
}

export function bytes(n) {
  if (typeof n !== 'number') return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let x = n;
  while (x >= 1024 && i < units.length - 1) { x /= 1024; i++; }
  return i === 0 ? `${n} B` : `${x.toFixed(1)} ${units[i]}`;
}

export function time(iso) {
  if (!iso) return '—';
  return h('time', { datetime: iso, title: iso }, String(iso).replace('T', ' ').replace(/\.\d+Z$/, 'Z'));
}

export function age(seconds) {
  if (typeof seconds !== 'number') return '—';
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} d`;
}

// An API error as the page shows it: status, message, and each detail (e.g. failing gates).
export function errorBox(err) {
  const details = err.details || [];
  return h('div', { class: 'error', role: 'alert' },
    h('strong', {}, err.status ? `${err.status} ${err.code}` : 'Error'), ': ', err.message || String(err),
    details.length ? h('ul', {}, details.map((d) => h('li', {}, show(d)))) : null);
}

