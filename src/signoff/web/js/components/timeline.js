// The request's timeline, top to bottom: each step that happened (who, when, what, the
// comment, on whose behalf), then who must act now and who waits after them.

import { h } from '../core/dom.js';
import { formatTime, t } from '../core/i18n.js';
import { nameOf } from '../core/state.js';
import { avatar } from './ui.js';

const TONE = {
  InstanceSubmitted: 'info', InstanceResubmitted: 'info', TaskApproved: 'ok',
  TaskRejected: 'bad', TaskReturned: 'alert', TaskTransferred: 'info', TaskDelegated: 'info',
  ApproversAdded: 'info', ApproverRemoved: 'muted', CommentAdded: 'muted', Urged: 'warn',
  CcSent: 'muted', FormEdited: 'info', InstanceWithdrawn: 'muted', InstanceTerminated: 'bad',
  InstanceApproved: 'ok', InstanceRejected: 'bad', ApprovalTakenBack: 'alert',
  TaskTimedOut: 'warn',
};

/** The people named in the timeline and tasks (to load their names first). */
export function timelinePeople(instance) {
  const ids = new Set([instance.applicant_id, ...instance.cc]);
  for (const task of instance.tasks) {
    ids.add(task.assignee);
    if (task.on_behalf_of) ids.add(task.on_behalf_of);
  }
  for (const e of instance.timeline) {
    if (e.actor) ids.add(e.actor);
    for (const key of ['to', 'recipients', 'people']) {
      for (const id of [].concat(e.data[key] || [])) ids.add(id);
    }
  }
  return [...ids];
}

export function renderTimeline(instance, template) {
  const tasks = new Map(instance.tasks.map((task) => [task.id, task]));
  const labels = new Map((template ? template.form.fields : []).map((f) => [f.id, f.label]));
  const nodeName = (id) => {
    const task = instance.tasks.find((x) => x.node_id === id);
    return task ? task.node_name : id;
  };
  const entries = [];
  for (const e of instance.timeline) {
    const entry = describe(e, tasks, labels, nodeName, instance);
    if (entry) entries.push({ ...entry, event: e });
  }
  const items = entries.map((entry) => h('li', {
    class: ['tl-item', `tl-${TONE[entry.event.type] || 'muted'}`],
    dataset: { event: entry.event.type },
  }, avatar(entry.who, ''), h('div', { class: 'tl-body' },
    h('div', { class: 'tl-line' },
      h('span', { class: 'tl-who' }, entry.who),
      h('span', { class: 'tl-action' }, entry.action),
      h('time', { class: 'tl-when', datetime: entry.event.at }, formatTime(entry.event.at))),
    entry.node ? h('div', { class: 'tl-node' }, entry.node) : null,
    entry.behalf ? h('div', { class: 'tl-behalf' }, t('timeline.onBehalf', {
      name: nameOf(entry.behalf) })) : null,
    entry.comment ? h('blockquote', { class: 'tl-comment' }, entry.comment) : null)));

  // now: the tasks whose turn it is; then the ones waiting for them
  const open = instance.status === 'pending' ? instance.tasks.filter((x) => x.status === 'pending'
    || x.status === 'waiting') : [];
  const byNode = new Map();
  for (const task of open) {
    const key = `${task.node_id}:${task.status}`;
    if (!byNode.has(key)) byNode.set(key, []);
    byNode.get(key).push(task);
  }
  for (const group of byNode.values()) {
    const first = group[0];
    const waiting = first.status === 'waiting';
    items.push(h('li', { class: ['tl-item', waiting ? 'is-waiting' : 'is-now', 'tl-warn'],
      dataset: { event: waiting ? 'waiting' : 'now' } },
    avatar(nameOf(first.assignee), ''), h('div', { class: 'tl-body' },
      h('div', { class: 'tl-line' },
        h('span', { class: 'tl-who' }, group.map((x) => nameOf(x.assignee)).join(t('common.sep'))),
        h('span', { class: 'tl-action' }, waiting ? t('timeline.waiting') : t('timeline.now')),
        first.due_at && !waiting ? h('span', { class: 'tl-when' }, t('timeline.due', {
          time: formatTime(first.due_at) })) : null),
      h('div', { class: 'tl-node' }, first.node_name),
      group.filter((x) => x.on_behalf_of).map((x) => h('div', { class: 'tl-behalf' },
        t('timeline.onBehalf', { name: nameOf(x.on_behalf_of) }))))));
  }
  return h('ol', { class: 'timeline', 'aria-label': t('request.timeline') }, items);
}

