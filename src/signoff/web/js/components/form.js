// A form rendered from its schema (the template's `form.fields`).
//
// mode 'edit': the applicant fills every field. mode 'view': values shown read-only, except
// the paths `access` marks `write` (an approver's writable fields and table columns).
// Fields `access` marks `hidden` are absent. Fields with `visible_when` show and hide as
// their controller changes; a hidden field's value is not sent. Errors from the server
// ({path, rule, message}) are shown next to the field they name (`items[2].amount`).

import { h, icon, replace, uid } from '../core/dom.js';
import { locale, t } from '../core/i18n.js';
import { departmentNames } from '../core/state.js';
import { editor, isMissing, shownIds, viewer } from './fields.js';

/**
 * createForm(fields, {values, edited, mode, access, onChange}) ->
 *   {element, values(), edits(), setErrors(list) -> errors not placed, clearErrors()}
 * `edited`: values changed already (shown instead of `values`, and counted as `edits()`).
 */
export function createForm(fields, { values = {}, edited = {}, mode = 'edit', access = null,
  onChange } = {}) {
  const original = JSON.parse(JSON.stringify(values || {}));
  const ctx = {
    slots: [], // {path: () => string, slot}
    names: new Map(),
    changed: () => { top.refresh(); if (onChange) onChange(); },
  };
  const top = scope(fields, { ...(values || {}), ...edited }, {
    pathOf: (f) => f.id,
    levelOf: (f) => (access ? access[f.id] || 'read' : 'read'),
    editable: (f, level) => mode === 'edit' || level === 'write',
    columnLevel: (table, column) => (access ? access[`${table.id}.${column.id}`] || 'read'
      : 'read'),
    mode,
  }, ctx);
  top.refresh();
  const element = h('div', { class: ['form', `form-${mode}`] }, top.element);
  const hasDepartments = fields.some((f) => f.type === 'department'
    || (f.columns || []).some((c) => c.type === 'department'));
  if (hasDepartments) {
    departmentNames().then((found) => {
      for (const [k, v] of found) ctx.names.set(k, v);
      top.refreshViews();
    }).catch(() => {});
  }

  return {
    element,
    values: () => top.values(),
    /** The writable fields whose values changed (an approver's `edits`). */
    edits() {
      const now = top.values();
      const out = {};
      for (const f of fields) {
        const writable = access && (access[f.id] === 'write'
          || (f.columns || []).some((c) => access[`${f.id}.${c.id}`] === 'write'));
        if (writable && JSON.stringify(now[f.id] ?? null) !== JSON.stringify(original[f.id]
          ?? null)) {
          out[f.id] = now[f.id] ?? null;
        }
      }
      return out;
    },
    setErrors(errors) {
      this.clearErrors();
      const live = ctx.slots.filter((s) => s.slot.alive());
      const unplaced = [];
      let first = null;
      for (const error of errors || []) {
        const path = String(error.path);
        const found = live.find((s) => s.path() === path)
          || live.find((s) => s.path() === path.replace(/\[\d+\](\..*)?$/, ''));
        if (found && found.slot.visible()) {
          found.slot.show(errorText(error));
          first = first || found.slot;
        } else {
          unplaced.push(error);
        }
      }
      if (first) first.reveal();
      return unplaced;
    },
    clearErrors() {
      for (const s of ctx.slots) s.slot.clear();
    },
  };
}

/** The server's message; in Chinese, the rule said in Chinese when the UI knows it. */
export function errorText(error) {
  if (locale() !== 'en' && error.rule) {
    const said = t(`rule.${error.rule}`);
    if (said !== `rule.${error.rule}`) return said;
  }
  return error.message || error.rule;
}

function scope(fields, values, rules, ctx) {
  const rows = [];
  for (const f of fields) {
    const level = rules.levelOf(f);
    if (level === 'hidden') continue;
    rows.push(fieldRow(f, values[f.id], level, rules, ctx));
  }
  const current = () => Object.fromEntries(rows.map((r) => [r.field.id, r.get()]));
  return {
    element: h('div', { class: 'fields' }, rows.map((r) => r.element)),
    values() {
      const now = current();
      const shown = shownIds(fields, { ...values, ...now });
      const out = {};
      for (const r of rows) {
        if (shown.has(r.field.id) && !isMissing(now[r.field.id])) out[r.field.id] = now[r.field.id];
      }
      return out;
    },
    refresh() {
      const shown = shownIds(fields, { ...values, ...current() });
      for (const r of rows) {
        r.element.hidden = !shown.has(r.field.id);
        if (r.refresh) r.refresh();
      }
    },
    refreshViews() {
      for (const r of rows) if (r.refreshView) r.refreshView();
    },
  };
}

