// Wires the page together: live model ← WebSocket, graph view, side panels, Gremlin box, status bar.

import { h, fill } from './dom.js';
import { FlowsPanel } from './flows-panel.js';
import { GraphView } from './graph-view.js';
import { LiveConnection, subscriberURL } from './live.js';
import { TopologyModel } from './model.js';
import { NodePanel } from './node-panel.js';
import { QueryBox } from './query-box.js';
import { StatusBar } from './status-bar.js';
import { EDGE_LEGEND, NODE_CATEGORIES } from './style.js';

const $ = (id) => document.getElementById(id);

const model = new TopologyModel();
const view = new GraphView($('graph'), model);

const query = new QueryBox(
  { form: $('query-form'), input: $('gremlin'), clear: $('query-clear'), result: $('query-result'), history: $('gremlin-history') },
  view,
);
const nodePanel = new NodePanel($('node-panel'), model, {
  onSelect: (id) => view.select(id),
  onQuery: (q) => query.run(q),
});
const flows = new FlowsPanel($('flows-body'), $('flows-count'), $('flows-auto'));
$('flows-refresh').addEventListener('click', () => flows.refresh());

view.onSelect((id) => {
  nodePanel.show(id);
  flows.show(id);
  document.body.classList.toggle('has-selection', Boolean(id));
});

const live = new LiveConnection({
  url: subscriberURL(),
  onMessage: (msg) => {
    if (msg.Namespace !== 'Graph') return;
    if (msg.Type === 'SyncReply' && msg.Status && msg.Status >= 400) {
      statusBar.setWebSocketState({ name: 'open', error: `SyncReply ${msg.Status}: ${JSON.stringify(msg.Obj)}` });
      return;
    }
    model.apply(msg.Type, msg.Obj);
  },
  onState: (s) => {
    statusBar.setWebSocketState(s);
    // a stale picture must look stale
    document.body.classList.toggle('ws-down', s.name === 'reconnecting' || s.name === 'closed');
  },
});
const statusBar = new StatusBar(
  { analyzer: $('status-analyzer'), agents: $('status-agents'), ws: $('status-ws'), graph: $('status-graph') },
  model,
  () => live.retryNow(),
);
live.start();

$('layout').addEventListener('change', (ev) => view.setLayout(ev.target.value));
$('relayout').addEventListener('click', () => view.runLayout({ fit: true, fresh: true }));
$('fit').addEventListener('click', () => view.fit());
$('auto-layout').addEventListener('change', (ev) => (view.autoLayout = ev.target.checked));
$('legend-toggle').addEventListener('click', () => {
  const collapsed = $('legend').classList.toggle('collapsed');
  localStorage.setItem('skydive.legend.collapsed', collapsed ? '1' : '');
});
if (localStorage.getItem('skydive.legend.collapsed')) $('legend').classList.add('collapsed');

fill(
  $('legend-body'),
  h(
    'ul',
    {},
    Object.values(NODE_CATEGORIES).map((c) =>
      h('li', {}, h('span', { class: `swatch shape-${c.shape}`, style: { background: c.color } }), c.legend),
    ),
  ),
  h('ul', {}, EDGE_LEGEND.map((e) => h('li', {}, h('span', { class: `line line-${e.cls}` }), e.legend))),
);

// A handle for the browser console and the functional test: read-only views of what the page holds.
window.skydive = {
  model,
  live,
  cy: view.cy,
  select: (id) => view.select(id),
  drawnNodeIds: () => view.drawnNodeIds(),
};