function describe(e, tasks, labels, nodeName, instance) {
  const d = e.data || {};
  const task = d.task_id ? tasks.get(d.task_id) : null;
  const actor = e.actor ? nameOf(e.actor) : t('timeline.system');
  const people = (ids) => [].concat(ids || []).map(nameOf).join(t('common.sep'));
  const taskWho = task ? nameOf(task.assignee) : actor;
  const node = task ? task.node_name : null;
  const behalf = task ? task.on_behalf_of : null;
  switch (e.type) {
    case 'InstanceSubmitted':
      return { who: d.applicant_name || actor, action: t('timeline.submitted') };
    case 'InstanceResubmitted':
      return { who: actor, action: t('timeline.resubmitted') };
    case 'TaskApproved':
      return { who: d.auto ? t('timeline.system') : taskWho, node, behalf, comment: d.comment,
        action: d.auto ? t('timeline.autoApproved', { name: taskWho,
          reason: t(`auto.${d.auto}`) }) : t('timeline.approved') };
    case 'TaskRejected':
      return { who: taskWho, node, behalf, comment: d.comment, action: t('timeline.rejected') };
    case 'TaskReturned':
      return { who: taskWho, node, behalf, comment: d.comment, action: d.to_node
        ? t('timeline.returnedTo', { name: nodeName(d.to_node) }) : t('timeline.returned') };
    case 'TaskTransferred':
      return { who: taskWho, node, comment: d.comment,
        action: t('timeline.transferred', { name: nameOf(d.to) }) };
    case 'TaskDelegated':
      return { who: taskWho, node, comment: d.comment,
        action: t('timeline.delegated', { name: nameOf(d.to) }) };
    case 'ApproversAdded':
      return { who: taskWho, node, comment: d.comment, action: t(d.before
        ? 'timeline.addedBefore' : 'timeline.addedAfter', { names: people(d.people) }) };
    case 'ApproverRemoved':
      return { who: actor, node, comment: d.comment,
        action: t('timeline.removed', { name: task ? nameOf(task.assignee) : '' }) };
    case 'ApprovalTakenBack':
      return { who: actor, node, comment: d.comment, action: t('timeline.takenBack') };
    case 'CommentAdded':
      return { who: actor, comment: d.text, action: t('timeline.commented') };
    case 'Urged':
      return { who: actor, comment: d.comment,
        action: t('timeline.urged', { names: people(d.recipients) }) };
    case 'CcSent':
      return { who: d.node_id ? t('timeline.system') : actor, comment: d.comment,
        action: t('timeline.cc', { names: people(d.recipients) }) };
    case 'FormEdited':
      return { who: actor, node, action: t('timeline.edited', {
        fields: Object.keys(d.changes || {}).map((k) => labels.get(k) || k).join(t('common.sep')),
      }) };
    case 'TaskTimedOut':
      return { who: t('timeline.system'), node, action: t(`timeout.${d.action}`) };
    case 'InstanceWithdrawn':
      return { who: actor, comment: d.comment, action: t('timeline.withdrawn') };
    case 'InstanceTerminated':
      return { who: actor, comment: d.comment, action: t('timeline.terminated') };
    case 'InstanceApproved':
      return { who: nameOf(instance.applicant_id), action: t('timeline.finishedApproved') };
    case 'InstanceRejected':
      return { who: nameOf(instance.applicant_id), action: t('timeline.finishedRejected') };
    default:
      return null;
  }
}
