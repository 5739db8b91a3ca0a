// api.js: the HTTP API, with the key the user logged in with (kept in
// sessionStorage, sent as the Bearer header; no cookies).

const KEY = 'heistgraph.key';

export function getKey() {
  return sessionStorage.getItem(KEY) || '';
}

export function setKey(k) {
  if (k) sessionStorage.setItem(KEY, k);
  else sessionStorage.removeItem(KEY);
}

// APIError is an answer other than 2xx: status and the server's message.
export class APIError extends Error {
  constructor(status, message, field) {
    super(message);
    this.status = status;
    this.field = field;
  }
}

// api calls the API and returns the JSON answer (or the Response with raw).
export async function api(path, {method = 'GET', body, raw = false, signal} = {}) {
  const headers = {Authorization: 'Bearer ' + getKey()};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, {method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal});
  if (!res.ok) {
    let msg = res.status + ' ' + res.statusText;
    let field;
    try {
      const e = await res.json();
      if (e && e.error) msg = e.error;
      field = e && e.field;
    } catch (_) { /* not JSON */ }
    throw new APIError(res.status, msg, field);
  }
  if (raw) return res;
  return res.json();
}

// stream reads GET path as server-sent events with the key in the header
// (EventSource cannot send one), calling onEvent(name, data) for each, and
// reconnects after a drop (calling onOpen again). It returns a stop function.
export function stream(path, {onEvent, onOpen, onError}) {
  let ctl = new AbortController();
  let stopped = false;
  const run = async () => {
    while (!stopped) {
      try {
        const res = await fetch(path, {headers: {Authorization: 'Bearer ' + getKey(), Accept: 'text/event-stream'}, signal: ctl.signal});
        if (!res.ok) throw new APIError(res.status, 'events: ' + res.status);
        if (onOpen) onOpen();
        const reader = res.body.getReader();
        const dec = new TextDecoder();
        let buf = '';
        for (;;) {
          const {value, done} = await reader.read();
          if (done) break;
          buf += dec.decode(value, {stream: true});
          let i;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            let name = 'message';
            const data = [];
            for (const line of block.split('\n')) {
              if (line.startsWith('event: ')) name = line.slice(7);
              else if (line.startsWith('data: ')) data.push(line.slice(6));
            }
            if (data.length) onEvent(name, JSON.parse(data.join('\n')));
          }
        }
      } catch (e) {
        if (stopped) return;
        if (onError) onError(e);
        if (e instanceof APIError && (e.status === 401 || e.status === 403)) return;
      }
      await new Promise((r) => setTimeout(r, 2000));
    }
  };
  run();
  return () => {
    stopped = true;
    ctl.abort();
  };
}
