// Small shared pieces: dialogs, toasts, status badges, avatars, empty and error states.

import { h, icon, replace, uid } from '../core/dom.js';
import { t } from '../core/i18n.js';

// ---- toasts -----------------------------------------------------------------------------

function toastHost() {
  let host = document.getElementById('toasts');
  if (!host) {
    host = h('div', { id: 'toasts', class: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.append(host);
  }
  return host;
}

/** A short message that goes away by itself; `kind` is info, success or error. */
export function toast(message, kind = 'info', ms = 3500) {
  const el = h('div', { class: ['toast', `toast-${kind}`] }, message);
  toastHost().append(el);
  setTimeout(() => el.remove(), ms);
  return el;
}

// ---- dialogs ----------------------------------------------------------------------------

/**
 * openDialog({title, body, actions: [{label, kind: 'primary'|'danger'|'default', run}]})
 * `run` may be async; it answers false to keep the dialog open (e.g. the server refused and
 * the message is shown in it). Resolves with the label of the action that closed it, or
 * null when cancelled.
 */
export function openDialog({ title, body, actions = [], wide = false }) {
  return new Promise((resolve) => {
    const titleId = uid('dlg');
    const error = h('p', { class: 'dialog-error', role: 'alert', hidden: true });
    const buttons = actions.map((action) => h('button', {
      type: action.submit ? 'submit' : 'button',
      class: ['btn', action.kind ? `btn-${action.kind}` : null],
      onclick: async (event) => {
        event.preventDefault();
        for (const b of buttons) b.disabled = true;
        error.hidden = true;
        try {
          const result = action.run ? await action.run() : true;
          if (result !== false) close(action.label);
        } catch (problem) {
          showError(problem.message || String(problem));
        } finally {
          for (const b of buttons) b.disabled = false;
        }
      },
    }, action.label));
    const cancel = h('button', { type: 'button', class: 'btn', onclick: () => close(null) },
      t('common.cancel'));
    const dialog = h('dialog', { class: ['dialog', wide ? 'dialog-wide' : null],
      'aria-labelledby': titleId },
    h('form', { method: 'dialog', class: 'dialog-form', onsubmit: (e) => e.preventDefault() },
      h('header', { class: 'dialog-head' },
        h('h2', { id: titleId }, title),
        h('button', { type: 'button', class: 'icon-btn', 'aria-label': t('common.close'),
          onclick: () => close(null) }, icon('close'))),
      h('div', { class: 'dialog-body' }, body, error),
      h('footer', { class: 'dialog-foot' }, cancel, ...buttons)));
    function showError(message) {
      replace(error, message);
      error.hidden = false;
    }
    dialog.showError = showError;
    let done = false;
    function close(value) {
      if (done) return;
      done = true;
      dialog.close();
      dialog.remove();
      resolve(value);
    }
    dialog.addEventListener('cancel', (event) => {
      event.preventDefault();
      close(null);
    });
    document.body.append(dialog);
    dialog.showModal();
    const first = dialog.querySelector('input, textarea, select');
    if (first) first.focus();
  });
}

export async function confirmDialog(title, message, confirmLabel, kind = 'primary') {
  const result = await openDialog({
    title,
    body: h('p', {}, message),
    actions: [{ label: confirmLabel, kind }],
  });
  return result === confirmLabel;
}

// ---- badges, avatars, states ------------------------------------------------------------

const STATUS_TONE = {
  draft: 'muted', pending: 'warn', approved: 'ok', rejected: 'bad', withdrawn: 'muted',
  returned: 'alert', terminated: 'muted', waiting: 'muted', transferred: 'info',
  cancelled: 'muted', skipped: 'info',
};

export function statusBadge(status, label) {
  return h('span', { class: ['badge', `tone-${STATUS_TONE[status] || 'muted'}`],
    dataset: { status } }, label || t(`status.${status}`));
}

export function taskBadge(status) {
  return statusBadge(status, t(`task.${status}`));
}

export function avatar(name, size = '') {
  const text = String(name || '?').trim();
  // Chinese names show their last two characters, as DingTalk does; others their initials
  const cjk = /[\u3400-\u9fff]/.test(text);
  const short = cjk ? text.slice(-2) : text.split(/\s+/).map((w) => w[0]).join('').slice(0, 2);
  let hash = 0;
  for (const ch of text) hash = (hash * 31 + ch.codePointAt(0)) % 6;
  return h('span', { class: ['avatar', `avatar-${hash}`, size], 'aria-hidden': 'true' },
    short.toUpperCase());
}

export function empty(message) {
  return h('div', { class: 'empty' }, h('div', { class: 'empty-art', 'aria-hidden': 'true' }),
    h('p', {}, message));
}

export function loading() {
  return h('div', { class: 'loading', role: 'status' }, h('span', { class: 'spinner' }),
    h('span', { class: 'sr-only' }, t('common.loading')));
}

export function errorBox(error) {
  const message = error && error.message ? error.message : String(error);
  return h('div', { class: 'error-box', role: 'alert' }, message);
}

/** The page for a request that does not exist or is not this person's to see: the server
 * answers both with 404 (so ids cannot be probed), and so does this page. */
export function notFoundPage() {
  document.title = `${t('notFound.title')} · ${t('app.name')}`;
  return h('div', { class: 'page not-found', dataset: { problem: 'not-found' } },
    h('div', { class: 'empty-art', 'aria-hidden': 'true' }),
    h('h1', {}, t('notFound.title')),
    h('p', {}, t('notFound.text')),
    h('p', { class: 'muted' }, t('notFound.hint')),
    h('a', { class: 'btn btn-primary', href: '#/inbox/pending' }, t('notFound.toInbox')));
}

/** A labelled form row for settings pages and dialogs. */
export function labelled(label, control, hint) {
  const id = control.id || uid('in');
  control.id = id;
  return h('div', { class: 'row' }, h('label', { for: id, class: 'row-label' }, label), control,
    hint ? h('p', { class: 'hint' }, hint) : null);
}

/** A section card with a heading. */
export function card(title, ...children) {
  return h('section', { class: 'card' }, title ? h('h2', { class: 'card-title' }, title) : null,
    ...children);
}
