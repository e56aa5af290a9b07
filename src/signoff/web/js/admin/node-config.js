// The configuration of the selected node or route: approver (assignee rules, mode, vote,
// empty and same-approver rules, timeout, comments, field permissions), CC (recipients,
// when), gateways (name), routes (name, priority, default, condition) and branches.

import { h, icon, replace, uid } from '../core/dom.js';
import { t } from '../core/i18n.js';
import { fieldPaths } from '../core/template.js';
import { personPicker } from '../components/pickers.js';
import { assigneesEditor } from './assignees.js';
import { conditionEditor } from './conditions.js';
import { block, checkbox, numberInput, select, textInput } from './controls.js';

export function renderNodeConfig(selected, doc, handlers) {
  const { item } = selected;
  const fields = (doc.form && doc.form.fields) || [];
  const head = (title) => h('div', { class: 'panel-head' },
    h('h2', { class: 'card-title' }, title),
    h('button', { type: 'button', class: 'icon-btn', 'aria-label': t('common.close'),
      onclick: handlers.close }, icon('close')));
  const idLine = h('p', { class: 'hint' }, t('fl.id'), ' ', h('code', {}, item.id));
  const body = h('div', { class: 'node-config' });
  const render = () => {
    if (selected.kind === 'route') replace(body, routeConfig(selected, doc, handlers, render));
    else if (item.type === 'approver') replace(body, approverConfig(item, fields, handlers, render));
    else if (item.type === 'cc') replace(body, ccConfig(item, fields, handlers));
    else replace(body, textInput(item, 'name', t('fl.gatewayName'), { onChange: handlers.onChange,
      hint: t(`fl.hint.${item.type}`) }));
  };
  render();
  const title = selected.kind === 'route'
    ? t(selected.gateway.type === 'parallel' ? 'fl.branch' : 'fl.route')
    : t(`node.${item.type}`);
  return h('div', { class: 'config' }, head(title), idLine, body);
}

function approverConfig(node, fields, handlers, rerender) {
  const { onChange, onStructure } = handlers;
  const structural = () => { onStructure(); rerender(); };
  const parts = [
    textInput(node, 'name', t('fl.name'), { onChange, keep: true }),
    block(t('fl.assignees'), assigneesEditor(node, 'assignees', fields, {
      onChange, onStructure })),
    select(node, 'mode', t('fl.mode'), ['sequential', 'all', 'any', 'vote'].map((m) =>
      [m, t(`mode.${m}`)]), { onChange: structural, hint: t('fl.modeHint') }),
  ];
  if (node.mode === 'vote') parts.push(voteConfig(node, onChange));
  parts.push(
    select(node, 'on_empty', t('fl.onEmpty'), [['admins', t('fl.onEmpty.admins')],
      ['auto_approve', t('fl.onEmpty.auto_approve')], ['auto_reject', t('fl.onEmpty.auto_reject')]],
    { onChange, defaultLabel: t('fl.onEmpty.default') }),
    select(node, 'on_applicant', t('fl.onApplicant'), [['self', t('fl.onApplicant.self')],
      ['skip', t('fl.onApplicant.skip')], ['supervisor', t('fl.onApplicant.supervisor')]],
    { onChange, defaultLabel: t('fl.onApplicant.default') }),
    commentConfig(node, onChange),
    timeoutConfig(node, onChange, rerender),
    permissionsConfig(node, fields, onChange),
  );
  return h('div', {}, parts);
}

function ccConfig(node, fields, { onChange, onStructure }) {
  return h('div', {},
    textInput(node, 'name', t('fl.name'), { onChange, keep: true }),
    block(t('fl.recipients'), assigneesEditor(node, 'recipients', fields, {
      onChange, onStructure, cc: true })),
    select(node, 'when', t('fl.ccWhen'), [['reached', t('fl.ccWhen.reached')],
      ['start', t('fl.ccWhen.start')], ['finish', t('fl.ccWhen.finish')]], { onChange }));
}

function voteConfig(node, onChange) {
  if (!node.vote) node.vote = { weights: {}, default_weight: 1, pass: 0.5, reject: 0.5 };
  const vote = node.vote;
  if (!vote.weights) vote.weights = {};
  const rows = h('ul', { class: 'weights' });
  const render = () => replace(rows, Object.entries(vote.weights).map(([person, weight]) => {
    const input = h('input', { type: 'number', min: 0, step: 'any', value: weight,
      'aria-label': t('fl.weightOf', { name: person }),
      oninput: () => { vote.weights[person] = Number(input.value || 0); onChange(); } });
    return h('li', { class: 'weight' }, h('span', {}, person), input,
      h('button', { type: 'button', class: 'icon-btn', 'aria-label': t('common.remove', {
        name: person }), onclick: () => { delete vote.weights[person]; render(); onChange(); } },
      icon('trash')));
  }));
  render();
  const picker = personPicker({ label: t('fl.addWeight'), onChange: (id) => {
    if (id && !(id in vote.weights)) {
      vote.weights[id] = 2;
      render();
      onChange();
    }
    picker.set(null);
  } });
  return h('fieldset', { class: 'subsection' }, h('legend', {}, t('fl.vote')),
    numberInput(vote, 'pass', t('fl.votePass'), { onChange, hint: t('fl.votePassHint') }),
    numberInput(vote, 'reject', t('fl.voteReject'), { onChange }),
    numberInput(vote, 'default_weight', t('fl.defaultWeight'), { onChange }),
    block(t('fl.weights'), h('div', {}, rows, picker.element)));
}

