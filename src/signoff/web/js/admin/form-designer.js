// The form designer: a palette of field types, the fields as cards (drag to reorder, or
// move with the buttons), each showing a live preview of its input, and the selected
// field's properties. A table's columns are cards inside it. "Preview" shows the whole
// form as the applicant will fill it, with its show/hide conditions working.

import { h, icon, replace } from '../core/dom.js';
import { t } from '../core/i18n.js';
import { editor, FIELD_TYPES } from '../components/fields.js';
import { createForm, defaultsOf } from '../components/form.js';
import { freshId } from './controls.js';
import { renderFieldConfig } from './field-config.js';

export function newField(type, taken) {
  const field = { id: freshId(type, taken), type, label: t(`fieldType.${type}`) };
  if (['select', 'radio', 'multi_select', 'checkbox'].includes(type)) {
    field.options = [{ value: 'option_1', label: t('fd.option', { n: 1 }) },
      { value: 'option_2', label: t('fd.option', { n: 2 }) }];
  }
  if (type === 'table') field.columns = [{ id: 'text_1', type: 'text', label: t('fieldType.text') }];
  return field;
}

export function createFormDesigner(ctx) {
  const { doc } = ctx;
  if (!doc.form) doc.form = { fields: [] };
  if (!doc.form.fields) doc.form.fields = [];
  const fields = doc.form.fields;
  let selected = fields.length ? [0] : null; // [i] or [i, j] (a table column)
  let previewing = false;
  const canvas = h('div', { class: 'fd-canvas' });
  const panel = h('aside', { class: 'fd-panel card', 'aria-label': t('fd.properties') });
  const previewButton = h('button', { type: 'button', class: 'btn', 'aria-pressed': 'false',
    onclick: () => { previewing = !previewing; renderCanvas(); } }, t('fd.preview'));

  const palette = h('nav', { class: 'fd-palette card', 'aria-label': t('fd.palette') },
    h('h2', { class: 'card-title' }, t('fd.palette')),
    h('div', { class: 'palette-grid' }, FIELD_TYPES.map((type) => h('button', {
      type: 'button', class: 'palette-item', 'aria-label': t('fd.addType', {
        type: t(`fieldType.${type}`) }),
      onclick: () => add(type),
    }, icon('plus'), h('span', {}, t(`fieldType.${type}`))))));

  function scopeOf(path) {
    return path.length === 2 ? fields[path[0]].columns : fields;
  }
  function fieldAt(path) {
    return path ? scopeOf(path)[path[path.length - 1]] : null;
  }
  function jsonPath(path) {
    return path.length === 2 ? `form.fields[${path[0]}].columns[${path[1]}]`
      : `form.fields[${path[0]}]`;
  }

  function add(type) {
    const at = selected ? selected[0] + 1 : fields.length;
    fields.splice(at, 0, newField(type, new Set(fields.map((f) => f.id))));
    selected = [at];
    structure();
    const card = canvas.querySelector(`[data-path="${at}"] .fd-select`);
    if (card) card.focus();
  }

  function move(path, to) {
    const scope = scopeOf(path);
    const from = path[path.length - 1];
    if (to < 0 || to >= scope.length || to === from) return;
    const [item] = scope.splice(from, 1);
    scope.splice(to, 0, item);
    selected = path.length === 2 ? [path[0], to] : [to];
    structure();
  }

  function remove(path) {
    scopeOf(path).splice(path[path.length - 1], 1);
    selected = fields.length ? [Math.min(path[0], fields.length - 1)] : null;
    structure();
  }

  function structure() {
    ctx.changed();
    renderCanvas();
    renderPanel();
  }

  function card(field, path) {
    const key = path.join('.');
    const isSelected = selected && selected.join('.') === key;
    const label = field.label || field.id;
    const slot = h('div', { class: 'problem-slot' });
    const select = (event) => {
      event.stopPropagation();
      selected = path;
      renderCanvas();
      renderPanel();
    };
    const element = h('div', {
      class: ['fd-card', isSelected ? 'is-selected' : null, field.type === 'table' ? 'is-table'
        : null],
      draggable: 'true', dataset: { path: key, field: field.id }, onclick: select,
    },
    h('div', { class: 'fd-card-head' },
      h('button', { type: 'button', class: 'fd-select', 'aria-pressed': String(!!isSelected),
        'aria-label': t('fd.fieldCard', { label, type: t(`fieldType.${field.type}`) }),
        onclick: select },
      h('span', { class: 'drag', 'aria-hidden': 'true' }, icon('drag')),
      h('span', { class: 'fd-label' }, label, field.required ? h('span', { class: 'req' }, '*')
        : null),
      h('span', { class: 'tag' }, t(`fieldType.${field.type}`)),
      h('code', { class: 'fd-id' }, field.id)),
      h('span', { class: 'fd-tools' },
        h('button', { type: 'button', class: 'icon-btn', 'aria-label': t('common.moveUp', {
          name: label }), onclick: (e) => { e.stopPropagation(); move(path, path.at(-1) - 1); } },
        icon('up')),
        h('button', { type: 'button', class: 'icon-btn', 'aria-label': t('common.moveDown', {
          name: label }), onclick: (e) => { e.stopPropagation(); move(path, path.at(-1) + 1); } },
        icon('down')),
        h('button', { type: 'button', class: 'icon-btn', 'aria-label': t('common.remove', {
          name: label }), onclick: (e) => { e.stopPropagation(); remove(path); } },
        icon('trash')))),
    field.visible_when ? h('div', { class: 'fd-when' }, t('fd.shownWhen', {
      field: (scopeOf(path).find((f) => f.id === field.visible_when.field) || {}).label
        || field.visible_when.field,
      values: (field.visible_when.in || []).join(t('common.sep')) })) : null,
    field.type === 'table'
      ? h('div', { class: 'fd-columns' }, (field.columns || []).map((c, j) => card(c, [path[0], j])))
      : h('div', { class: 'fd-sample', inert: '' }, sample(field)),
    slot);
    dragAndDrop(element, path);
    ctx.anchor(jsonPath(path), element, slot);
    return element;
  }

  function sample(field) {
    try {
      return editor(field, field.default, { label: field.label || field.id, disabled: true })
        .element;
    } catch {
      return null;
    }
  }

  let dragging = null;
  function dragAndDrop(element, path) {
    element.addEventListener('dragstart', (event) => {
      event.stopPropagation();
      dragging = path;
      event.dataTransfer.effectAllowed = 'move';
      event.dataTransfer.setData('text/plain', path.join('.'));
      element.classList.add('is-dragging');
    });
    element.addEventListener('dragend', () => {
      dragging = null;
      element.classList.remove('is-dragging');
    });
    element.addEventListener('dragover', (event) => {
      if (!dragging || dragging.length !== path.length || (path.length === 2
        && dragging[0] !== path[0])) return;
      event.preventDefault();
      event.stopPropagation();
      const box = element.getBoundingClientRect();
      const after = event.clientY > box.top + box.height / 2;
      element.classList.toggle('drop-before', !after);
      element.classList.toggle('drop-after', after);
    });
    element.addEventListener('dragleave', () => element.classList.remove('drop-before',
      'drop-after'));
    element.addEventListener('drop', (event) => {
      if (!dragging || dragging.length !== path.length) return;
      event.preventDefault();
      event.stopPropagation();
      const after = element.classList.contains('drop-after');
      element.classList.remove('drop-before', 'drop-after');
      const from = dragging.at(-1);
      let to = path.at(-1) + (after ? 1 : 0);
      if (from < to) to -= 1;
      move(dragging, to);
    });
  }

  function renderCanvas() {
    previewButton.setAttribute('aria-pressed', String(previewing));
    replace(previewButton, previewing ? t('fd.backToEdit') : t('fd.preview'));
    if (previewing) {
      const form = createForm(fields, { values: defaultsOf(fields), mode: 'edit' });
      replace(canvas, h('div', { class: 'card fd-preview', 'aria-label': t('fd.preview') },
        form.element));
      return;
    }
    replace(canvas, fields.length ? h('div', { class: 'fd-list', 'aria-label': t('fd.fields') },
      fields.map((f, i) => card(f, [i]))) : h('div', { class: 'fd-empty card' }, t('fd.empty')));
    ctx.anchor('form', canvas);
    ctx.reanchor();
  }

  function renderPanel() {
    const field = fieldAt(selected);
    if (!field) {
      replace(panel, h('p', { class: 'muted' }, t('fd.nothingSelected')));
      return;
    }
    replace(panel, renderFieldConfig(field, scopeOf(selected), {
      isColumn: selected.length === 2,
      onChange: () => { ctx.changed(); renderCanvas(); },
      onStructure: (columnIndex) => {
        if (columnIndex !== undefined) selected = [selected[0], columnIndex];
        structure();
      },
    }));
  }

  renderCanvas();
  renderPanel();
  return {
    element: h('div', { class: 'form-designer' },
      h('div', { class: 'fd-top' }, h('span', { class: 'muted' }, t('fd.hint')), previewButton),
      h('div', { class: 'fd-layout' }, palette, canvas, panel)),
  };
}
