// Route conditions (docs/templates.md "Conditions"): typed data, never code. A summary for
// the tree ("报销总额 ≥ 5000"), and an editor of rules and nested all/any groups.

import { h, icon, replace, uid } from '../core/dom.js';
import { t } from '../core/i18n.js';
import { nameOf } from '../core/state.js';

const OPS = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'between', 'in', 'not_in', 'contains',
  'not_contains', 'any_of', 'none_of', 'is_empty', 'not_empty'];
const OPS_BY_KIND = {
  ordered: ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'between', 'is_empty', 'not_empty'],
  choice: ['eq', 'ne', 'in', 'not_in', 'is_empty', 'not_empty'],
  list: ['contains', 'not_contains', 'any_of', 'none_of', 'is_empty', 'not_empty'],
  text: ['eq', 'ne', 'contains', 'not_contains', 'in', 'not_in', 'is_empty', 'not_empty'],
  department: ['in', 'not_in'],
};
const SYMBOL = { eq: '=', ne: '≠', gt: '>', gte: '≥', lt: '<', lte: '≤' };
const LIST_OPS = ['in', 'not_in', 'any_of', 'none_of'];

/** Every subject a condition may test, with what kind of value it holds. */
export function subjects(doc) {
  const out = [];
  for (const f of (doc.form && doc.form.fields) || []) {
    out.push({ id: `form.${f.id}`, label: f.label || f.id, field: f, kind: kindOf(f) });
    for (const c of f.columns || []) {
      out.push({ id: `form.${f.id}.${c.id}`, label: `${f.label || f.id}.${c.label || c.id}`,
        field: c, kind: kindOf(c) });
    }
  }
  out.push({ id: 'applicant.department', label: t('cond.applicantDepartment'), kind: 'department' });
  out.push({ id: 'applicant.roles', label: t('cond.applicantRoles'), kind: 'list' });
  out.push({ id: 'applicant.position', label: t('cond.applicantPosition'), kind: 'choice' });
  out.push({ id: 'applicant.id', label: t('cond.applicantId'), kind: 'choice' });
  return out;
}

function kindOf(f) {
  if (['number', 'money', 'date', 'date_range'].includes(f.type)) return 'ordered';
  if (['select', 'radio'].includes(f.type)) return 'choice';
  if (['multi_select', 'checkbox'].includes(f.type) || f.multiple) return 'list';
  if (['user', 'department'].includes(f.type)) return 'choice';
  return 'text';
}

function valueText(subject, value) {
  const one = (v) => {
    const option = subject && subject.field && (subject.field.options || []).find((o) =>
      o.value === v);
    if (option) return option.label;
    if (subject && subject.field && subject.field.type === 'user') return nameOf(v);
    return String(v);
  };
  return Array.isArray(value) ? value.map(one).join(t('common.sep')) : one(value);
}

export function conditionSummary(when, doc) {
  if (!when) return '';
  const all = subjects(doc);
  const walk = (cond) => {
    if (cond.all || cond.any) {
      const parts = (cond.all || cond.any).map(walk).filter(Boolean);
      const joined = parts.join(cond.all ? t('cond.and') : t('cond.or'));
      return parts.length > 1 ? `(${joined})` : joined;
    }
    const subject = all.find((s) => s.id === cond.field);
    const label = subject ? subject.label : cond.field;
    if (cond.op === 'is_empty' || cond.op === 'not_empty') return `${label} ${t(`op.${cond.op}`)}`;
    if (cond.op === 'between' && Array.isArray(cond.value)) {
      return t('cond.between', { label, low: cond.value[0], high: cond.value[1] });
    }
    return `${label} ${SYMBOL[cond.op] || t(`op.${cond.op}`)} ${valueText(subject, cond.value)}`;
  };
  const text = walk(when);
  return text.replace(/^\((.*)\)$/, '$1');
}

