// The template designer: basics and settings, the form designer and the flow designer over
// one template document. It is checked as it changes (POST templates/validate) and each
// problem is shown on the field, node or route its JSON path names; problems no element
// claims are listed at the top. Save a draft, or publish a new version.

import { debounce, h, icon, replace } from '../core/dom.js';
import { t } from '../core/i18n.js';
import { ApiError, get, request } from '../core/api.js';
import { href, replaceQuery } from '../core/router.js';
import { forgetTemplates, templates } from '../core/state.js';
import { confirmDialog, loading, toast } from '../components/ui.js';
import { renderSettings } from './settings-editor.js';
import { createFormDesigner } from './form-designer.js';
import { createFlowDesigner } from './flow-designer.js';

const TABS = ['form', 'flow', 'basics'];

export async function render(main, route) {
  const key = route.parts[2];
  replace(main, loading());
  const list = await templates(true);
  const summary = list.find((tpl) => tpl.key === key);
  let doc;
  let hasDraft = summary ? summary.has_draft : true;
  if (route.query.source !== 'published' && hasDraft) {
    doc = await get(`templates/${encodeURIComponent(key)}/draft`).catch((error) => {
      if (error.code !== 'unknown_template' || !summary) throw error;
      hasDraft = false;
      return null;
    });
  }
  if (!doc) doc = await get(`templates/${encodeURIComponent(key)}`);
  return designer(main, doc, route.query.tab);
}

