// The actions a person may take on a request (the server's `actions` hint), each with its
// dialog: approve, reject, return, transfer, delegate, add approvers, take back, comment,
// CC, urge, withdraw, terminate, resubmit, copy. Commands carry the version the person
// looked at (If-Match) and an Idempotency-Key.

import { h, replace, uid } from '../core/dom.js';
import { t } from '../core/i18n.js';
import { command, request } from '../core/api.js';
import { go } from '../core/router.js';
import { findNode } from '../core/template.js';
import { personPicker } from './pickers.js';
import { openDialog, toast } from './ui.js';

const ORDER = ['approve', 'reject', 'return', 'transfer', 'add_approvers', 'delegate',
  'take_back', 'submit', 'resubmit', 'urge', 'comment', 'cc', 'copy', 'withdraw', 'terminate'];
const PHONE_SHOWN = 3;
const PRIMARY = { approve: 'primary', reject: 'danger', submit: 'primary', resubmit: 'primary',
  terminate: 'danger-ghost', withdraw: 'danger-ghost' };

/**
 * actionBar({instance, template, me, form, reload}) -> element
 * `form` is the rendered form (its `edits()` go with an approval); `reload` re-reads the
 * request after a command.
 */
export function actionBar(ctx) {
  const allowed = new Set(ctx.instance.actions);
  if (allowed.has('save_draft')) allowed.add('submit');
  const names = ORDER.filter((name) => allowed.has(name));
  const buttons = names.map((name) => h('button', {
    type: 'button', class: ['btn', PRIMARY[name] ? `btn-${PRIMARY[name]}` : null],
    dataset: { action: name }, onclick: () => run(name, ctx),
  }, t(`action.${name}`)));
  if (!buttons.length) return null;
  // on a phone the bar keeps the first actions and "More" holds the rest (the style sheet
  // hides the extra buttons and shows "More" below 720 px)
  const extra = names.length > PHONE_SHOWN + 1 ? names.slice(PHONE_SHOWN) : [];
  for (const button of extra.length ? buttons.slice(PHONE_SHOWN) : []) {
    button.classList.add('is-extra');
  }
  return h('div', { class: 'action-bar', role: 'toolbar', 'aria-label': t('request.actions') },
    buttons, extra.length ? moreMenu(extra, ctx) : null);
}

/** "More": a menu of the actions that do not fit a phone's bar. */
function moreMenu(names, ctx) {
  const menu = h('div', { class: 'action-menu', role: 'menu', id: uid('more'),
    'aria-label': t('action.moreTitle'), hidden: true });
  const button = h('button', { type: 'button', class: 'btn action-more-btn',
    'aria-haspopup': 'menu', 'aria-expanded': 'false', 'aria-controls': menu.id,
    onclick: () => (menu.hidden ? open() : close()) }, t('action.more'));
  const outside = (event) => { if (!wrap.contains(event.target)) close(); };
  function open() {
    menu.hidden = false;
    button.setAttribute('aria-expanded', 'true');
    document.addEventListener('pointerdown', outside);
    menu.querySelector('button').focus();
  }
  function close(refocus = false) {
    menu.hidden = true;
    button.setAttribute('aria-expanded', 'false');
    document.removeEventListener('pointerdown', outside);
    if (refocus) button.focus();
  }
  replace(menu, names.map((name) => h('button', { type: 'button', role: 'menuitem',
    class: ['action-menu-item', PRIMARY[name] ? `is-${PRIMARY[name]}` : null],
    dataset: { action: name }, onclick: () => { close(); run(name, ctx); } },
  t(`action.${name}`))));
  menu.addEventListener('keydown', (event) => {
    const items = [...menu.querySelectorAll('button')];
    const at = items.indexOf(document.activeElement);
    if (event.key === 'Escape') close(true);
    else if (event.key === 'ArrowDown') items[(at + 1) % items.length].focus();
    else if (event.key === 'ArrowUp') items[(at - 1 + items.length) % items.length].focus();
    else return;
    event.preventDefault();
  });
  const wrap = h('div', { class: 'action-more' }, button, menu);
  return wrap;
}

