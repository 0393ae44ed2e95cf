// Live topology over /ws/subscriber: on each (re)connection ask for the whole graph (SyncRequest → SyncReply),
// then apply the events the analyzer pushes. Lost connections are retried with exponential backoff and jitter,
// so that a restarted analyzer is not hammered by every open page at once.

const MIN_DELAY_MS = 500;

/**
 * A random request id. Not crypto.randomUUID(): browsers only offer it in secure contexts (https, localhost),
 * and analyzers are usually opened over plain http on a lab or management address.
 */
function requestID() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
const MAX_DELAY_MS = 15000;

/**
 * @typedef {{name: 'connecting'|'open'|'reconnecting'|'closed', attempt?: number, retryAt?: number, error?: string}} LiveState
 */
export class LiveConnection {
  /**
   * @param {{url: string, onMessage: (msg: any) => void, onState: (s: LiveState) => void}} opts
   */
  constructor({ url, onMessage, onState }) {
    this.url = url;
    this.onMessage = onMessage;
    this.onState = onState;
    this.attempt = 0;
    this.ws = null;
    this.timer = null;
    this.stopped = false;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.ws?.close();
    this.onState({ name: 'closed' });
  }

  /** Force an immediate retry (the status bar's "reconnect now"). */
  retryNow() {
    if (this.ws && this.ws.readyState <= WebSocket.OPEN) return;
    clearTimeout(this.timer);
    this.connect();
  }

  connect() {
    this.onState({ name: 'connecting', attempt: this.attempt });
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (err) {
      this.scheduleRetry(String(err.message ?? err));
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this.onState({ name: 'open' });
      ws.send(
        JSON.stringify({ Namespace: 'Graph', Type: 'SyncRequest', UUID: requestID(), Obj: {} }),
      );
    };
    ws.onmessage = (ev) => {
      let msg;
      try {
        msg = JSON.parse(ev.data);
        if (typeof msg.Obj === 'string') msg.Obj = JSON.parse(msg.Obj);
      } catch {
        return; // not a JSON envelope (e.g. a protobuf frame): nothing the page can show
      }
      this.onMessage(msg);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (!this.stopped) this.scheduleRetry(ev.reason || (ev.code !== 1000 ? `closed (code ${ev.code})` : 'closed'));
    };
  }

  scheduleRetry(error) {
    const base = Math.min(MAX_DELAY_MS, MIN_DELAY_MS * 2 ** this.attempt);
    const delay = Math.round(base * (0.75 + Math.random() * 0.5));
    this.attempt++;
    this.onState({ name: 'reconnecting', attempt: this.attempt, retryAt: Date.now() + delay, error });
    this.timer = setTimeout(() => this.connect(), delay);
  }
}

/** ws(s)://<page host>/ws/subscriber; browsers cannot set handshake headers, the analyzer reads them as query parameters. */
export function subscriberURL(loc = window.location) {
  const proto = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${loc.host}/ws/subscriber?x-client-type=webui`;
}
