// One editor and one read-only view per field type of the engine (docs/templates.md),
// except `table`, which the form builds from these (components/form.js).
//
// An editor is {element, focus, get(), set(v), labelFor, group}: `labelFor` is the id a
// <label> points at; `group` is true when the editor is a fieldset with its own legend.

import { h, icon, replace, uid } from '../core/dom.js';
import { formatMoney, formatSize, t } from '../core/i18n.js';
import { nameOf } from '../core/state.js';
import { departmentPicker, personPicker } from './pickers.js';

export const FIELD_TYPES = ['text', 'textarea', 'number', 'money', 'date', 'date_range',
  'select', 'radio', 'multi_select', 'checkbox', 'user', 'department', 'attachment', 'table'];

/** No value: null, undefined, '' or []. The server treats them the same. */
export function isMissing(value) {
  return value === null || value === undefined || value === ''
    || (Array.isArray(value) && value.length === 0);
}

function optionLabel(field, value) {
  const found = (field.options || []).find((o) => o.value === value);
  return found ? found.label : value;
}

// ---- editors ----------------------------------------------------------------------------

export function editor(field, value, { label, describedBy, onChange, disabled = false }) {
  const id = uid(`f-${field.id}`);
  const changed = () => onChange && onChange();
  const common = { id, 'aria-describedby': describedBy, disabled };
  switch (field.type) {
    case 'textarea': {
      const el = h('textarea', { ...common, rows: 3, placeholder: field.placeholder,
        maxlength: field.max_length, value: value ?? '', oninput: changed });
      return plain(el, id, () => el.value, (v) => { el.value = v ?? ''; });
    }
    case 'number': {
      const precision = field.precision ?? 0;
      const el = h('input', { ...common, type: 'number', inputmode: 'decimal',
        step: precision ? String(10 ** -precision) : '1', min: field.min, max: field.max,
        placeholder: field.placeholder, value: value ?? '', oninput: changed });
      return plain(el, id, () => (el.value === '' ? null : Number(el.value)),
        (v) => { el.value = v ?? ''; });
    }
    case 'money': {
      const el = h('input', { ...common, type: 'text', inputmode: 'decimal',
        placeholder: field.placeholder || '0.00', value: value ?? '', oninput: changed });
      const wrap = h('div', { class: 'money' },
        h('span', { class: 'money-unit', 'aria-hidden': 'true' },
          (field.currency || 'CNY') === 'CNY' ? '¥' : field.currency), el);
      return { element: wrap, labelFor: id, focus: () => el.focus(),
        get: () => el.value.trim() || null, set: (v) => { el.value = v ?? ''; } };
    }
    case 'date': {
      const el = h('input', { ...common, type: 'date', min: field.min, max: field.max,
        value: value ?? '', oninput: changed, onchange: changed });
      return plain(el, id, () => el.value || null, (v) => { el.value = v ?? ''; });
    }
    case 'date_range': return dateRange(field, value, { label, describedBy, changed, disabled });
    case 'select': {
      const el = h('select', { ...common, onchange: changed },
        h('option', { value: '' }, t('form.choose')),
        (field.options || []).map((o) => h('option', { value: o.value, selected: o.value === value },
          o.label)));
      return plain(el, id, () => el.value || null, (v) => { el.value = v ?? ''; });
    }
    case 'radio':
    case 'multi_select':
    case 'checkbox': return choices(field, value, { label, describedBy, changed, disabled });
    case 'user':
    case 'department': {
      const make = field.type === 'user' ? personPicker : departmentPicker;
      const picker = make({ label, multiple: !!field.multiple, value, onChange: changed,
        disabled });
      picker.input.id = id;
      if (describedBy) picker.input.setAttribute('aria-describedby', describedBy);
      return { element: picker.element, labelFor: id, focus: () => picker.input.focus(),
        get: picker.get, set: picker.set };
    }
    case 'attachment': return attachments(field, value, { label, describedBy, changed, disabled });
    default: {
      const el = h('input', { ...common, type: 'text', placeholder: field.placeholder,
        maxlength: field.max_length, value: value ?? '', oninput: changed });
      return plain(el, id, () => el.value, (v) => { el.value = v ?? ''; });
    }
  }
}

function plain(el, id, get, set) {
  return { element: el, labelFor: id, focus: () => el.focus(), get, set };
}

function dateRange(field, value, { label, describedBy, changed, disabled }) {
  const [start, end] = Array.isArray(value) ? value : [];
  const from = h('input', { type: 'date', value: start || '', min: field.min, max: field.max,
    'aria-label': t('form.start', { label }), oninput: changed, onchange: changed, disabled });
  const to = h('input', { type: 'date', value: end || '', min: field.min, max: field.max,
    'aria-label': t('form.end', { label }), oninput: changed, onchange: changed, disabled });
  const element = h('fieldset', { class: 'range', 'aria-describedby': describedBy },
    h('legend', { class: 'sr-only' }, label), from, h('span', { class: 'range-sep' }, '~'), to);
  return {
    element, group: true, focus: () => from.focus(),
    get: () => (from.value || to.value ? [from.value, to.value] : null),
    set: (v) => { from.value = (v && v[0]) || ''; to.value = (v && v[1]) || ''; },
  };
}