function myTask(ctx) {
  return ctx.instance.pending.find((task) => task.assignee === ctx.me.principal_id) || null;
}

function commentBox(label, required) {
  const box = h('textarea', { id: uid('comment'), rows: 3, required,
    placeholder: required ? t('action.commentRequired') : t('action.commentOptional') });
  return { box, row: h('div', { class: 'row' }, h('label', { for: box.id }, label), box) };
}

function needsComment(ctx, task, decision) {
  const node = task ? findNode(ctx.template, task.node_id) : null;
  const rule = (node && node.comment_required) || { approve: false, reject: true };
  return !!rule[decision];
}

function peopleRow(label, multiple) {
  const picker = personPicker({ label, multiple });
  picker.input.id = uid('who');
  return { picker, row: h('div', { class: 'row' }, h('label', { for: picker.input.id }, label),
    picker.element) };
}

async function finish(ctx, promise, message) {
  let outcome;
  try {
    outcome = await promise;
  } catch (error) {
    if (error.code === 'version_conflict') {
      await ctx.reload();
      throw new Error(t('action.conflict'));
    }
    throw error;
  }
  toast(message, 'success');
  await ctx.reload();
  return outcome;
}

/** A refusal the person can act on is shown in the dialog (it stays open). */
function check(comment, required) {
  if (required && !comment.value.trim()) throw new Error(t('action.commentRequired'));
  return comment.value.trim() || null;
}