/** Edit `holder[key]` (a rule or an all/any group) in place. */
export function conditionEditor(holder, key, doc, onChange) {
  const box = h('div', { class: 'cond-editor' });
  const all = subjects(doc);
  // a bare rule (or nothing) shows as a group of one; the group is written to the document
  // only when its list changes, so opening a route never changes its condition
  let root = null;
  const commit = () => { if (holder[key] !== root) holder[key] = root; };
  const render = () => {
    const current = holder[key];
    root = current && (current.all || current.any) ? current : { all: current ? [current] : [] };
    replace(box, group(root, 0));
  };

  function group(cond, depth) {
    const listKey = cond.all ? 'all' : 'any';
    const items = cond[listKey];
    const mode = h('select', { 'aria-label': t('cond.match'), onchange: () => {
      cond[mode.value] = cond[listKey];
      delete cond[listKey];
      commit();
      render();
      onChange();
    } }, h('option', { value: 'all', selected: listKey === 'all' }, t('cond.all')),
    h('option', { value: 'any', selected: listKey === 'any' }, t('cond.any')));
    return h('div', { class: ['cond-group', depth ? 'is-nested' : null] },
      h('div', { class: 'cond-head' }, mode),
      h('ol', { class: 'cond-items' }, items.map((item, i) => h('li', { class: 'cond-item' },
        item.all || item.any ? group(item, depth + 1) : rule(item, i),
        h('button', { type: 'button', class: 'icon-btn', 'aria-label': t('cond.remove', { n: i + 1 }),
          onclick: () => { items.splice(i, 1); commit(); render(); onChange(); } },
        icon('trash'))))),
      h('div', { class: 'cond-add' },
        h('button', { type: 'button', class: 'btn btn-ghost btn-sm', onclick: () => {
          items.push({ field: all[0] ? all[0].id : 'applicant.id', op: 'eq', value: '' });
          commit();
          render();
          onChange();
        } }, icon('plus'), h('span', {}, t('cond.addRule'))),
        depth < 2 ? h('button', { type: 'button', class: 'btn btn-ghost btn-sm', onclick: () => {
          items.push({ any: [] });
          commit();
          render();
          onChange();
        } }, icon('plus'), h('span', {}, t('cond.addGroup'))) : null));
  }

  function rule(cond, i) {
    const subject = () => all.find((s) => s.id === cond.field);
    const field = h('select', { 'aria-label': t('cond.subject', { n: i + 1 }), onchange: () => {
      cond.field = field.value;
      const ops = opsFor(subject());
      if (!ops.includes(cond.op)) cond.op = ops[0];
      cond.value = defaultValue(subject(), cond.op);
      render();
      onChange();
    } }, all.map((s) => h('option', { value: s.id, selected: s.id === cond.field }, s.label)));
    if (!subject()) field.append(h('option', { value: cond.field, selected: true }, cond.field));
    const op = h('select', { 'aria-label': t('cond.op', { n: i + 1 }), onchange: () => {
      const wasList = LIST_OPS.includes(cond.op) || cond.op === 'between';
      cond.op = op.value;
      const isList = LIST_OPS.includes(cond.op) || cond.op === 'between';
      if (cond.op === 'is_empty' || cond.op === 'not_empty') delete cond.value;
      else if (wasList !== isList || !('value' in cond)) cond.value = defaultValue(subject(), cond.op);
      render();
      onChange();
    } }, opsFor(subject()).map((o) => h('option', { value: o, selected: o === cond.op },
      SYMBOL[o] ? `${SYMBOL[o]} ${t(`op.${o}`)}` : t(`op.${o}`))));
    if (!opsFor(subject()).includes(cond.op)) {
      op.append(h('option', { value: cond.op, selected: true }, cond.op));
    }
    return h('div', { class: 'cond-rule' }, field, op, valueInput(cond, subject(), i, onChange));
  }

  render();
  return box;
}

function opsFor(subject) {
  return subject ? OPS_BY_KIND[subject.kind] || OPS : OPS;
}

function defaultValue(subject, op) {
  if (op === 'between') return ['', ''];
  if (LIST_OPS.includes(op)) return [];
  return subject && subject.field && subject.field.type === 'number' ? 0 : '';
}

/** The value of a rule, typed as the subject needs: numbers for `number` fields (and the
 * days of a date range), decimal strings for money, dates as text. */
function valueInput(cond, subject, i, onChange) {
  if (cond.op === 'is_empty' || cond.op === 'not_empty') return null;
  const f = subject && subject.field;
  const numeric = f && (f.type === 'number' || f.type === 'date_range');
  const cast = (text) => (numeric && text !== '' && !Number.isNaN(Number(text)) ? Number(text)
    : text);
  const label = t('cond.value', { n: i + 1 });
  if (cond.op === 'between') {
    const [low, high] = Array.isArray(cond.value) ? cond.value : ['', ''];
    const a = h('input', { value: low ?? '', 'aria-label': `${label} 1`, type: f && f.type === 'date'
      ? 'date' : 'text', oninput: () => { cond.value = [cast(a.value), cast(b.value)]; onChange(); } });
    const b = h('input', { value: high ?? '', 'aria-label': `${label} 2`, type: f && f.type === 'date'
      ? 'date' : 'text', oninput: () => { cond.value = [cast(a.value), cast(b.value)]; onChange(); } });
    return h('span', { class: 'cond-between' }, a, '~', b);
  }
  const options = f && f.options;
  if (options && LIST_OPS.includes(cond.op)) {
    const chosen = new Set(cond.value || []);
    return h('span', { class: 'choices choices-many', role: 'group', 'aria-label': label },
      options.map((o) => h('label', { class: 'choice' }, h('input', { type: 'checkbox',
        checked: chosen.has(o.value), onchange: (e) => {
          if (e.target.checked) chosen.add(o.value);
          else chosen.delete(o.value);
          cond.value = options.map((x) => x.value).filter((v) => chosen.has(v));
          onChange();
        } }), h('span', {}, o.label))));
  }
  if (options) {
    const input = h('select', { 'aria-label': label, onchange: () => { cond.value = input.value;
      onChange(); } }, h('option', { value: '' }, t('form.choose')),
    options.map((o) => h('option', { value: o.value, selected: o.value === cond.value }, o.label)));
    return input;
  }
  if (LIST_OPS.includes(cond.op)) {
    const input = h('input', { 'aria-label': label, value: (cond.value || []).join(', '),
      placeholder: 'a, b', oninput: () => {
        cond.value = input.value.split(/[,，]/).map((s) => s.trim()).filter(Boolean).map(cast);
        onChange();
      } });
    return input;
  }
  const input = h('input', { id: uid('val'), 'aria-label': label, value: cond.value ?? '',
    type: f && f.type === 'date' ? 'date' : 'text', inputmode: numeric || (f && f.type ===
      'money') ? 'decimal' : undefined,
    oninput: () => { cond.value = cast(input.value); onChange(); } });
  return input;
}
