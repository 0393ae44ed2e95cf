// Status bar: which analyzer the page talks to, its connected agents (GET /api/status), the WebSocket state
// with the reconnection countdown, and the size of the live graph.

import { info, status } from './api.js';
import { fill, fmtAgo, h } from './dom.js';

const STATUS_POLL_MS = 10000;

export class StatusBar {
  /**
   * @param {{analyzer: HTMLElement, agents: HTMLElement, ws: HTMLElement, graph: HTMLElement}} els
   * @param {import('./model.js').TopologyModel} model
   * @param {() => void} retryNow
   */
  constructor(els, model, retryNow) {
    this.els = els;
    this.model = model;
    this.retryNow = retryNow;
    this.wsState = { name: 'connecting' };
    this.tick = setInterval(() => this.renderTicking(), 1000);
    model.onChange(() => this.renderGraph());
    this.loadInfo();
    this.pollStatus();
  }

  async loadInfo() {
    const res = await info();
    const v = res.ok && res.data && typeof res.data === 'object' ? res.data : {};
    fill(
      this.els.analyzer,
      h('span', { class: 'label' }, 'Analyzer '),
      h('strong', {}, window.location.host),
      v.Version ? h('span', { class: 'muted' }, ` v${v.Version}`) : null,
      v.Host ? h('span', { class: 'muted' }, ` · ${v.Host}`) : null,
    );
  }

  async pollStatus() {
    const res = await status();
    if (res.ok && res.data && typeof res.data === 'object') {
      const agents = Object.entries(res.data.Agents ?? {});
      const connected = agents.filter(([, a]) => a?.IsConnected !== false);
      fill(
        this.els.agents,
        h('span', { class: 'label' }, 'Agents '),
        h('strong', { id: 'agent-count' }, String(connected.length)),
        connected.length ? h('span', { class: 'muted' }, ` ${connected.map(([host]) => host).join(', ')}`) : null,
      );
      this.els.agents.title = agents.map(([host, a]) => `${host} ${a?.RemoteHost ?? a?.Addr ?? ''} since ${a?.ConnectTime ?? '?'}`).join('\n');
    } else {
      fill(this.els.agents, h('span', { class: 'label' }, 'Agents '), h('span', { class: 'warn' }, res.ok ? '?' : `status unavailable (${res.error})`));
    }
    setTimeout(() => this.pollStatus(), STATUS_POLL_MS);
  }

  setWebSocketState(s) {
    this.wsState = s;
    this.renderTicking();
  }

  renderTicking() {
    const s = this.wsState;
    let text;
    let cls;
    switch (s.name) {
      case 'open':
        text = 'live';
        cls = 'ok';
        break;
      case 'connecting':
        text = s.attempt ? `connecting (attempt ${s.attempt + 1})` : 'connecting';
        cls = 'pending';
        break;
      case 'reconnecting': {
        const secs = Math.max(0, Math.ceil((s.retryAt - Date.now()) / 1000));
        text = `disconnected, retry in ${secs}s`;
        cls = 'bad';
        break;
      }
      default:
        text = 'closed';
        cls = 'bad';
    }
    fill(
      this.els.ws,
      h('span', { class: 'label' }, 'WebSocket '),
      h('span', { class: `dot ${cls}` }),
      h('strong', { id: 'ws-state', dataset: { state: s.name } }, text),
      s.name === 'reconnecting'
        ? h('button', { type: 'button', class: 'link', onclick: () => this.retryNow() }, 'retry now')
        : null,
    );
    this.els.ws.title = s.error ? `last error: ${s.error}` : '';
    this.renderGraph();
  }

  renderGraph() {
    const m = this.model;
    fill(
      this.els.graph,
      h('strong', {}, String(m.nodes.size)),
      ' nodes · ',
      h('strong', {}, String(m.edges.size)),
      ' edges',
      m.lastEventAt ? h('span', { class: 'muted' }, ` · last change ${fmtAgo(m.lastEventAt)}`) : null,
    );
  }
}