async function run(name, ctx) {
  const { instance } = ctx;
  const id = encodeURIComponent(instance.id);
  const task = myTask(ctx);
  const taskPath = task ? `tasks/${encodeURIComponent(task.id)}` : '';
  const opts = { ifMatch: instance.version };
  const label = t(`action.${name}`);
  const simple = (title, body, kind, send) => openDialog({ title, body, actions: [
    { label, kind, submit: true, run: send }] });
  switch (name) {
    case 'approve': {
      const comment = commentBox(t('action.opinion'), needsComment(ctx, task, 'approve'));
      const chooser = h('div', {});
      let chosen = null;
      await simple(t('action.approveTitle'), [comment.row, chooser], 'primary', async () => {
        const body = { comment: check(comment.box, needsComment(ctx, task, 'approve')),
          edits: ctx.form ? ctx.form.edits() : {} };
        if (chosen) {
          const ids = [].concat(chosen.picker.get() || []);
          if (!ids.length) throw new Error(t('action.chooseFirst'));
          body.choices = { [chosen.node]: ids };
        }
        try {
          await finish(ctx, command(`${taskPath}/approve`, body, opts), t('action.approved'));
        } catch (error) {
          if (error.code === 'form_invalid' && ctx.form) {
            ctx.form.setErrors(error.errors);
          }
          if (error.code === 'choice_required' && !chosen) {
            const node = findNode(ctx.template, error.details.node_id);
            const rule = node && (node.assignees || []).find((r) => r.type ===
              'previous_approver_choice');
            chosen = { node: error.details.node_id, ...peopleRow(t('action.chooseNext', {
              name: (node && node.name) || error.details.node_id }), !!(rule && rule.multiple)) };
            chooser.append(chosen.row);
            chosen.picker.input.focus();
            return false;
          }
          throw error;
        }
        return true;
      });
      return;
    }
    case 'reject': {
      const required = needsComment(ctx, task, 'reject');
      const comment = commentBox(t('action.opinion'), required);
      await simple(t('action.rejectTitle'), comment.row, 'danger', () => finish(ctx,
        command(`${taskPath}/reject`, { comment: check(comment.box, required) }, opts),
        t('action.rejected')));
      return;
    }
    case 'return': {
      const comment = commentBox(t('action.comment'), false);
      const earlier = [...new Map(instance.tasks.filter((x) => x.status === 'approved'
        && x.node_id !== (task && task.node_id)).map((x) => [x.node_id, x.node_name]))];
      const target = h('select', { id: uid('to') },
        h('option', { value: '' }, t('action.toApplicant')),
        earlier.map(([node, nodeName]) => h('option', { value: node }, nodeName)));
      await simple(t('action.returnTitle'), [h('div', { class: 'row' },
        h('label', { for: target.id }, t('action.returnTo')), target), comment.row], 'primary',
      () => finish(ctx, command(`${taskPath}/return`, { to_node: target.value || null,
        comment: check(comment.box, false) }, opts), t('action.returned')));
      return;
    }
    case 'transfer':
    case 'delegate': {
      const who = peopleRow(t('action.to'), false);
      const comment = commentBox(t('action.comment'), false);
      await simple(t(`action.${name}Title`), [who.row, comment.row], 'primary', () => {
        if (!who.picker.get()) throw new Error(t('action.chooseFirst'));
        return finish(ctx, command(`${taskPath}/${name}`, { to: who.picker.get(),
          comment: check(comment.box, false) }, opts), t('action.done'));
      });
      return;
    }
    case 'add_approvers': {
      const who = peopleRow(t('action.people'), true);
      const before = h('input', { type: 'radio', name: 'position', value: 'before' });
      const after = h('input', { type: 'radio', name: 'position', value: 'after', checked: true });
      const comment = commentBox(t('action.comment'), false);
      await simple(t('action.add_approvers'), [who.row,
        h('fieldset', { class: 'choices choices-one' }, h('legend', {}, t('action.position')),
          h('label', { class: 'choice' }, before, h('span', {}, t('action.before'))),
          h('label', { class: 'choice' }, after, h('span', {}, t('action.after')))),
        comment.row], 'primary', () => {
        if (!who.picker.get().length) throw new Error(t('action.chooseFirst'));
        return finish(ctx, command(`${taskPath}/add-approvers`, { people: who.picker.get(),
          position: before.checked ? 'before' : 'after', comment: check(comment.box, false) },
        opts), t('action.done'));
      });
      return;
    }
    case 'take_back': {
      const mine = instance.tasks.filter((x) => x.assignee === ctx.me.principal_id
        && x.status === 'approved').pop();
      const comment = commentBox(t('action.comment'), false);
      await simple(t('action.take_back'), [h('p', {}, t('action.takeBackHint')), comment.row],
        'primary', () => finish(ctx, command(`tasks/${encodeURIComponent(mine.id)}/take-back`,
          { comment: check(comment.box, false) }, opts), t('action.done')));
      return;
    }
    case 'comment': {
      const comment = commentBox(t('action.comment'), true);
      await simple(t('action.comment'), comment.row, 'primary', () => finish(ctx,
        command(`instances/${id}/comments`, { text: check(comment.box, true) }), t('action.done')));
      return;
    }
    case 'cc': {
      const who = peopleRow(t('action.people'), true);
      const comment = commentBox(t('action.comment'), false);
      await simple(t('action.cc'), [who.row, comment.row], 'primary', () => {
        if (!who.picker.get().length) throw new Error(t('action.chooseFirst'));
        return finish(ctx, command(`instances/${id}/cc`, { people: who.picker.get(),
          comment: check(comment.box, false) }), t('action.done'));
      });
      return;
    }
    case 'urge': {
      const comment = commentBox(t('action.comment'), false);
      await simple(t('action.urgeTitle'), comment.row, 'primary', () => finish(ctx,
        command(`instances/${id}/urge`, { comment: check(comment.box, false) }),
        t('action.urged')));
      return;
    }
    case 'withdraw':
    case 'terminate': {
      const comment = commentBox(t('action.comment'), false);
      await simple(t(`action.${name}Title`), comment.row, 'danger', () => finish(ctx,
        command(`instances/${id}/${name}`, { comment: check(comment.box, false) }, opts),
        t('action.done')));
      return;
    }
    case 'copy': {
      const outcome = await request(`instances/${id}/copy`, { method: 'POST' });
      toast(t('action.copied'), 'success');
      go(['new', instance.template_key], { draft: outcome.instance_id });
      return;
    }
    case 'resubmit':
      go(['new', instance.template_key], { resubmit: instance.id });
      return;
    case 'submit':
      go(['new', instance.template_key], { draft: instance.id });
      return;
    default:
  }
}
