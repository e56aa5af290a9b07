// Assignee rules (who a node's tasks go to, docs/templates.md "Assignee rules"): a short
// summary for the tree, and an editor for the node's configuration.

import { h, icon, replace, uid } from '../core/dom.js';
import { t } from '../core/i18n.js';
import { get } from '../core/api.js';
import { nameOf } from '../core/state.js';
import { personPicker } from '../components/pickers.js';
import { checkbox, numberInput } from './controls.js';

export const RULES = ['users', 'role', 'position', 'department_head', 'supervisors',
  'form_department_head', 'applicant_choice', 'previous_approver_choice', 'applicant',
  'form_user'];
const CC_RULES = RULES.filter((kind) => !kind.endsWith('_choice'));

let roles = null;
let positions = null;
export function directoryLists() {
  roles = roles || get('directory/roles').catch(() => []);
  positions = positions || get('directory/positions').catch(() => []);
  return Promise.all([roles, positions]);
}

export function ruleSummary(rule) {
  const names = (ids) => (ids || []).map(nameOf).join(t('common.sep'));
  switch (rule.type) {
    case 'users': return names(rule.users) || t('assignee.users');
    case 'role': return t('assignee.roleOf', { role: rule.role || '?' });
    case 'position': return t('assignee.positionOf', { position: rule.position || '?' });
    case 'department_head': return t('assignee.headOf', { n: rule.level ?? 1 });
    case 'supervisors': return rule.up_to_position
      ? t('assignee.supervisorsToPosition', { position: rule.up_to_position })
      : t('assignee.supervisorsToLevel', { n: rule.up_to_level ?? '?' });
    case 'form_department_head': return t('assignee.formHead', { field: rule.field || '?',
      n: rule.level ?? 1 });
    case 'form_user': return t('assignee.formUser', { field: rule.field || '?' });
    default: return t(`assignee.${rule.type}`);
  }
}

export function rulesSummary(rules) {
  return (rules || []).map(ruleSummary).join(t('common.sep'));
}

/** Reset a rule object in place to a new kind (the node keeps the same object). */
function retype(rule, kind) {
  for (const key of Object.keys(rule)) delete rule[key];
  rule.type = kind;
  if (kind === 'users') rule.users = [];
  if (kind === 'role') rule.role = '';
  if (kind === 'position') rule.position = '';
  if (kind === 'department_head' || kind === 'form_department_head') rule.level = 1;
  if (kind === 'supervisors') rule.up_to_level = 2;
  if (kind === 'form_department_head' || kind === 'form_user') rule.field = '';
  if (kind.endsWith('_choice')) rule.multiple = false;
}

/**
 * The list of rules of `node[key]` (assignees or recipients), each editable; `fields` are
 * the form's top-level fields (for the form_* rules).
 */
export function assigneesEditor(node, key, fields, { onChange, onStructure, cc = false }) {
  if (!node[key]) node[key] = [];
  const rules = node[key];
  const kinds = cc ? CC_RULES : RULES;
  const list = h('ol', { class: 'rule-list' });
  const render = () => replace(list, rules.map((rule, i) => ruleRow(rule, i)));

  function ruleRow(rule, i) {
    const kind = h('select', { 'aria-label': t('fl.ruleType', { n: i + 1 }),
      onchange: () => { retype(rule, kind.value); render(); onStructure(); } },
    kinds.map((k) => h('option', { value: k, selected: rule.type === k }, t(`assignee.${k}`))));
    if (!kinds.includes(rule.type)) kind.append(h('option', { value: rule.type, selected: true },
      rule.type));
    return h('li', { class: 'rule card-inset' },
      h('div', { class: 'rule-head' }, kind, h('button', { type: 'button', class: 'icon-btn',
        'aria-label': t('common.remove', { name: t(`assignee.${rule.type}`) }),
        onclick: () => { rules.splice(i, 1); render(); onStructure(); } }, icon('trash'))),
      params(rule, fields, onChange));
  }

  render();
  return h('div', { class: 'rules' }, list, h('button', { type: 'button',
    class: 'btn btn-ghost btn-sm', onclick: () => {
      const rule = {};
      retype(rule, cc ? 'role' : 'department_head');
      rules.push(rule);
      render();
      onStructure();
    } }, icon('plus'), h('span', {}, t(cc ? 'fl.addRecipient' : 'fl.addAssignee'))));
}

