// Two languages: zh-CN and en. The page starts in the language the server read from
// Accept-Language (<html data-locale>), unless the person chose one (localStorage).
// Messages are flat keys with {name} placeholders; a missing key falls back to English,
// then to the key itself, so nothing ever shows blank.

import zhApp from '../../i18n/zh-CN.js';
import zhAdmin from '../../i18n/zh-CN-admin.js';
import enApp from '../../i18n/en.js';
import enAdmin from '../../i18n/en-admin.js';

const en = { ...enApp, ...enAdmin };
const DICTS = { 'zh-CN': { ...zhApp, ...zhAdmin }, en };
const STORE_KEY = 'signoff.locale';
let current = pick();

function pick() {
  const chosen = localStorage.getItem(STORE_KEY);
  if (chosen && DICTS[chosen]) return chosen;
  const hint = document.documentElement.dataset.locale;
  if (hint && DICTS[hint]) return hint;
  const asked = (navigator.languages || [navigator.language || 'en'])[0] || 'en';
  return asked.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en';
}

export function locale() {
  return current;
}

export function setLocale(value) {
  if (!DICTS[value]) return;
  localStorage.setItem(STORE_KEY, value);
  current = value;
  document.documentElement.lang = value;
}

document.documentElement.lang = current;

/** The message for `key` with {placeholders} filled from `params`. */
export function t(key, params = {}) {
  const text = DICTS[current][key] ?? en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

/** `t(key)` if such a message exists, else `fallback`. */
export function tOr(key, fallback) {
  const text = DICTS[current][key] ?? en[key];
  return text === undefined ? fallback : text;
}

const timeFormats = new Map();
function formatter(options) {
  const key = current + JSON.stringify(options);
  if (!timeFormats.has(key)) timeFormats.set(key, new Intl.DateTimeFormat(current, options));
  return timeFormats.get(key);
}

/** A time for lists: today "14:05", this year "11-22 14:05", else "2025-11-22". */
export function formatWhen(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  const now = new Date();
  if (date.toDateString() === now.toDateString()) {
    return formatter({ hour: '2-digit', minute: '2-digit', hour12: false }).format(date);
  }
  if (date.getFullYear() === now.getFullYear()) {
    return formatter({ month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
      hour12: false }).format(date);
  }
  return formatter({ year: 'numeric', month: '2-digit', day: '2-digit' }).format(date);
}

/** A full time: "2026-11-22 14:05". */
export function formatTime(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  return formatter({ year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit',
    minute: '2-digit', hour12: false }).format(date);
}

/** A money value (decimal string) with its currency, without rounding it. */
export function formatMoney(value, currency = 'CNY') {
  if (value === null || value === undefined || value === '') return '';
  const [whole, fraction] = String(value).split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const symbol = currency === 'CNY' ? '¥' : `${currency} `;
  return `${symbol}${grouped}${fraction !== undefined ? `.${fraction}` : ''}`;
}

export function formatSize(bytes) {
  if (typeof bytes !== 'number') return '';
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
