// Basics and settings of a template: name, description, category, who may start it, its
// admins, serial numbers, the title pattern, summary fields and the behaviour switches.

import { h } from '../core/dom.js';
import { t } from '../core/i18n.js';
import { departmentPicker, personPicker } from '../components/pickers.js';
import { block, checkbox, listInput, numberInput, select, textInput } from './controls.js';

export function renderSettings(ctx) {
  const { doc } = ctx;
  const changed = () => ctx.changed();
  // `settings` and its sub-objects are created only when something in them is set
  const settings = lazy(doc, 'settings');
  const initiators = lazy(settings, 'initiators', () => ({ users: [], departments: [],
    roles: [] }));
  const serial = lazy(settings, 'serial');

  const basics = ctx.anchor('name', h('section', { class: 'card', 'aria-labelledby': 'basics-title' },
    h('h2', { id: 'basics-title', class: 'card-title' }, t('settings.basics')),
    h('div', { class: 'grid-2' },
      textInput(doc, 'name', t('settings.name'), { onChange: changed, keep: true }),
      h('div', { class: 'row' }, h('span', { class: 'row-label' }, t('settings.key')),
        h('code', { class: 'key' }, doc.key))),
    textInput(doc, 'description', t('settings.description'), { onChange: changed,
      multiline: true }),
    textInput(doc, 'category', t('settings.category'), { onChange: changed })));

  const peoplePicker = (obj, key, label) => {
    const picker = personPicker({ label, multiple: true, value: obj.get()[key] || [],
      onChange: (ids) => { obj.set()[key] = ids; changed(); } });
    return block(label, picker.element);
  };
  const deptPicker = (obj, key, label) => {
    const picker = departmentPicker({ label, multiple: true, value: obj.get()[key] || [],
      onChange: (ids) => { obj.set()[key] = ids; changed(); } });
    return block(label, picker.element);
  };

  const who = ctx.anchor('settings.initiators', h('section', { class: 'card',
    'aria-labelledby': 'who-title' },
  h('h2', { id: 'who-title', class: 'card-title' }, t('settings.who')),
  h('p', { class: 'hint' }, t('settings.initiatorsHint')),
  peoplePicker(initiators, 'users', t('settings.initiatorUsers')),
  deptPicker(initiators, 'departments', t('settings.initiatorDepartments')),
  listInput(initiators.get(), 'roles', t('settings.initiatorRoles'), {
    onChange: () => { initiators.set(); changed(); } }),
  peoplePicker(settings, 'admins', t('settings.admins'))));

  const fields = (doc.form && doc.form.fields) || [];
  const summary = settings.get().summary_fields || [];
  const summaryBox = h('div', { class: 'choices choices-many' }, fields.map((f) => {
    const input = h('input', { type: 'checkbox', value: f.id, checked: summary.includes(f.id),
      onchange: () => {
        const chosen = [...summaryBox.querySelectorAll('input:checked')].map((i) => i.value);
        settings.set().summary_fields = chosen;
        changed();
      } });
    return h('label', { class: 'choice' }, input, h('span', {}, f.label || f.id));
  }));

  const numbering = ctx.anchor('settings.serial', h('section', { class: 'card',
    'aria-labelledby': 'serial-title' },
  h('h2', { id: 'serial-title', class: 'card-title' }, t('settings.serialTitle')),
  h('div', { class: 'grid-3' },
    textInput(serial.get(), 'prefix', t('settings.serialPrefix'), {
      onChange: () => { serial.set(); changed(); }, placeholder: (doc.key || '').toUpperCase() }),
    select(serial.get(), 'date', t('settings.serialDate'), [['%Y%m%d', '20261122'],
      ['%Y%m', '202611'], ['%Y', '2026'], ['', t('settings.serialNoDate')]], {
      onChange: () => { serial.set(); changed(); }, defaultLabel: t('common.default') }),
    numberInput(serial.get(), 'digits', t('settings.serialDigits'), { kind: 'int', min: 1,
      onChange: () => { serial.set(); changed(); } })),
  textInput(settings.get(), 'title', t('settings.titlePattern'), {
    onChange: () => { settings.set(); changed(); }, hint: t('settings.titleHint'),
    placeholder: '{applicant.name}的{template.name}' }),
  block(t('settings.summaryFields'), summaryBox)));

  const behaviour = ctx.anchor('settings', h('section', { class: 'card',
    'aria-labelledby': 'behaviour-title' },
  h('h2', { id: 'behaviour-title', class: 'card-title' }, t('settings.behaviour')),
  h('div', { class: 'grid-2' },
    select(settings.get(), 'resubmit', t('settings.resubmit'), [
      ['restart', t('settings.resubmit.restart')],
      ['back_to_returner', t('settings.resubmit.back_to_returner')]], {
      onChange: () => { settings.set(); changed(); }, defaultLabel: t('common.default') }),
    select(settings.get(), 'dedup', t('settings.dedup'), [['off', t('settings.dedup.off')],
      ['consecutive', t('settings.dedup.consecutive')], ['any', t('settings.dedup.any')]], {
      onChange: () => { settings.set(); changed(); }, defaultLabel: t('common.default') })),
  checkbox(settings.get(), 'allow_withdraw', t('settings.allowWithdraw'), {
    defaultValue: true, onChange: () => { settings.set(); changed(); } }),
  checkbox(settings.get(), 'allow_take_back', t('settings.allowTakeBack'), {
    defaultValue: true, onChange: () => { settings.set(); changed(); } })));

  return h('div', { class: 'settings-editor' }, basics, who, numbering, behaviour);
}

/**
 * A sub-object that exists in the document only once something is written to it:
 * `get()` gives the object to read (and to bind inputs to), `set()` attaches it to its
 * parent and answers it.
 */
function lazy(parent, key, make = () => ({})) {
  const target = parent.get ? parent : { get: () => parent, set: () => parent };
  const owner = target.get();
  const value = owner[key] || make();
  return {
    get: () => value,
    set: () => {
      const holder = target.set();
      holder[key] = value;
      return value;
    },
  };
}
