// Live updates over the WebSocket at <base>/ws.
//
// The client says hello with its access token and the last position it saw; the server
// answers `welcome`, replays what was missed, then pushes live messages. The position is
// kept in sessionStorage. A dropped socket reconnects with backoff (1s, 2s, 4s … 30s);
// close code 4401 means the token expired: refresh it, then reconnect. A ping every 25 s
// keeps it open through proxies. While the socket is down, the header counts are polled
// so that they never go stale for long.

import { refresh, session, socketUrl } from './api.js';
import { emit, loadMe } from './state.js';

const POSITION_KEY = 'signoff.position';
const PUSHED = new Set(['task.assigned', 'instance.updated', 'instance.urged', 'cc.received']);
const POLL_MS = 30000;
const PING_MS = 25000; // keeps proxies from closing an idle socket

let socket = null;
let stopped = true;
let attempt = 0;
let retryTimer = null;
let pollTimer = null;
let pingTimer = null;

export const status = { connected: false };

function lastPosition() {
  const value = sessionStorage.getItem(POSITION_KEY);
  return value === null ? null : Number(value);
}

function remember(position) {
  if (typeof position === 'number' && position > (lastPosition() ?? -1)) {
    sessionStorage.setItem(POSITION_KEY, String(position));
  }
}

function setConnected(value) {
  status.connected = value;
  emit('live-status', value);
  clearInterval(pollTimer);
  if (!value && !stopped) {
    pollTimer = setInterval(() => { loadMe().catch(() => {}); }, POLL_MS);
  }
}

function schedule() {
  if (stopped) return;
  const delay = Math.min(30000, 1000 * 2 ** attempt) + Math.floor(Math.random() * 300);
  attempt += 1;
  clearTimeout(retryTimer);
  retryTimer = setTimeout(connect, delay);
}

function connect() {
  const current = session();
  if (stopped || !current) return;
  let ws;
  try {
    ws = new WebSocket(socketUrl());
  } catch {
    schedule();
    return;
  }
  socket = ws;
  ws.addEventListener('open', () => {
    ws.send(JSON.stringify({ type: 'hello', token: current.access_token, after: lastPosition() }));
    clearInterval(pingTimer);
    pingTimer = setInterval(() => {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'ping' }));
    }, PING_MS);
  });
  ws.addEventListener('message', (event) => {
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      return;
    }
    if (message.type === 'welcome') {
      attempt = 0;
      setConnected(true);
      if (lastPosition() === null) remember(message.position);
      return;
    }
    if (!PUSHED.has(message.type)) return;
    remember(message.position);
    if (message.counts) emit('counts-pushed', message.counts);
    emit('live', message);
  });
  ws.addEventListener('close', async (event) => {
    if (socket === ws) socket = null;
    clearInterval(pingTimer);
    setConnected(false);
    if (stopped) return;
    if (event.code === 4401) {
      try {
        await refresh();
        attempt = 0;
        connect();
        return;
      } catch {
        // the refresh failed: signed out, or the server is away; retry later
      }
    }
    schedule();
  });
}

export function startLive() {
  if (!stopped) return;
  stopped = false;
  attempt = 0;
  connect();
  setConnected(false);
}

export function stopLive() {
  stopped = true;
  clearTimeout(retryTimer);
  clearInterval(pollTimer);
  clearInterval(pingTimer);
  if (socket) socket.close(1000);
  socket = null;
  sessionStorage.removeItem(POSITION_KEY);
}
