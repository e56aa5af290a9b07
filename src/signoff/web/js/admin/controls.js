// Inputs bound to one key of a template JSON object, for the designers. They change the
// object in place and only the key they edit: an optional key emptied is removed, a key
// never touched is never added, so a template opened and saved comes back unchanged.

import { h, uid } from '../core/dom.js';

function row(label, control, hint) {
  control.id = control.id || uid('cfg');
  return h('div', { class: 'row' }, h('label', { for: control.id }, label), control,
    hint ? h('p', { class: 'hint' }, hint) : null);
}

/** A text input; `keep` keeps the key (as '') when emptied (ids, labels, names). */
export function textInput(obj, key, label, { onChange, keep = false, multiline = false,
  placeholder, hint } = {}) {
  const input = h(multiline ? 'textarea' : 'input', { value: obj[key] ?? '', placeholder,
    rows: multiline ? 2 : undefined,
    oninput: () => {
      if (input.value === '' && !keep) delete obj[key];
      else obj[key] = input.value;
      if (onChange) onChange(key);
    } });
  return row(label, input, hint);
}

/**
 * A number. kind 'int' | 'number' | 'decimal' (a decimal string, for money).
 * Emptied: the key is removed.
 */
export function numberInput(obj, key, label, { onChange, kind = 'number', min, step, hint,
  placeholder } = {}) {
  const input = h('input', { type: kind === 'decimal' ? 'text' : 'number',
    inputmode: 'decimal', min, step: step ?? (kind === 'int' ? '1' : 'any'), placeholder,
    value: obj[key] ?? '',
    oninput: () => {
      const text = input.value.trim();
      if (text === '') delete obj[key];
      else if (kind === 'decimal') obj[key] = text;
      else if (!Number.isNaN(Number(text))) obj[key] = Number(text);
      if (onChange) onChange(key);
    } });
  return row(label, input, hint);
}

/** A checkbox. Unchecked: false if the key exists, else the key stays absent. */
export function checkbox(obj, key, label, { onChange, defaultValue = false } = {}) {
  const id = uid('chk');
  const input = h('input', { id, type: 'checkbox', checked: obj[key] ?? defaultValue,
    onchange: () => {
      if (input.checked === defaultValue && !(key in obj)) return;
      obj[key] = input.checked;
      if (onChange) onChange(key);
    } });
  return h('div', { class: 'row row-check' }, input, h('label', { for: id }, label));
}

/**
 * A select of [value, label] pairs. With `defaultLabel`, an extra first option removes the
 * key (the engine's default applies).
 */
export function select(obj, key, label, options, { onChange, defaultLabel, hint } = {}) {
  const input = h('select', {
    onchange: () => {
      if (input.value === '' && defaultLabel) delete obj[key];
      else obj[key] = input.value;
      if (onChange) onChange(key);
    },
  }, defaultLabel ? h('option', { value: '' }, defaultLabel) : null,
  options.map(([value, text]) => h('option', { value, selected: obj[key] === value }, text)));
  if (!defaultLabel && !(key in obj) && options.length) input.value = options[0][0];
  return row(label, input, hint);
}

/** A list of strings edited as comma-separated text (roles, ...). */
export function listInput(obj, key, label, { onChange, hint, keep = true } = {}) {
  const input = h('input', { value: (obj[key] || []).join(', '),
    oninput: () => {
      const items = input.value.split(/[,，\s]+/).map((s) => s.trim()).filter(Boolean);
      if (!items.length && !keep) delete obj[key];
      else obj[key] = items;
      if (onChange) onChange(key);
    } });
  return row(label, input, hint);
}

/** A labelled block for a control that is not a single input (pickers, lists). */
export function block(label, control, hint) {
  const id = uid('blk');
  return h('div', { class: 'row', role: 'group', 'aria-labelledby': id },
    h('span', { id, class: 'row-label' }, label), control,
    hint ? h('p', { class: 'hint' }, hint) : null);
}

/** A unique id for a new node, route or field: `prefix_1`, `prefix_2`, ... */
export function freshId(prefix, taken) {
  let n = 1;
  while (taken.has(`${prefix}_${n}`)) n += 1;
  return `${prefix}_${n}`;
}