function fieldRow(f, value, level, rules, ctx) {
  const errorId = uid('err');
  const labelId = uid('lbl');
  const editable = rules.editable(f, level);
  const error = h('p', { id: errorId, class: 'field-error', hidden: true });
  const required = f.required && editable ? h('span', { class: 'req', 'aria-hidden': 'true' },
    '*') : null;
  const help = f.description && editable ? h('p', { class: 'field-help' }, f.description) : null;
  const out = { field: f, editable };
  let label;
  let control;
  let focus = null;
  if (f.type === 'table') {
    const table = tableControl(f, value, level, rules, ctx, labelId);
    control = table.element;
    out.get = table.get;
    out.refresh = table.refresh;
    out.refreshView = table.refreshView;
    label = h('div', { id: labelId, class: 'field-label' }, f.label, required);
  } else if (editable) {
    const ed = editor(f, value, { label: f.label, describedBy: errorId, onChange: () => {
      clear();
      ctx.changed();
    } });
    control = ed.element;
    out.get = ed.get;
    focus = ed.focus;
    if (ed.group) {
      label = h('div', { id: labelId, class: 'field-label', 'aria-hidden': 'true' }, f.label,
        required);
      control.setAttribute('aria-labelledby', labelId);
    } else {
      label = h('label', { id: labelId, for: ed.labelFor, class: 'field-label' }, f.label,
        required);
    }
  } else {
    const holder = h('div', { class: 'field-value', 'aria-labelledby': labelId },
      viewer(f, value, ctx.names));
    control = holder;
    out.get = () => value;
    // only a department's name arrives later: the other views are never drawn again
    if (f.type === 'department') {
      out.refreshView = () => replace(holder, viewer(f, value, ctx.names));
    }
    label = h('div', { id: labelId, class: 'field-label' }, f.label);
  }
  const element = h('div', { class: ['field', `field-${f.type}`, editable ? 'is-editable' : null,
    editable && rules.mode === 'view' ? 'is-writable' : null] }, label, help, control, error);
  out.element = element;
  function clear() {
    // emptied, not only hidden: aria-describedby reads hidden text too
    replace(error);
    error.hidden = true;
    element.classList.remove('has-error');
    for (const el of element.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  }
  if (editable || f.type === 'table') {
    ctx.slots.push({ path: () => rules.pathOf(f), slot: {
      alive: () => element.isConnected,
      visible: () => !element.hidden,
      show(message) {
        replace(error, icon('x'), h('span', {}, message));
        error.hidden = false;
        element.classList.add('has-error');
        const target = control.matches('input, select, textarea, fieldset') ? control
          : control.querySelector('input, select, textarea, fieldset');
        if (target) target.setAttribute('aria-invalid', 'true');
      },
      clear,
      reveal() {
        element.scrollIntoView({ block: 'center' });
        if (focus) focus();
      },
    } });
  }
  return out;
}

/** A table (明细): each row a card of its columns; rows added and removed while editing. */
function tableControl(f, value, level, rules, ctx, labelId) {
  const columns = f.columns || [];
  const canEditRows = rules.mode === 'edit' || level === 'write';
  const tablePath = rules.pathOf(f);
  let rows = [];
  const body = h('div', { class: 'table-rows' });

  function renumber() {
    rows.forEach((row, i) => {
      replace(row.title, t('form.rowTitle', { label: f.label, n: i + 1 }));
      if (row.remove) row.remove.setAttribute('aria-label', t('form.removeRow', { n: i + 1 }));
    });
  }

  function addRow(rowValues) {
    const row = { title: h('h4', { class: 'row-title' }) };
    row.remove = canEditRows ? h('button', { type: 'button', class: 'icon-btn row-remove',
      onclick: () => {
        rows = rows.filter((r) => r !== row);
        row.element.remove();
        renumber();
        ctx.changed();
      } }, icon('trash')) : null;
    row.scope = scope(columns, rowValues, {
      pathOf: (column) => `${tablePath}[${rows.indexOf(row)}].${column.id}`,
      levelOf: (column) => (canEditRows ? 'write' : rules.columnLevel(f, column)),
      editable: (column, columnLevel) => columnLevel === 'write',
      mode: canEditRows ? 'edit' : 'view',
    }, ctx);
    row.element = h('div', { class: 'table-row', role: 'group', 'aria-label': '' },
      h('div', { class: 'row-head' }, row.title, row.remove), row.scope.element);
    rows.push(row);
    body.append(row.element);
    renumber();
    row.element.setAttribute('aria-label', row.title.textContent);
    row.scope.refresh();
  }

  for (const rowValues of Array.isArray(value) ? value : []) addRow(rowValues);
  if (!rows.length && rules.mode === 'edit') addRow(defaultsOf(columns));
  const add = canEditRows ? h('button', { type: 'button', class: 'btn btn-ghost add-row',
    onclick: () => { addRow(defaultsOf(columns)); ctx.changed(); } }, icon('plus'),
  h('span', {}, t('form.addRow', { label: f.label }))) : null;
  return {
    element: h('div', { class: 'table', role: 'group', 'aria-labelledby': labelId }, body, add,
      rows.length || canEditRows ? null : h('span', { class: 'muted' }, '—')),
    get() {
      const list = rows.map((row) => row.scope.values());
      return list.length ? list : null;
    },
    refresh: () => rows.forEach((row) => {
      row.scope.refresh();
      row.element.setAttribute('aria-label', row.title.textContent);
    }),
    refreshView: () => rows.forEach((row) => row.scope.refreshViews()),
  };
}

/** The fields' `default` values, for a new form. */
export function defaultsOf(fields) {
  const out = {};
  for (const f of fields) if (f.default !== undefined) out[f.id] = JSON.parse(JSON.stringify(f.default));
  return out;
}
