// One request: its summary, the form as this person may see it (hidden fields absent, the
// approver's writable fields editable), who must act now, the timeline, and the actions
// this person may take. It re-reads itself when someone else acts (live updates).

import { debounce, h, icon, replace } from '../core/dom.js';
import { formatTime, t } from '../core/i18n.js';
import { request } from '../core/api.js';
import { ensureNames, nameOf, on, state, templateDoc } from '../core/state.js';
import { approvalAccess } from '../core/template.js';
import { actionBar } from '../components/actions.js';
import { createForm } from '../components/form.js';
import { renderTimeline, timelinePeople } from '../components/timeline.js';
import { avatar, card, loading, notFoundPage, statusBadge, toast } from '../components/ui.js';

export async function render(main, route) {
  const id = route.parts[1];
  let shownVersion = null;
  let busy = false;
  replace(main, loading());

  async function load({ quiet = false } = {}) {
    busy = true;
    try {
      const { body: instance } = await request(`instances/${encodeURIComponent(id)}`,
        { raw: true });
      const template = await templateDoc(instance.template_key, instance.template_version);
      await ensureNames(timelinePeople(instance));
      if (quiet && shownVersion !== null && instance.version !== shownVersion) {
        toast(t('request.updated'), 'info');
      }
      shownVersion = instance.version;
      show(instance, template);
    } finally {
      busy = false;
    }
  }

  function show(instance, template) {
    document.title = `${instance.title || template.name} · ${t('app.name')}`;
    const me = state.me;
    const mineNow = instance.pending.some((task) => task.assignee === me.principal_id);
    const access = approvalAccess(template, instance, me);
    const form = createForm(template.form.fields, { values: instance.form, mode: 'view',
      access: mineNow ? access : hiddenOnly(access) });
    const bar = actionBar({ instance, template, me, form, reload: () => load() });
    const applicant = nameOf(instance.applicant_id);
    const now = instance.pending;

    replace(main, h('div', { class: 'page request', dataset: { instance: instance.id,
      version: String(instance.version), status: instance.status } },
    h('div', { class: 'page-head' },
      h('a', { class: 'icon-btn back', href: '#/inbox/pending', 'aria-label': t('common.back'),
        onclick: (event) => { if (history.length > 1) { event.preventDefault(); history.back(); } },
      }, icon('back')),
      h('h1', {}, instance.title || template.name)),
    h('section', { class: 'card summary', 'aria-label': t('request.summary') },
      h('div', { class: 'summary-main' },
        avatar(applicant, 'lg'),
        h('div', {},
          h('div', { class: 'summary-who' }, applicant),
          h('div', { class: 'muted small' }, template.name,
            instance.serial ? ` · ${instance.serial}` : '',
            instance.submitted_at ? ` · ${formatTime(instance.submitted_at)}` : ''))),
      h('div', { class: 'summary-status' }, statusBadge(instance.status)),
      now.length ? h('section', { class: 'summary-now', 'aria-labelledby': 'now-title' },
        h('h2', { id: 'now-title' }, t('request.now')),
        h('ul', { class: 'people' }, now.map((task) => h('li', { class: 'person' },
          avatar(task.assignee_name || nameOf(task.assignee), 'sm'),
          h('span', {}, task.assignee_name || nameOf(task.assignee)),
          h('span', { class: 'muted small' }, task.node_name))))) : null),
    h('div', { class: 'split' },
      h('div', { class: 'split-main' },
        card(t('request.form'), mineNow && Object.values(access).includes('write')
          ? h('p', { class: 'hint' }, t('request.writableHint')) : null, form.element),
        bar ? h('div', { class: 'sticky-actions' }, bar) : null),
      h('aside', { class: 'split-side' },
        card(t('request.timeline'), renderTimeline(instance, template))))));
  }

  const reload = debounce(() => {
    if (!busy) load({ quiet: true }).catch(() => {});
  }, 200);
  const off = on('live', (message) => {
    if (message.instance_id === id && message.position !== undefined) reload();
  });
  const stop = () => { off(); reload.cancel(); };
  try {
    await load();
  } catch (error) {
    stop();
    // not there, or not this person's to see: the server does not say which, nor does this
    if (error.status !== 404) throw error;
    replace(main, notFoundPage());
    return undefined;
  }
  return stop;
}

/** Someone who does not act now sees the fields they may see, read-only. */
function hiddenOnly(access) {
  if (!access) return null;
  return Object.fromEntries(Object.entries(access).map(([path, level]) => [path,
    level === 'hidden' ? 'hidden' : 'read']));
}
