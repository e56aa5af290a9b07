// The approval path beside a form: who approves each node and which branch applies,
// asked from the server (POST templates/{key}/preview) as the values change. Nodes whose
// approvers the applicant chooses get a picker here; the choices go with the submission.

import { debounce, h, replace, uid } from '../core/dom.js';
import { t } from '../core/i18n.js';
import { request } from '../core/api.js';
import { ensureNames, nameOf, state } from '../core/state.js';
import { choiceRule, findNode } from '../core/template.js';
import { avatar } from './ui.js';
import { personPicker } from './pickers.js';

/** createPreview(template, {choices, onChoices}) -> {element, update(form), choices()} */
export function createPreview(template, { choices: initial = {}, onChoices } = {}) {
  const templateKey = template.key;
  const choices = { ...initial };
  const list = h('ol', { class: 'path' });
  const status = h('p', { class: 'path-status muted', role: 'status' });
  const element = h('section', { class: 'preview card', 'aria-labelledby': 'preview-title' },
    h('h2', { id: 'preview-title', class: 'card-title' }, t('preview.title')), status, list);
  let seq = 0;
  let lastForm = {};
  const pickers = new Map();

  async function fetchPath(form) {
    const body = { form, choices };
    try {
      return await request(`templates/${encodeURIComponent(templateKey)}/preview`,
        { method: 'POST', body });
    } catch (error) {
      if (error.code !== 'form_invalid' || !error.errors.length) throw error;
      // preview with the values that are valid so far
      const bad = new Set(error.errors.map((e) => String(e.path).split(/[.[]/)[0]));
      const rest = Object.fromEntries(Object.entries(form).filter(([k]) => !bad.has(k)));
      return request(`templates/${encodeURIComponent(templateKey)}/preview`,
        { method: 'POST', body: { form: rest, choices } });
    }
  }

  async function refresh(form) {
    lastForm = form;
    const mine = ++seq;
    element.setAttribute('aria-busy', 'true');
    try {
      const path = await fetchPath(form);
      const ids = [];
      collect(path.steps, ids);
      await ensureNames(ids);
      if (mine !== seq) return;
      replace(status);
      // the choice pickers are kept across renders: keep the focus in the one being typed in
      const focused = list.contains(document.activeElement) ? document.activeElement : null;
      replace(list, startStep(), path.steps.map((s) => step(s)), endStep());
      if (focused && focused.isConnected) focused.focus();
    } catch (error) {
      if (mine === seq) replace(status, error.message);
    } finally {
      if (mine === seq) element.removeAttribute('aria-busy');
    }
  }
  const update = debounce(refresh, 250);

  function collect(steps, out) {
    for (const s of steps) {
      out.push(...s.people, ...s.candidates);
      for (const r of s.routes || []) collect(r.steps, out);
    }
  }

  function startStep() {
    const me = state.me ? state.me.name : '';
    return h('li', { class: 'path-step is-start' }, h('span', { class: 'dot' }),
      h('div', { class: 'step-body' }, h('div', { class: 'step-name' }, t('preview.start')),
        h('div', { class: 'people' }, h('span', { class: 'person' }, avatar(me, 'sm'), me))));
  }

  function endStep() {
    return h('li', { class: 'path-step is-end' }, h('span', { class: 'dot' }),
      h('div', { class: 'step-body' }, h('div', { class: 'step-name' }, t('preview.end'))));
  }

  function step(s) {
    if (s.type === 'condition' || s.type === 'inclusive' || s.type === 'parallel') {
      return h('li', { class: ['path-step', 'is-gateway', s.taken ? null : 'is-skipped'],
        dataset: { node: s.node_id } }, h('span', { class: 'dot' }),
      h('div', { class: 'step-body' },
        h('div', { class: 'step-name' }, t(`node.${s.type}`)),
        h('ul', { class: 'routes' }, s.routes.map((r) => h('li', {
          class: ['route', r.taken ? 'is-taken' : 'is-skipped'], dataset: { route: r.id },
        }, h('div', { class: 'route-name' }, r.name || r.id,
          h('span', { class: ['badge', r.taken ? 'tone-info' : 'tone-muted'] },
            r.taken ? t('preview.applies') : t('preview.notApplies'))),
        r.taken && r.steps.length ? h('ol', { class: 'path nested' }, r.steps.map(step))
          : null)))));
    }
    const body = h('div', { class: 'step-body' },
      h('div', { class: 'step-name' }, s.name || s.node_id,
        s.mode && s.type === 'approver' ? h('span', { class: 'mode' }, t(`mode.${s.mode}`)) : null,
        s.type === 'cc' ? h('span', { class: 'mode' }, t('node.cc')) : null));
    if (s.needs_choice === 'applicant_choice' || (choices[s.node_id] && s.type === 'approver')) {
      body.append(choicePicker(s));
    } else if (s.needs_choice === 'previous_approver_choice') {
      body.append(h('div', { class: 'muted small' }, t('preview.chosenByPrevious')));
    } else if (s.people.length) {
      body.append(h('div', { class: 'people' }, s.people.map((id) => h('span',
        { class: 'person' }, avatar(nameOf(id), 'sm'), nameOf(id)))));
    } else if (s.taken) {
      body.append(h('div', { class: 'muted small' }, t(`preview.empty.${s.when_empty ||
        'auto_approve'}`)));
    }
    return h('li', { class: ['path-step', `is-${s.type}`, s.taken ? null : 'is-skipped'],
      dataset: { node: s.node_id } }, h('span', { class: 'dot' }), body);
  }

  function choicePicker(s) {
    const node = s.node_id;
    const label = t('preview.choose', { name: s.name || node });
    if (!pickers.has(node)) {
      const rule = choiceRule(findNode(template, node));
      const picker = personPicker({
        label, multiple: rule ? !!rule.multiple : true, value: choices[node] || [], candidates: s.candidates,
        onChange: (picked) => {
          const ids = [].concat(picked || []);
          if (ids.length) choices[node] = ids;
          else delete choices[node];
          if (onChoices) onChoices({ ...choices });
          update(lastForm);
        },
      });
      picker.input.id = uid('choose');
      pickers.set(node, h('div', { class: 'choose' },
        h('label', { class: 'small', for: picker.input.id }, label), picker.element));
    }
    return pickers.get(node);
  }

  return { element, update, refresh, choices: () => ({ ...choices }) };
}
