// Approver actions (approve, promote, reject, rollback; advance, finish or
// abort a rollout). Each opens a dialog that asks for a confirmation, and a
// reason or comment where the API records one, then calls the API;
// an API error (e.g. 422 listing every failing gate) stays in the dialog.
// Offered only to roles that may use them; the server enforces regardless.
import { api, seg } from './api.js';
import { errorBox, h } from './dom.js';

export const mayAct = (role) => role === 'approver' || role === 'admin';

// Buttons for one version, those that fit its stage; null for other roles.
export function versionActions(ctx, model, v) {
  if (!mayAct(ctx.role)) return null;
  const path = `/models/${seg(model)}/versions/${seg(v.version)}`;
  const stage = v.stage;
  const specs = [];
  if (!['rejected', 'archived'].includes(stage))
    specs.push({ id: 'approve', label: 'Approve', field: 'comment',
      explain: `Record your approval of ${model} v${v.version}. Approvals count towards promotion to production.`,
      call: (text) => api(`${path}/approvals`, { method: 'POST', body: { comment: text } }) });
  if (stage === 'none')
    specs.push({ id: 'promote-staging', label: 'Promote to staging', field: 'reason',
      explain: `Move ${model} v${v.version} to staging.`,
      call: (text) => api(`${path}/stage`, { method: 'POST', body: { to: 'staging', reason: text } }) });
  if (stage === 'staging')  // the workflow goes none -> staging -> production
    specs.push({ id: 'promote-production', label: 'Promote to production', field: 'reason',
      explain: `Make ${model} v${v.version} the production version. The current one is archived; every policy gate must pass.`,
      call: (text) => api(`${path}/stage`, { method: 'POST', body: { to: 'production', reason: text } }) });
  if (!['production', 'rejected', 'archived'].includes(stage))
    specs.push({ id: 'reject', label: 'Reject', field: 'reason', required: true, danger: true,
      explain: `Reject ${model} v${v.version}. It can no longer be promoted.`,
      call: (text) => api(`${path}/reject`, { method: 'POST', body: { reason: text } }) });
  if (!specs.length) return null;
  return h('div', { class: 'actions' }, specs.map((s) => actionButton(s, ctx.refresh)));
}

// Rollback of a model's production version; null for other roles.
export function rollbackAction(ctx, model) {
  if (!mayAct(ctx.role)) return null;
  return h('div', { class: 'actions' }, actionButton({
    id: 'rollback', label: 'Roll back production', field: 'reason', required: true, danger: true,
    explain: `Make the previous production version of ${model} production again (no new approvals).`,
    call: (text) => api(`/models/${seg(model)}/rollback`, { method: 'POST', body: { reason: text } }),
  }, ctx.refresh));
}

// Buttons for a model's active rollout (docs/rollouts.md): advance to the
// next step (canary, not at the last one), finish, abort with a reason; null
// for other roles or an ended rollout.
export function rolloutActions(ctx, model, r) {
  if (!mayAct(ctx.role) || r.state !== 'active') return null;
  const path = `/models/${seg(model)}/rollout`;
  const steps = r.steps_pct || [];
  const specs = [];
  if (r.mode === 'canary' && r.step + 1 < steps.length)
    specs.push({ id: 'rollout-advance', label: 'Advance',
      explain: `Send ${steps[r.step + 1]} % of ${model}'s traffic to v${r.candidate.version} (now ${steps[r.step]} %). The counts start again for the new step.`,
      call: () => api(`${path}/advance`, { method: 'POST' }) });
  specs.push({ id: 'rollout-finish', label: 'Finish',
    explain: r.mode === 'shadow'
      ? `End the shadow rollout of ${model} v${r.candidate.version}. Nothing is promoted.`
      : `Make ${model} v${r.candidate.version} the production version; v${r.baseline.version} is archived.`,
    call: () => api(`${path}/finish`, { method: 'POST' }) });
  specs.push({ id: 'rollout-abort', label: 'Abort', field: 'reason', required: true, danger: true,
    explain: `Stop the rollout of ${model} v${r.candidate.version}: all traffic goes back to v${r.baseline.version}.`,
    call: (text) => api(`${path}/abort`, { method: 'POST', body: { reason: text } }) });
  return h('div', { class: 'actions' }, specs.map((s) => actionButton(s, ctx.refresh)));
}

function actionButton(spec, onDone) {
  return h('button', {
    type: 'button', class: spec.danger ? 'action danger' : 'action', 'data-action': spec.id,
    onclick: () => openDialog(spec, onDone),
  }, spec.label);
}

// spec.field: 'comment' or 'reason' asks for text; none asks for a confirmation only.
function openDialog(spec, onDone) {
  const text = spec.field ? h('textarea', { rows: 3, id: 'action-text', 'data-field': spec.field }) : null;
  const out = h('div', { class: 'dialog-out' });
  const cancel = h('button', { type: 'button', 'data-cancel': '' }, 'Cancel');
  const confirm = h('button', { type: 'button', class: spec.danger ? 'danger' : 'primary', 'data-confirm': '' },
    `Confirm: ${spec.label}`);
  const dlg = h('dialog', { class: 'confirm' },
    h('h2', {}, spec.label), h('p', {}, spec.explain),
    text ? h('label', { for: 'action-text' }, spec.field === 'comment' ? 'Comment (optional)'
      : spec.required ? 'Reason (required)' : 'Reason (recorded in the audit log)') : null,
    text, out, h('div', { class: 'buttons' }, cancel, confirm));
  cancel.addEventListener('click', () => dlg.close());
  dlg.addEventListener('close', () => dlg.remove());
  confirm.addEventListener('click', async () => {
    const value = text ? text.value.trim() : '';
    if (spec.required && !value) {
      out.replaceChildren(h('p', { class: 'error' }, 'A reason is required.'));
      return;
    }
    confirm.disabled = true;
    try {
      await spec.call(value);
      dlg.close();
      onDone();
    } catch (e) {
      out.replaceChildren(errorBox(e));
      confirm.disabled = false;
    }
  });
  document.body.append(dlg);
  dlg.showModal();
  (text || confirm).focus();
}