function designer(main, doc, initialTab) {
  let tab = TABS.includes(initialTab) ? initialTab : 'form';
  let dirty = false;
  let anchors = [];
  let errors = [];
  let seq = 0;
  document.title = `${doc.name || doc.key} · ${t('designer.title')}`;

  const status = h('span', { class: 'check-status', role: 'status' });
  const problems = h('div', { class: 'problems-box', role: 'alert', hidden: true });
  const dirtyMark = h('span', { class: 'badge tone-warn', hidden: true }, t('designer.unsaved'));
  const versionMark = h('span', { class: 'badge tone-muted' });
  const body = h('div', { class: 'designer-body' });

  const ctx = {
    doc,
    /** A change: mark unsaved and check again soon. */
    changed() {
      dirty = true;
      dirtyMark.hidden = false;
      validateSoon();
    },
    /** Claim the problems whose JSON path starts with `path` for `element` (listed in
     * `slot`, the element itself unless given). */
    anchor(path, element, slot = element) {
      anchors.push({ path, element, slot });
      return element;
    },
    /** After a part re-rendered itself: show the current problems on its new elements. */
    reanchor() {
      anchors = anchors.filter((a) => a.element.isConnected);
      showErrors();
    },
  };

  function showVersion() {
    replace(versionMark, doc.version ? t('designer.version', { n: doc.version })
      : t('designer.newTemplate'));
  }

  function owner(path) {
    let best = null;
    for (const a of anchors) {
      if (!a.element.isConnected) continue;
      const p = a.path;
      const match = path === p || path.startsWith(`${p}.`) || path.startsWith(`${p}[`);
      if (match && (!best || p.length > best.path.length)) best = a;
    }
    return best;
  }

  function showErrors() {
    for (const el of document.querySelectorAll('.has-problem')) {
      el.classList.remove('has-problem');
      el.removeAttribute('aria-invalid');
    }
    for (const el of document.querySelectorAll('.problem-list')) el.remove();
    const loose = [];
    const byAnchor = new Map();
    for (const error of errors) {
      const found = owner(error.path);
      if (!found) {
        loose.push(error);
        continue;
      }
      if (!byAnchor.has(found)) byAnchor.set(found, []);
      byAnchor.get(found).push(error);
    }
    for (const [a, list] of byAnchor) {
      a.element.classList.add('has-problem');
      a.slot.append(h('ul', { class: 'problem-list', role: 'alert' }, list.map((e) => h('li', {},
        `${e.message}`, h('span', { class: 'problem-path' }, ` (${e.path})`)))));
    }
    problems.hidden = !loose.length;
    replace(problems, loose.length ? h('ul', {}, loose.map((e) => h('li', {},
      h('code', {}, e.path), ` ${e.message}`))) : null);
    replace(status, errors.length
      ? h('span', { class: 'badge tone-bad' }, t('designer.problems', { n: errors.length }))
      : h('span', { class: 'badge tone-ok' }, t('designer.valid')));
  }

  async function validate() {
    const mine = ++seq;
    try {
      const result = await request('templates/validate', { method: 'POST', body: doc });
      if (mine !== seq) return result;
      errors = result.errors;
      showErrors();
      return result;
    } catch (error) {
      replace(status, error.message);
      return null;
    }
  }
  const validateSoon = debounce(validate, 400);

  async function save() {
    try {
      await request(`templates/${encodeURIComponent(doc.key)}/draft`, { method: 'PUT', body: doc });
      dirty = false;
      dirtyMark.hidden = true;
      forgetTemplates();
      toast(t('designer.saved'), 'success');
    } catch (error) {
      toast(error.message, 'error');
    }
  }

  async function publish() {
    validateSoon.cancel();
    const result = await validate();
    if (result && !result.valid) {
      toast(t('designer.fixFirst', { n: result.errors.length }), 'error');
      return;
    }
    if (!await confirmDialog(t('designer.publishTitle'), t('designer.publishHint'),
      t('designer.publish'))) return;
    try {
      const published = await request(`templates/${encodeURIComponent(doc.key)}/publish`,
        { method: 'POST', body: doc });
      doc.version = published.version;
      showVersion();
      dirty = false;
      dirtyMark.hidden = true;
      forgetTemplates();
      toast(t('designer.published', { n: published.version }), 'success');
    } catch (error) {
      if (error instanceof ApiError && error.code === 'template_invalid') {
        errors = error.errors;
        showErrors();
      }
      toast(error.message, 'error');
    }
  }

  let part = null;
  function showTab(name) {
    tab = name;
    replaceQuery({ tab });
    for (const b of tabButtons) {
      b.setAttribute('aria-selected', String(b.dataset.tab === tab));
      b.classList.toggle('is-current', b.dataset.tab === tab);
    }
    anchors = [];
    if (part && part.destroy) part.destroy();
    if (tab === 'form') part = createFormDesigner(ctx);
    else if (tab === 'flow') part = createFlowDesigner(ctx);
    else part = { element: renderSettings(ctx) };
    replace(body, part.element);
    showErrors();
  }

  const tabButtons = TABS.map((name) => h('button', { type: 'button', role: 'tab',
    class: 'tab', dataset: { tab: name }, onclick: () => showTab(name) }, t(`designer.tab.${name}`)));
  const onLeave = (event) => {
    if (dirty) {
      event.preventDefault();
      event.returnValue = '';
    }
  };
  window.addEventListener('beforeunload', onLeave);

  replace(main, h('div', { class: 'page designer' },
    h('div', { class: 'page-head' },
      h('a', { class: 'icon-btn back', href: href(['admin', 'templates']),
        'aria-label': t('common.back') }, icon('back')),
      h('h1', {}, doc.name || doc.key), versionMark, dirtyMark),
    h('div', { class: 'designer-bar' },
      h('div', { class: 'tabs designer-tabs', role: 'tablist', 'aria-label': t('designer.title') },
        tabButtons),
      h('div', { class: 'designer-actions' }, status,
        h('button', { type: 'button', class: 'btn', onclick: () => { validateSoon.cancel();
          validate(); } }, t('designer.validate')),
        h('button', { type: 'button', class: 'btn', onclick: save }, t('designer.saveDraft')),
        h('button', { type: 'button', class: 'btn btn-primary', onclick: publish },
          t('designer.publish')))),
    problems, body));
  showVersion();
  showTab(tab);
  validate();
  return () => {
    window.removeEventListener('beforeunload', onLeave);
    validateSoon.cancel();
    if (part && part.destroy) part.destroy();
  };
}
