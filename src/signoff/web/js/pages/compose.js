// A new request: choose a template, fill the form rendered from its schema, watch the
// approval path beside it, pick the approvers the applicant chooses, submit or save a
// draft. The same page edits a draft (?draft=id) and resubmits a returned request
// (?resubmit=id).

import { h, icon, replace } from '../core/dom.js';
import { t } from '../core/i18n.js';
import { ApiError, command, get, newKey, request } from '../core/api.js';
import { go, href } from '../core/router.js';
import { templateDoc, templates } from '../core/state.js';
import { findNode } from '../core/template.js';
import { createForm, defaultsOf } from '../components/form.js';
import { createPreview } from '../components/preview.js';
import { card, empty, notFoundPage, toast } from '../components/ui.js';

export async function render(main, route) {
  const key = route.parts[1];
  if (!key) return chooseTemplate(main);
  return compose(main, key, route.query);
}

async function chooseTemplate(main) {
  document.title = `${t('compose.choose')} · ${t('app.name')}`;
  const list = await templates(true);
  const docs = await Promise.all(list.map((tpl) => templateDoc(tpl.key).catch(() => tpl)));
  const groups = new Map();
  for (const doc of docs) {
    const category = doc.category || t('compose.other');
    if (!groups.has(category)) groups.set(category, []);
    groups.get(category).push(doc);
  }
  replace(main, h('div', { class: 'page' },
    h('div', { class: 'page-head' }, h('h1', {}, t('compose.choose'))),
    docs.length ? [...groups].map(([category, items]) => h('section', { class: 'tpl-group',
      'aria-label': category },
    h('h2', { class: 'group-title' }, category),
    h('ul', { class: 'tpl-grid' }, items.map((doc) => h('li', {},
      h('a', { class: 'tpl-card card', href: href(['new', doc.key]) },
        h('span', { class: 'tpl-icon', 'aria-hidden': 'true' }, (doc.name || doc.key).slice(0, 1)),
        h('span', { class: 'tpl-text' }, h('span', { class: 'tpl-name' }, doc.name),
          doc.description ? h('span', { class: 'tpl-desc' }, doc.description) : null)))))))
      : empty(t('compose.none'))));
}

async function compose(main, key, query) {
  const draftId = query.draft || query.resubmit || null;
  const resubmitting = !!query.resubmit;
  let instance = null;
  let template;
  if (draftId) {
    try {
      instance = await get(`instances/${encodeURIComponent(draftId)}`);
    } catch (error) {
      if (error.status !== 404) throw error;
      replace(main, notFoundPage());
      return undefined;
    }
    template = await templateDoc(instance.template_key, resubmitting
      ? instance.template_version : undefined);
  } else {
    template = await templateDoc(key);
  }
  document.title = `${template.name} · ${t('app.name')}`;
  const idempotencyKey = newKey();
  const banner = h('div', { class: 'error-box', role: 'alert', hidden: true });
  const values = instance ? instance.form : defaultsOf(template.form.fields);
  let choices = {};
  const preview = createPreview(template, { onChoices: (next) => { choices = next; } });
  const form = createForm(template.form.fields, { values, mode: 'edit',
    onChange: () => preview.update(form.values()) });

  const submit = h('button', { type: 'button', class: 'btn btn-primary', onclick: () => send(false) },
    resubmitting ? t('action.resubmit') : t('compose.submit'));
  const save = resubmitting ? null : h('button', { type: 'button', class: 'btn',
    onclick: () => send(true) }, t('compose.saveDraft'));

  async function send(asDraft) {
    banner.hidden = true;
    form.clearErrors();
    for (const b of [submit, save]) if (b) b.disabled = true;
    const body = { form: form.values(), choices: preview.choices() };
    try {
      let outcome;
      if (resubmitting) {
        outcome = await command(`instances/${encodeURIComponent(draftId)}/resubmit`, body,
          { idempotencyKey, ifMatch: instance.version });
      } else if (instance && asDraft) {
        outcome = await request(`instances/${encodeURIComponent(draftId)}/draft`,
          { method: 'PUT', body: { form: body.form }, idempotencyKey: newKey() });
      } else if (instance) {
        outcome = await command(`instances/${encodeURIComponent(draftId)}/submit`, body,
          { idempotencyKey });
      } else {
        outcome = await command('instances', { template_key: key, ...body, draft: asDraft },
          { idempotencyKey: asDraft ? newKey() : idempotencyKey });
      }
      toast(asDraft ? t('compose.saved') : t('compose.submitted'), 'success');
      go(['requests', outcome.instance_id]);
    } catch (error) {
      showProblem(error);
    } finally {
      for (const b of [submit, save]) if (b) b.disabled = false;
    }
  }

  function showProblem(error) {
    if (!(error instanceof ApiError)) throw error;
    let messages = [];
    if (error.code === 'form_invalid') {
      const rest = form.setErrors(error.errors);
      messages = rest.map((e) => `${e.path}: ${e.message}`);
      if (!messages.length) return;
    } else if (error.code === 'choice_required') {
      const node = findNode(template, error.details.node_id);
      messages = [t('compose.choiceRequired', { name: (node && node.name) || error.details.node_id })];
      const picker = preview.element.querySelector(`[data-node="${CSS.escape(error.details.node_id)}"] input`);
      if (picker) picker.focus();
    } else {
      messages = [error.message];
    }
    replace(banner, messages.length > 1 ? h('ul', {}, messages.map((m) => h('li', {}, m)))
      : messages[0]);
    banner.hidden = false;
    banner.scrollIntoView({ block: 'center' });
  }

  const heading = resubmitting ? t('compose.resubmitTitle', { name: template.name })
    : template.name;
  replace(main, h('div', { class: 'page compose' },
    h('div', { class: 'page-head' },
      h('a', { class: 'icon-btn back', href: draftId ? href(['requests', draftId]) : '#/new',
        'aria-label': t('common.back') }, icon('back')),
      h('h1', {}, heading)),
    template.description ? h('p', { class: 'muted lead' }, template.description) : null,
    banner,
    h('div', { class: 'split' },
      h('div', { class: 'split-main' },
        card(null, h('form', { class: 'request-form', 'aria-label': template.name, novalidate: true,
          onsubmit: (e) => { e.preventDefault(); send(false); } }, form.element)),
        h('div', { class: 'sticky-actions' }, save, submit)),
      h('aside', { class: 'split-side' }, preview.element))));
  preview.refresh(form.values());
  return () => preview.update.cancel();
}
