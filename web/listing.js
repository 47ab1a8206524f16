// Search, sort and paging of the list pages. A list's state (q, sort,
// order, page and the page's own filters) lives in the hash's ?query, so a
// listing can be linked to and the back button returns to the previous
// page. The server sorts, filters and pages (limit + page_token, docs/api.md
// "Lists"); this module only builds the controls and the API query.
import { h } from './dom.js';

// "a=1&b=x" from {a: 1, b: 'x', c: ''}: empty values dropped.
export function queryString(params) {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') qs.set(k, String(v));
  return qs.toString();
}

// The hash route `path` with `params`, empty values dropped.
export function routeWith(path, params) {
  const s = queryString(params);
  return `#${path}${s ? `?${s}` : ''}`;
}

// The list state of a page from ctx.query: {q, sort, order, page, ...filters}
// with `defaults` for what the query lacks; href(changes) is the route with
// those changed (a new search or sort starts again at the first page).
export function listState(path, query, defaults, filters = []) {
  const st = { sort: defaults.sort, order: defaults.order, q: '', page: '' };  // plus filters
  for (const k of ['q', 'sort', 'order', 'page', 'per', ...filters]) if (query.get(k)) st[k] = query.get(k);
  st.href = (changes) => routeWith(path, { ...st, href: undefined, page: '', ...changes,
    sort: changes.sort ?? (st.sort === defaults.sort ? '' : st.sort),
    order: changes.order ?? (st.order === defaults.order ? '' : st.order) });
  return st;
}

// Rows a page: ?per=N (1–200) or the page's default.
export function pageSize(st, fallback) {
  const n = Number(st.per);
  return Number.isInteger(n) && n >= 1 && n <= 200 ? n : fallback;
}

// The API query string of a list state: q, sort, order, limit, page_token
// and `extra` (a page's filters), empty values dropped.
export function apiQuery(st, limit, extra = {}) {
  return queryString({ q: st.q, sort: st.sort, order: st.order, limit, page_token: st.page, ...extra });
}

// A search box that goes to st.href({q}) on Enter or its button.
export function searchBox(st, id, placeholder) {
  const input = h('input', { type: 'search', id, value: st.q, placeholder, 'aria-label': placeholder });
  const go = () => { location.hash = st.href({ q: input.value.trim() }); };
  return h('form', { class: 'search', role: 'search', onsubmit: (ev) => { ev.preventDefault(); go(); } },
    input, h('button', { type: 'submit' }, 'Search'),
    st.q ? h('a', { href: st.href({ q: '' }), class: 'clear' }, 'clear') : null);
}

// Table header options for dom.table: a column with `sort` becomes a link
// that sorts by it (again: the other way round).
export function sortHeader(st) {
  return (c) => {
    if (!c.sort) return c.label;
    const active = st.sort === c.sort;
    const order = active && st.order === 'asc' ? 'desc' : 'asc';
    return h('a', { href: st.href({ sort: c.sort, order }), 'data-sort': c.sort,
      'aria-sort': active ? (st.order === 'asc' ? 'ascending' : 'descending') : null },
    c.label, active ? (st.order === 'asc' ? ' ▲' : ' ▼') : null);
  };
}

// "rows 1–50 of 312", back to the first page, and the next page when the
// server gave a next_page_token.
export function pager(st, shown, answer) {
  if (!st.page && !answer.next_page_token) return null;
  return h('p', { class: 'pager muted', 'data-testid': 'pager' },
    `${shown} shown of ${answer.total}. `,
    st.page ? [h('a', { href: st.href({}), 'data-page': 'first' }, '« first page'), ' · '] : null,
    st.page ? [h('a', { href: '#', 'data-page': 'back', onclick: (ev) => { ev.preventDefault(); history.back(); } },
      '‹ back'), answer.next_page_token ? ' · ' : null] : null,
    answer.next_page_token ? h('a', { href: st.href({ page: answer.next_page_token }), 'data-page': 'next' }, 'next ›') : null);
}