function choices(field, value, { label, describedBy, changed, disabled }) {
  const many = field.type !== 'radio';
  const name = uid(`opt-${field.id}`);
  const selected = new Set(many ? (value || []) : (value ? [value] : []));
  const inputs = (field.options || []).map((o) => h('input', {
    type: many ? 'checkbox' : 'radio', name, value: o.value, checked: selected.has(o.value),
    onchange: changed, disabled,
  }));
  const element = h('fieldset', { class: ['choices', many ? 'choices-many' : 'choices-one'],
    'aria-describedby': describedBy },
  h('legend', { class: 'sr-only' }, label),
  (field.options || []).map((o, i) => h('label', { class: 'choice' }, inputs[i],
    h('span', {}, o.label))));
  return {
    element, group: true, focus: () => inputs[0] && inputs[0].focus(),
    get: () => {
      const on = inputs.filter((i) => i.checked).map((i) => i.value);
      return many ? on : (on[0] || null);
    },
    set: (v) => {
      const next = new Set(many ? (v || []) : (v ? [v] : []));
      for (const input of inputs) input.checked = next.has(input.value);
    },
  };
}

/** Attachments are references {id, name, size, content_type}; the file stays on this
 * device (the API stores references, not files). */
function attachments(field, value, { label, describedBy, changed, disabled }) {
  let files = Array.isArray(value) ? [...value] : [];
  const id = uid(`file-${field.id}`);
  const list = h('ul', { class: 'files' });
  const input = h('input', { id, type: 'file', class: 'file-input', multiple: (field.max_items
    ?? 2) > 1, 'aria-describedby': describedBy, disabled,
  onchange: () => {
    for (const file of input.files) {
      files.push({ id: `f-${crypto.getRandomValues(new Uint32Array(2)).join('')}`,
        name: file.name, size: file.size, content_type: file.type || 'application/octet-stream' });
    }
    input.value = '';
    render();
    changed();
  } });
  function render() {
    replace(list, files.map((file) => h('li', { class: 'file' }, icon('file'),
      h('span', { class: 'file-name' }, file.name),
      h('span', { class: 'file-size' }, formatSize(file.size)),
      disabled ? null : h('button', { type: 'button', class: 'icon-btn',
        'aria-label': t('form.removeFile', { name: file.name }),
        onclick: () => { files = files.filter((f) => f !== file); render(); changed(); },
      }, icon('trash')))));
  }
  render();
  const element = h('div', { class: 'attach' }, list,
    h('label', { class: ['btn', 'btn-ghost', 'file-btn', disabled ? 'is-disabled' : null] },
      icon('plus'), h('span', {}, t('form.addFile')), input));
  input.setAttribute('aria-label', label);
  return { element, labelFor: id, focus: () => input.focus(),
    get: () => (files.length ? files : null), set: (v) => { files = [...(v || [])]; render(); } };
}

// ---- read-only views --------------------------------------------------------------------

export function viewer(field, value, names = new Map()) {
  if (isMissing(value)) return h('span', { class: 'muted' }, '—');
  switch (field.type) {
    case 'select':
    case 'radio': return h('span', {}, optionLabel(field, value));
    case 'multi_select':
    case 'checkbox':
      return h('span', { class: 'tags' }, value.map((v) => h('span', { class: 'tag' },
        optionLabel(field, v))));
    case 'money': return h('span', { class: 'num' }, formatMoney(value, field.currency));
    case 'date_range': return h('span', {}, `${value[0] || ''} ~ ${value[1] || ''}`);
    case 'user':
      return h('span', { class: 'tags' }, [].concat(value).map((id) => h('span',
        { class: 'tag tag-person' }, nameOf(id))));
    case 'department':
      return h('span', { class: 'tags' }, [].concat(value).map((id) => h('span', { class: 'tag' },
        names.get(id) || id)));
    case 'attachment':
      return h('ul', { class: 'files' }, value.map((file) => h('li', { class: 'file' },
        icon('file'), h('span', { class: 'file-name' }, file.name),
        h('span', { class: 'file-size' }, formatSize(file.size)))));
    case 'textarea': return h('span', { class: 'pre' }, String(value));
    default: return h('span', {}, String(value));
  }
}

/** Visible fields of one scope, as the engine decides (a field whose controller is hidden
 * is hidden too). */
export function shownIds(fields, values) {
  const byId = new Map(fields.map((f) => [f.id, f]));
  const memo = new Map();
  const shown = (f, depth = 0) => {
    if (memo.has(f.id)) return memo.get(f.id);
    const when = f.visible_when;
    let result = true;
    if (when && depth < 64) {
      const controller = byId.get(when.field);
      const value = values[when.field];
      const wanted = when.in || [];
      const selects = controller && controller.type === 'checkbox'
        ? Array.isArray(value) && value.some((v) => wanted.includes(v))
        : typeof value === 'string' && wanted.includes(value);
      result = !!controller && shown(controller, depth + 1) && selects;
    }
    memo.set(f.id, result);
    return result;
  };
  return new Set(fields.filter((f) => shown(f)).map((f) => f.id));
}