function commentConfig(node, onChange) {
  const rule = node.comment_required || { approve: false, reject: true };
  const attach = () => { node.comment_required = rule; onChange(); };
  return h('fieldset', { class: 'subsection' }, h('legend', {}, t('fl.commentRequired')),
    checkbox(rule, 'approve', t('fl.commentOnApprove'), { onChange: attach }),
    checkbox(rule, 'reject', t('fl.commentOnReject'), { onChange: attach, defaultValue: true }));
}

function timeoutConfig(node, onChange, rerender) {
  const on = h('input', { id: uid('to'), type: 'checkbox', checked: !!node.timeout,
    onchange: () => {
      if (on.checked) node.timeout = { after: { hours: 24 }, action: 'remind' };
      else delete node.timeout;
      onChange();
      rerender();
    } });
  const parts = [h('div', { class: 'row row-check' }, on, h('label', { for: on.id },
    t('fl.timeoutOn')))];
  if (node.timeout) {
    const timeout = node.timeout;
    if (!timeout.after) timeout.after = {};
    parts.push(h('div', { class: 'grid-3' },
      numberInput(timeout.after, 'days', t('fl.days'), { kind: 'int', min: 0, onChange }),
      numberInput(timeout.after, 'hours', t('fl.hours'), { kind: 'int', min: 0, onChange }),
      numberInput(timeout.after, 'minutes', t('fl.minutes'), { kind: 'int', min: 0, onChange })),
    select(timeout, 'action', t('fl.timeoutAction'), ['remind', 'auto_approve', 'auto_reject',
      'escalate'].map((a) => [a, t(`fl.timeout.${a}`)]), { onChange }),
    numberInput(timeout, 'repeat', t('fl.repeat'), { kind: 'int', min: 0, onChange }),
    checkbox(timeout, 'working_time', t('fl.workingTime'), { onChange }));
  }
  return h('fieldset', { class: 'subsection' }, h('legend', {}, t('fl.timeout')), parts);
}

function permissionsConfig(node, fields, onChange) {
  const labels = new Map();
  for (const f of fields) {
    labels.set(f.id, f.label || f.id);
    for (const c of f.columns || []) labels.set(`${f.id}.${c.id}`, `${f.label || f.id} · ${c.label || c.id}`);
  }
  const existed = !!node.permissions;
  const rows = fieldPaths(fields).map((path) => {
    const current = (node.permissions && node.permissions[path]) || 'read';
    const choice = h('select', { 'aria-label': t('fl.permissionOf', { name: labels.get(path) }),
      onchange: () => {
        // `read` is the default: it removes the entry (and an emptied map this editor made)
        if (choice.value === 'read') {
          if (node.permissions) delete node.permissions[path];
          if (node.permissions && !existed && !Object.keys(node.permissions).length) {
            delete node.permissions;
          }
        } else {
          node.permissions = node.permissions || {};
          node.permissions[path] = choice.value;
        }
        onChange();
      } }, ['read', 'write', 'hidden'].map((level) => h('option', { value: level,
      selected: level === current }, t(`fl.perm.${level}`))));
    return h('tr', {}, h('td', {}, labels.get(path)), h('td', {}, choice));
  });
  return h('fieldset', { class: 'subsection' }, h('legend', {}, t('fl.permissions')),
    h('table', { class: 'data perms' }, h('tbody', {}, rows)));
}

function routeConfig(selected, doc, handlers, rerender) {
  const { item: route, gateway } = selected;
  const { onChange, onStructure } = handlers;
  const parts = [textInput(route, 'name', t('fl.name'), { onChange, keep: true })];
  if (gateway.type === 'parallel') return h('div', {}, parts, h('p', { class: 'hint' },
    t('fl.hint.parallel')));
  if (route.default) {
    parts.push(h('p', { class: 'hint' }, t('fl.defaultHint')));
    return h('div', {}, parts);
  }
  parts.push(numberInput(route, 'priority', t('fl.priorityLabel'), { kind: 'int', min: 1,
    onChange, hint: t('fl.priorityHint') }));
  parts.push(block(t('fl.condition'), conditionEditor(route, 'when', doc, onChange)));
  parts.push(h('button', { type: 'button', class: 'btn btn-sm', onclick: () => {
    const routes = gateway.routes;
    const old = routes.find((r) => r.default);
    if (old) {
      delete old.default;
      old.priority = Math.max(0, ...routes.filter((r) => !r.default).map((r) => r.priority || 0)) + 1;
      old.when = { all: [] };
    }
    route.default = true;
    delete route.when;
    delete route.priority;
    onStructure();
    rerender();
  } }, t('fl.makeDefault')));
  return h('div', {}, parts);
}
