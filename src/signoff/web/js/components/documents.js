// The documents of a request: contracts made from the template's Word document when the
// request was approved (docs/documents.md). Each shows its state; a finished one has its
// .docx (and PDF) to download, unless it shows fields hidden from this person
// (`may_download`); a failed one names the placeholders without a value. Administrators,
// the template's admins and apps may have an approved request's document made again.
//
// API: GET|POST /instances/{id}/documents, GET /instances/{id}/documents/{doc}[?format=pdf],
// GET /templates/{key}/document (administrators: whether the template has one at all).

import { h, replace } from '../core/dom.js';
import { formatTime, t } from '../core/i18n.js';
import { download, get, request } from '../core/api.js';
import { card, errorBox, toast } from './ui.js';

const POLL_MS = 2000;
const TONE = { pending: 'tone-info', done: 'tone-ok', failed: 'tone-bad' };

/** `{ element, refill }`: a card that fills itself in (and again on `refill()`, when a
 * document was made); hidden when the request has no documents and this person could not
 * make one. */
export function documentsCard(instance, template, me) {
  const body = h('div', { class: 'documents' });
  const element = card(t('docs.title'), body);
  element.hidden = true;
  const admins = (template.settings && template.settings.admins) || [];
  const designer = me.is_admin || admins.includes(me.principal_id);
  const base = `instances/${encodeURIComponent(instance.id)}/documents`;
  let later = null;

  async function fill() {
    let documents;
    try {
      documents = await get(base);
    } catch (error) {
      replace(body, errorBox(error));
      element.hidden = false;
      return;
    }
    const again = designer && instance.status === 'approved'
      && (documents.length || await hasTemplate(instance.template_key, me));
    element.hidden = !documents.length && !again;
    // one being made: look again shortly (not everyone hears of it live: only participants)
    clearTimeout(later);
    if (documents.some((doc) => doc.status === 'pending')) {
      later = setTimeout(() => { if (element.isConnected) fill(); }, POLL_MS);
    }
    replace(body, documents.length ? h('ul', { class: 'document-list' },
      documents.map((doc) => item(doc))) : h('p', { class: 'muted' }, t('docs.none')),
    again ? h('div', { class: 'toolbar' }, h('button', { type: 'button', class: 'btn btn-sm',
      onclick: async (event) => {
        event.currentTarget.disabled = true;
        try {
          await request(base, { method: 'POST', body: {} });
          toast(t('docs.queued'), 'success');
        } catch (error) {
          toast(error.message, 'error');
        }
        await fill();
      } }, documents.length ? t('docs.again') : t('docs.make'))) : null);
  }

  function item(doc) {
    const links = [];
    if (doc.docx && doc.may_download) {
      links.push(h('button', { type: 'button', class: 'btn btn-sm',
        'aria-label': t('docs.downloadOf', { name: doc.filename }),
        onclick: () => save(doc.docx, doc.filename) }, t('docs.download')));
    }
    if (doc.pdf && doc.may_download) {
      const pdfName = doc.filename.replace(/\.docx$/i, '') + '.pdf';
      links.push(h('button', { type: 'button', class: 'btn btn-sm',
        'aria-label': t('docs.downloadOf', { name: pdfName }),
        onclick: () => save(doc.pdf, pdfName) }, 'PDF'));
    }
    const notes = [];
    if (doc.status === 'done' && !doc.may_download) notes.push(t('docs.hidden'));
    if (doc.pdf_wanted && !doc.pdf && doc.pdf_note) notes.push(t('docs.noPdf', { why: doc.pdf_note }));
    if (doc.status === 'failed' && doc.error) {
      const names = doc.error.placeholders || [];
      notes.push(names.length ? t('docs.missing', { names: names.join(', ') }) : doc.error.message);
    }
    return h('li', { class: 'document', dataset: { document: doc.id, status: doc.status } },
      h('div', { class: 'document-head' },
        h('span', { class: 'document-name' }, doc.filename),
        h('span', { class: `badge ${TONE[doc.status] || ''}` }, t(`docs.${doc.status}`))),
      h('div', { class: 'muted small' }, formatTime(doc.finished_at || doc.created_at)),
      notes.map((note) => h('div', { class: 'hint' }, note)),
      links.length ? h('div', { class: 'row-actions' }, links) : null);
  }

  async function save(url, filename) {
    try {
      await download(url.replace(/^\/?api\/v1\//, ''), filename);
    } catch (error) {
      toast(error.message, 'error');
    }
  }

  fill();
  return { element, refill: fill };
}

async function hasTemplate(key, me) {
  if (!me.is_admin) return true; // template admins cannot look: the server will say
  try {
    await get(`templates/${encodeURIComponent(key)}/document`);
    return true;
  } catch {
    return false;
  }
}
