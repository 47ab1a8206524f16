// Entry point: sign-in, navigation and the hash router. Each view is a
// function (ctx, ...route params) -> Promise<Node> in its own module; the
// router shows what it returns, or the API error it threw. ctx is
// {role, refresh, query, whoami}: the signed-in role (which actions to
// offer; the server enforces regardless), a way to re-render after an
// action, the route's ?query (search, sort, page: listing.js) and the
// token's identity (the models it is limited to).
import { api, ApiError, session } from './api.js';
import { errorBox, h } from './dom.js';
import { auditView } from './view_audit.js';
import { compareView } from './view_compare.js';
import { decisionView } from './view_decision.js';
import { fleetView } from './view_fleet.js';
import { describe, follow } from './live.js';
import { modelView } from './view_model.js';
import { modelsView } from './view_models.js';
import { versionView } from './view_version.js';

const kRoutes = [
  [/^\/models$/, modelsView],
  [/^\/models\/([^/]+)$/, modelView],
  [/^\/models\/([^/]+)\/versions\/([^/]+)$/, versionView],
  [/^\/compare\/([^/]+)\/([^/]+)\/([^/]+)$/, compareView],
  [/^\/audit$/, auditView],
  [/^\/fleet$/, fleetView],
  [/^\/decisions(?:\/([^/]+))?$/, decisionView],
];

const main = document.getElementById('main');
let whoami = null;  // {name, role, models} of the signed-in token
let renderSeq = 0;  // a slow answer for a page already left is dropped
let live = null;    // the event feed follower while signed in

// Shows the current route (again, after an action changed something).
async function render() {
  const seq = ++renderSeq;
  hideNotice();
  if (!session.token()) return showSignIn();
  if (!whoami) {
    try {
      whoami = await api('/whoami');
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) session.signOut();
      return showSignIn(e);
    }
    showIdentity();
    startLive();
  }
  const path = location.hash.replace(/^#/, '') || '/models';
  let node;
  try {
    node = await route(path);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {  // revoked or expired meanwhile
      session.signOut();
      whoami = null;
      return showSignIn(e);
    }
    node = h('div', {}, errorBox(e));
  }
  if (seq !== renderSeq) return;
  main.replaceChildren(node);
  main.dataset.route = path;  // tells tests (and scripts) which page is shown
}

function route(full) {
  const [path, qs = ''] = full.split('?');
  for (const [re, view] of kRoutes) {
    const m = path.match(re);
    if (!m) continue;
    const ctx = { role: whoami.role, refresh: render, query: new URLSearchParams(qs), whoami };
    return view(ctx, ...m.slice(1).map((x) => (x === undefined ? undefined : decodeURIComponent(x))));
  }
  return Promise.resolve(h('p', { class: 'error' }, `No page at ${path}.`));
}

function showSignIn(err) {
  if (live) live.stop();
  live = null;
  document.getElementById('nav').hidden = true;
  document.getElementById('signout').hidden = true;
  document.getElementById('who').textContent = '';
  const input = h('input', { type: 'password', id: 'token', autocomplete: 'off', placeholder: 'mr_…', required: true });
  const form = h('form', {
    class: 'signin',
    onsubmit: (ev) => {
      ev.preventDefault();  // nothing is posted anywhere; the token stays in this tab
      session.signIn(input.value.trim());
      whoami = null;
      render();
    },
  },
  h('h1', {}, 'Sign in'),
  h('p', {}, 'Paste an API token (modelreg token create). It is kept in this tab only (sessionStorage).'),
  h('label', { for: 'token' }, 'Token'), input,
  h('button', { type: 'submit', id: 'signin' }, 'Sign in'),
  err ? errorBox(err) : null);
  main.replaceChildren(form);
  input.focus();
}

// Changes made elsewhere (another person, a training job, an agent) while
// a page is open: a notice with a refresh button, never a re-render under
// the reader's hands (a half-written comment stays).
const notice = document.getElementById('live');
let pending = [];
function startLive() {
  if (live) live.stop();
  pending = [];
  live = follow((events) => {
    pending.push(...events);
    const last = pending.at(-1);
    const text = pending.length === 1 ? 'A change' : `${pending.length} changes`;
    notice.replaceChildren(
      h('span', {}, `${text} since this page was shown: `, h('span', { class: 'name' }, describe(last))),
      ' ',
      h('button', { type: 'button', id: 'live-refresh' }, 'Refresh'));
    notice.querySelector('#live-refresh').addEventListener('click', render);
    notice.hidden = false;
  });
}
function hideNotice() {
  pending = [];
  notice.hidden = true;
  notice.replaceChildren();
}

function showIdentity() {
  const mayAudit = ['auditor', 'admin'].includes(whoami.role);
  for (const a of document.querySelectorAll('#nav [data-needs="audit"]')) a.hidden = !mayAudit;
  document.getElementById('nav').hidden = false;
  document.getElementById('signout').hidden = false;
  document.getElementById('who').textContent = `${whoami.name} (${whoami.role})`;
}

document.getElementById('signout').addEventListener('click', () => {
  if (live) live.stop();
  live = null;
  session.signOut();
  whoami = null;
  render();
});
window.addEventListener('hashchange', render);
render();