function optionSelect(rule, key, label, load, pick) {
  // disabled until its options are there: a choice made before would be of nothing
  const input = h('select', { id: uid('opt'), disabled: true, 'aria-busy': 'true',
    onchange: () => { rule[key] = input.value; pick(); } },
  h('option', { value: '' }, t('form.choose')));
  if (rule[key]) input.append(h('option', { value: rule[key], selected: true }, rule[key]));
  load().catch(() => []).then((items) => {
    for (const item of items) {
      if (item === rule[key]) continue;
      input.append(h('option', { value: item }, item));
    }
  }).finally(() => {
    input.disabled = false;
    input.removeAttribute('aria-busy');
  });
  return h('div', { class: 'row' }, h('label', { for: input.id }, label), input);
}

function fieldSelect(rule, fields, type, onChange) {
  const input = h('select', { id: uid('fld'), onchange: () => { rule.field = input.value;
    onChange(); } }, h('option', { value: '' }, t('form.choose')),
  fields.filter((f) => f.type === type).map((f) => h('option', { value: f.id,
    selected: rule.field === f.id }, f.label || f.id)));
  if (rule.field && !fields.some((f) => f.id === rule.field)) {
    input.append(h('option', { value: rule.field, selected: true }, rule.field));
  }
  return h('div', { class: 'row' }, h('label', { for: input.id }, t('fl.formField')), input);
}

function peopleRow(rule, key, label, onChange) {
  const picker = personPicker({ label, multiple: true, value: rule[key] || [],
    onChange: (ids) => { rule[key] = ids; onChange(); } });
  picker.input.id = uid('ppl');
  return h('div', { class: 'row' }, h('label', { for: picker.input.id }, label), picker.element);
}

function params(rule, fields, onChange) {
  const roleNames = async () => (await directoryLists())[0].map((r) => r.role);
  const positionNames = async () => (await directoryLists())[1].map((p) => p.position);
  switch (rule.type) {
    case 'users': return peopleRow(rule, 'users', t('assignee.users'), onChange);
    case 'role': return optionSelect(rule, 'role', t('fl.role'), roleNames, onChange);
    case 'position': return optionSelect(rule, 'position', t('fl.position'), positionNames, onChange);
    case 'department_head':
      return numberInput(rule, 'level', t('fl.level'), { kind: 'int', min: 1, onChange,
        hint: t('fl.levelHint') });
    case 'supervisors': {
      const byPosition = 'up_to_position' in rule;
      const switcher = h('select', { id: uid('sup'), onchange: () => {
        delete rule.up_to_level;
        delete rule.up_to_position;
        if (switcher.value === 'position') rule.up_to_position = '';
        else rule.up_to_level = 2;
        replace(holder, detail());
        onChange();
      } }, h('option', { value: 'level', selected: !byPosition }, t('fl.upToLevel')),
      h('option', { value: 'position', selected: byPosition }, t('fl.upToPosition')));
      const detail = () => ('up_to_position' in rule
        ? optionSelect(rule, 'up_to_position', t('fl.position'), positionNames, onChange)
        : numberInput(rule, 'up_to_level', t('fl.level'), { kind: 'int', min: 1, onChange }));
      const holder = h('div', {}, detail());
      return h('div', {}, h('div', { class: 'row' }, h('label', { for: switcher.id },
        t('fl.supervisorsUntil')), switcher), holder);
    }
    case 'form_department_head':
      return h('div', {}, fieldSelect(rule, fields, 'department', onChange),
        numberInput(rule, 'level', t('fl.level'), { kind: 'int', min: 1, onChange }));
    case 'form_user': return fieldSelect(rule, fields, 'user', onChange);
    case 'applicant_choice':
      return h('div', {}, checkbox(rule, 'multiple', t('fl.multiple'), { onChange }),
        peopleRow(rule, 'candidates', t('fl.candidates'), onChange));
    case 'previous_approver_choice':
      return checkbox(rule, 'multiple', t('fl.multiple'), { onChange });
    default: return null;
  }
}
