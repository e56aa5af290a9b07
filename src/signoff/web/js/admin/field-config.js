// The properties of one form field: label, id, required, help texts, the keys of its type
// (docs/templates.md, "Form"), options, the condition that shows it, table columns.

import { h, icon, replace } from '../core/dom.js';
import { t } from '../core/i18n.js';
import { FIELD_TYPES } from '../components/fields.js';
import { block, checkbox, freshId, numberInput, select, textInput } from './controls.js';
import { newField } from './form-designer.js';

const CHOICE = ['select', 'radio', 'multi_select', 'checkbox'];

export function renderFieldConfig(field, scope, { isColumn, onChange, onStructure }) {
  const changed = () => onChange();
  const type = field.type;
  const parts = [
    h('h2', { class: 'card-title' }, t('fd.fieldTitle', { type: t(`fieldType.${type}`) })),
    textInput(field, 'label', t('fd.label'), { onChange: changed, keep: true }),
    textInput(field, 'id', t('fd.id'), { onChange: changed, keep: true, hint: t('fd.idHint') }),
    checkbox(field, 'required', t('fd.required'), { onChange: changed }),
    textInput(field, 'description', t('fd.description'), { onChange: changed }),
  ];
  if (!['radio', 'checkbox', 'attachment', 'table', 'date_range'].includes(type)) {
    parts.push(textInput(field, 'placeholder', t('fd.placeholder'), { onChange: changed }));
  }
  parts.push(...typeKeys(field, changed));
  if (CHOICE.includes(type)) parts.push(optionsEditor(field, changed));
  if (type === 'table') parts.push(columnsEditor(field, onStructure));
  parts.push(visibility(field, scope, changed));
  return h('div', { class: 'field-config' }, parts);
}

function typeKeys(field, changed) {
  const n = (key, label, kind = 'int') => numberInput(field, key, label, { onChange: changed, kind });
  switch (field.type) {
    case 'text':
      return [n('min_length', t('fd.minLength')), n('max_length', t('fd.maxLength')),
        textInput(field, 'pattern', t('fd.pattern'), { onChange: changed })];
    case 'textarea':
      return [n('min_length', t('fd.minLength')), n('max_length', t('fd.maxLength'))];
    case 'number':
      return [n('min', t('fd.min'), 'number'), n('max', t('fd.max'), 'number'),
        n('precision', t('fd.precision'))];
    case 'money':
      return [textInput(field, 'currency', t('fd.currency'), { onChange: changed,
        placeholder: 'CNY' }), n('min', t('fd.min'), 'decimal'), n('max', t('fd.max'), 'decimal'),
      n('scale', t('fd.scale'))];
    case 'date':
      return [textInput(field, 'min', t('fd.minDate'), { onChange: changed, placeholder: '2026-01-01' }),
        textInput(field, 'max', t('fd.maxDate'), { onChange: changed, placeholder: '2026-12-31' })];
    case 'date_range':
      return [textInput(field, 'min', t('fd.minDate'), { onChange: changed }),
        textInput(field, 'max', t('fd.maxDate'), { onChange: changed }),
        n('max_days', t('fd.maxDays'))];
    case 'multi_select':
    case 'checkbox':
      return [n('min_items', t('fd.minItems')), n('max_items', t('fd.maxItems'))];
    case 'user':
    case 'department':
      return [checkbox(field, 'multiple', t('fd.multiple'), { onChange: changed })];
    case 'attachment':
      return [n('max_items', t('fd.maxFiles')), n('max_size', t('fd.maxSize'))];
    case 'table':
      return [n('min_rows', t('fd.minRows')), n('max_rows', t('fd.maxRows'))];
    default:
      return [];
  }
}

