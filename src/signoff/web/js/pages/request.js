// One request: its summary, the form as this person may see it (hidden fields absent, the
// approver's writable fields editable), who must act now, the timeline, and the actions
// this person may take. It re-reads itself when someone else acts (live updates).

import { debounce, h, icon, replace } from '../core/dom.js';
import { formatTime, t } from '../core/i18n.js';
import { request } from '../core/api.js';
import { ensureNames, nameOf, on, state, templateDoc } from '../core/state.js';
import { approvalAccess } from '../core/template.js';
import { actionBar } from '../components/actions.js';
import { documentsCard } from '../components/documents.js';
import { createForm } from '../components/form.js';
import { renderTimeline, timelinePeople } from '../components/timeline.js';
import { avatar, card, loading, notFoundPage, statusBadge, toast } from '../components/ui.js';

export async function render(main, route) {
  const id = route.parts[1];
  let shownVersion = null;
  let shownForm = null;
  let asked = 0;
  let shownLoad = 0;
  let own = 0; // loads under way that this person's own command asked for
  let documents = null; // the documents card shown (refilled when one is made)
  replace(main, loading());

  // Loads overlap (a live message while the person's own command reloads): an answer older
  // than the one on the page is dropped, or it would put back what was replaced. A live
  // message about a version already shown (one that was on its way when the page loaded, or
  // the echo of this person's own command) changes nothing: the page is not drawn again
  // under the person's hands.
  async function load({ quiet = false } = {}) {
    const mine = ++asked;
    if (!quiet) own += 1;
    let instance;
    let template;
    try {
      ({ body: instance } = await request(`instances/${encodeURIComponent(id)}`, { raw: true }));
      template = await templateDoc(instance.template_key, instance.template_version);
      await ensureNames(timelinePeople(instance));
    } finally {
      if (!quiet) own -= 1;
    }
    if (mine < shownLoad) return;
    if (quiet && shownVersion !== null && instance.version <= shownVersion) return;
    shownLoad = mine;
    // "updated" is about someone else: not while this person's own command reloads
    if (quiet && shownVersion !== null && !own) toast(t('request.updated'), 'info');
    shownVersion = instance.version;
    show(instance, template, quiet ? shownForm : null);
  }

  /** `before`: the form shown until now; what the approver changed in it and may still
   * write is kept (someone else acting must not wipe out what is being typed). */
  function show(instance, template, before) {
    document.title = `${instance.title || template.name} · ${t('app.name')}`;
    const me = state.me;
    const mineNow = instance.pending.some((task) => task.assignee === me.principal_id);
    const access = approvalAccess(template, instance, me);
    const edited = mineNow && before ? writable(before.edits(), access) : {};
    const form = createForm(template.form.fields, { values: instance.form, edited,
      mode: 'view', access: mineNow ? access : hiddenOnly(access) });
    shownForm = form;
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
            instance.submitted_at ? ` · ${formatTime(instance.submitted_at)}` : ''),
          instance.external ? h('div', { class: 'mirrored hint' }, t('request.mirrored', {
            system: t(`system.${instance.external.source.split(':')[0]}`),
            id: instance.external.id })) : null)),
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
        card(t('request.timeline'), renderTimeline(instance, template)),
        (documents = documentsCard(instance, template, me)).element))));
  }

  const reload = debounce(() => { load({ quiet: true }).catch(() => {}); }, 200);
  const off = on('live', (message) => {
    if (message.instance_id !== id || message.position === undefined) return;
    // a document does not change the request's version: only its card is drawn again
    if (String(message.event).startsWith('document.')) documents?.refill();
    else reload();
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

/** The edits of fields (or table columns) this access still lets the person write. */
function writable(edits, access) {
  return Object.fromEntries(Object.entries(edits).filter(([path]) => access[path] === 'write'
    || Object.keys(access).some((key) => key.startsWith(`${path}.`) && access[key] === 'write')));
}

/** Someone who does not act now sees the fields they may see, read-only. */
function hiddenOnly(access) {
  if (!access) return null;
  return Object.fromEntries(Object.entries(access).map(([path, level]) => [path,
    level === 'hidden' ? 'hidden' : 'read']));
}