function optionsEditor(field, changed) {
  const list = h('ol', { class: 'opt-list' });
  const render = () => {
    const options = field.options || [];
    replace(list, options.map((option, i) => {
      const label = option.label || option.value;
      const move = (to) => {
        if (to < 0 || to >= options.length) return;
        options.splice(to, 0, options.splice(i, 1)[0]);
        render();
        changed();
      };
      return h('li', { class: 'opt' },
        h('input', { value: option.label ?? '', 'aria-label': t('fd.optionLabel', { n: i + 1 }),
          oninput: (e) => { option.label = e.target.value; changed(); } }),
        h('input', { value: option.value ?? '', class: 'opt-value',
          'aria-label': t('fd.optionValue', { n: i + 1 }),
          oninput: (e) => { option.value = e.target.value; changed(); } }),
        h('button', { type: 'button', class: 'icon-btn', 'aria-label': t('common.moveUp', {
          name: label }), onclick: () => move(i - 1) }, icon('up')),
        h('button', { type: 'button', class: 'icon-btn', 'aria-label': t('common.remove', {
          name: label }), onclick: () => { options.splice(i, 1); render(); changed(); } },
        icon('trash')));
    }));
  };
  render();
  return block(t('fd.options'), h('div', { class: 'opts' }, list,
    h('button', { type: 'button', class: 'btn btn-ghost btn-sm', onclick: () => {
      field.options = field.options || [];
      const taken = new Set(field.options.map((o) => o.value));
      const value = freshId('option', taken);
      field.options.push({ value, label: t('fd.option', { n: field.options.length + 1 }) });
      render();
      changed();
    } }, icon('plus'), h('span', {}, t('fd.addOption')))));
}

function columnsEditor(field, onStructure) {
  const typeSelect = h('select', { 'aria-label': t('fd.columnType') },
    FIELD_TYPES.filter((x) => x !== 'table').map((x) => h('option', { value: x },
      t(`fieldType.${x}`))));
  return block(t('fd.columns'), h('div', { class: 'add-column' }, typeSelect,
    h('button', { type: 'button', class: 'btn btn-ghost btn-sm', onclick: () => {
      field.columns = field.columns || [];
      field.columns.push(newField(typeSelect.value, new Set(field.columns.map((c) => c.id))));
      onStructure(field.columns.length - 1);
    } }, icon('plus'), h('span', {}, t('fd.addColumn')))), t('fd.columnsHint'));
}

/** "Show only when <radio/select/checkbox of this scope> is one of <values>". */
function visibility(field, scope, changed) {
  const controllers = scope.filter((f) => f !== field && ['radio', 'select', 'checkbox']
    .includes(f.type));
  const values = h('div', { class: 'choices choices-many' });
  const controller = h('select', { onchange: () => {
    if (!controller.value) delete field.visible_when;
    else field.visible_when = { field: controller.value, in: [] };
    renderValues();
    changed();
  } }, h('option', { value: '' }, t('fd.alwaysShown')),
  controllers.map((f) => h('option', { value: f.id, selected: field.visible_when
    && field.visible_when.field === f.id }, f.label || f.id)));
  if (field.visible_when && !controllers.some((f) => f.id === field.visible_when.field)) {
    controller.append(h('option', { value: field.visible_when.field, selected: true },
      field.visible_when.field));
  }
  function renderValues() {
    const when = field.visible_when;
    const source = when && scope.find((f) => f.id === when.field);
    replace(values, source ? (source.options || []).map((o) => {
      const input = h('input', { type: 'checkbox', checked: when.in.includes(o.value),
        onchange: () => {
          when.in = (source.options || []).map((x) => x.value).filter((v) => v === o.value
            ? input.checked : when.in.includes(v));
          changed();
        } });
      return h('label', { class: 'choice' }, input, h('span', {}, o.label));
    }) : null);
  }
  renderValues();
  controller.id = `vis-${field.id}`;
  return h('div', { class: 'row' }, h('label', { for: controller.id }, t('fd.visibleWhen')),
    controller, values, h('p', { class: 'hint' }, t('fd.visibleHint')));
}
