// Side panel for the selected node: what an engineer looks for first (addresses, MTU, state, tunnel endpoints,
// captures), its links, then the whole Metadata as a readable tree and the element's bookkeeping fields.

import { quote } from './api.js';
import { fill, fmtTime, h } from './dom.js';
import { getPath } from './model.js';
import { NODE_CATEGORIES, nodeCategory } from './style.js';

/** [metadata path, label]: shown in this order when present. */
const KEY_FACTS = [
  ['State', 'State'],
  ['MAC', 'MAC'],
  ['IPV4', 'IPv4'],
  ['IPV6', 'IPv6'],
  ['MTU', 'MTU'],
  ['IfIndex', 'IfIndex'],
  ['Driver', 'Driver'],
  ['Speed', 'Speed'],
  ['EncapType', 'Encap'],
  ['Ovs.Options.remote_ip', 'Remote IP'],
  ['Ovs.Options.local_ip', 'Local IP'],
  ['Ovs.Options.key', 'Tunnel key'],
  ['Ovs.Options.peer', 'Patch peer'],
  ['OfPort', 'OpenFlow port'],
  ['PeerIfIndex', 'Peer IfIndex'],
  ['LinkNetNsName', 'Peer netns'],
  ['MasterIndex', 'Master IfIndex'],
  ['Path', 'Path'],
  ['Hostname', 'Hostname'],
  ['OS', 'OS'],
  ['KernelVersion', 'Kernel'],
  ['Probe', 'Probe'],
  ['TID', 'TID'],
];

/** Metadata subtrees that are long and rarely the first thing looked at: folded until opened. */
const FOLDED = new Set(['Metric', 'LastUpdateMetric', 'RoutingTables', 'Neighbors', 'FDB', 'Features', 'CPU', 'Sockets', 'Config']);

export class NodePanel {
  /**
   * @param {HTMLElement} root
   * @param {import('./model.js').TopologyModel} model
   * @param {{onSelect: (id: string) => void, onQuery: (gremlin: string) => void}} actions
   */
  constructor(root, model, actions) {
    this.root = root;
    this.model = model;
    this.actions = actions;
    this.id = null;
    this.openState = new Map(); // folded sections the user opened stay open across live updates
    model.onChange((c) => {
      if (this.id && (c.kind === 'sync' || c.id === this.id || (c.kind === 'edge' && c.structural))) this.render();
    });
    this.render();
  }

  show(id) {
    this.id = id;
    this.render();
  }

  render() {
    const n = this.id ? this.model.nodes.get(this.id) : null;
    if (!this.id) {
      fill(this.root, h('p', { class: 'placeholder' }, 'Click a node to see its metadata, links and flows.'));
      return;
    }
    if (!n) {
      fill(this.root, h('p', { class: 'placeholder' }, 'This node has been deleted from the topology.'));
      return;
    }
    const md = n.Metadata ?? {};
    const cat = nodeCategory(md);
    const color = NODE_CATEGORIES[cat]?.color ?? '#6b7280';
    fill(
      this.root,
      h(
        'div',
        { class: 'node-head' },
        h('h2', { class: 'node-name', title: String(md.Name ?? n.ID) }, String(md.Name ?? n.ID)),
        h('span', { class: 'badge', style: { background: color } }, String(md.Type ?? '?')),
        md.State ? h('span', { class: `badge state state-${String(md.State).toLowerCase()}` }, String(md.State)) : null,
      ),
      h(
        'div',
        { class: 'node-actions' },
        h('button', { type: 'button', onclick: () => this.actions.onQuery(`G.V(${quote(n.ID)})`) }, 'Query'),
        h('button', { type: 'button', onclick: () => this.actions.onQuery(`G.V(${quote(n.ID)}).Neighbors()`) }, 'Neighbors'),
        h('button', { type: 'button', onclick: () => navigator.clipboard?.writeText(n.ID) }, 'Copy ID'),
      ),
      this.keyFacts(md),
      this.captures(md),
      this.links(n.ID),
      this.section('metadata', 'Metadata', tree(md, '', this.openState), true),
      this.section(
        'element',
        'Element',
        table([
          ['ID', n.ID],
          ['Host', n.Host],
          ['Origin', n.Origin],
          ['Revision', n.Revision],
          ['Created', fmtTime(n.CreatedAt)],
          ['Updated', fmtTime(n.UpdatedAt)],
        ]),
        true,
      ),
    );
  }

  keyFacts(md) {
    const rows = [];
    for (const [path, label] of KEY_FACTS) {
      const v = getPath(md, path);
      if (v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0)) continue;
      rows.push([label, v, path]);
    }
    if (!rows.length) return null;
    return h(
      'dl',
      { class: 'facts' },
      rows.map(([label, v, path]) => [h('dt', { title: path }, label), h('dd', { dataset: { key: path } }, scalarOrList(v))]),
    );
  }

  captures(md) {
    const caps = Array.isArray(md.Captures) ? md.Captures : md.Captures ? [md.Captures] : [];
    if (!caps.length) return null;
    return this.section(
      'captures',
      `Captures (${caps.length})`,
      h(
        'table',
        { class: 'grid' },
        h('thead', {}, h('tr', {}, h('th', {}, 'Name / ID'), h('th', {}, 'Type'), h('th', {}, 'State'), h('th', {}, 'BPF'))),
        h(
          'tbody',
          {},
          caps.map((c) =>
            h(
              'tr',
              {},
              h('td', { title: String(c.ID ?? '') }, String(c.Name || c.ID || '—')),
              h('td', {}, String(c.Type ?? '—')),
              h('td', {}, String(c.State ?? '—')),
              h('td', { class: 'mono' }, String(c.BPFFilter || '—')),
            ),
          ),
        ),
      ),
      true,
    );
  }

  links(id) {
    const list = this.model
      .neighbours(id)
      .sort((a, b) => relOrder(a.edge) - relOrder(b.edge) || String(a.other?.Metadata?.Name).localeCompare(String(b.other?.Metadata?.Name)));
    if (!list.length) return null;
    return this.section(
      'links',
      `Links (${list.length})`,
      h(
        'ul',
        { class: 'links' },
        list.map(({ edge, other, direction }) => {
          const md = edge.Metadata ?? {};
          const rel = `${md.RelationType ?? '?'}${md.Type ? ` (${md.Type})` : ''}`;
          const otherName = other?.Metadata?.Name ?? (direction === 'out' ? edge.Child : edge.Parent);
          const otherType = other?.Metadata?.Type ?? '';
          return h(
            'li',
            {},
            h('span', { class: 'rel' }, direction === 'out' ? `${rel} →` : `← ${rel}`),
            ' ',
            h(
              'a',
              { href: '#', onclick: (ev) => (ev.preventDefault(), this.actions.onSelect(other?.ID ?? '')) },
              String(otherName),
            ),
            otherType ? h('span', { class: 'muted' }, ` ${otherType}`) : null,
          );
        }),
      ),
      true,
    );
  }

  section(key, title, body, openByDefault) {
    const open = this.openState.has(key) ? this.openState.get(key) : openByDefault;
    const d = h('details', { class: 'section', open }, h('summary', {}, title), body);
    d.addEventListener('toggle', () => this.openState.set(key, d.open));
    return d;
  }
}

function relOrder(e) {
  const r = e.Metadata?.RelationType;
  return r === 'layer2' ? 0 : r === 'ownership' ? 2 : 1;
}

function table(rows) {
  return h(
    'dl',
    { class: 'facts' },
    rows.filter(([, v]) => v !== undefined && v !== null).map(([k, v]) => [h('dt', {}, k), h('dd', { class: 'mono' }, String(v))]),
  );
}

function isScalar(v) {
  return v === null || typeof v !== 'object';
}

function scalar(v) {
  const cls = v === null ? 'null' : typeof v;
  return h('span', { class: `v v-${cls}` }, v === null ? 'null' : String(v));
}

function scalarOrList(v) {
  if (Array.isArray(v) && v.every(isScalar)) return h('span', { class: 'chips' }, v.map((x) => h('span', { class: 'chip' }, String(x))));
  if (isScalar(v)) return scalar(v);
  return h('span', { class: 'mono' }, JSON.stringify(v));
}

/** Nested metadata as definition lists; objects and lists of objects fold. */
function tree(value, path, openState) {
  if (isScalar(value) || (Array.isArray(value) && value.every(isScalar))) return scalarOrList(value);
  const entries = Array.isArray(value)
    ? value.map((v, i) => [itemTitle(v, i), v])
    : Object.entries(value).sort(([a], [b]) => a.localeCompare(b));
  return h(
    'dl',
    { class: 'tree' },
    entries.map(([k, v]) => {
      const p = path ? `${path}.${k}` : String(k);
      if (isScalar(v) || (Array.isArray(v) && v.every(isScalar))) return [h('dt', { title: p }, String(k)), h('dd', { dataset: { key: p } }, scalarOrList(v))];
      const size = Array.isArray(v) ? `[${v.length}]` : `{${Object.keys(v).length}}`;
      const open = openState.has(p) ? openState.get(p) : !FOLDED.has(String(k)) && !path.includes('.');
      const d = h('details', { open }, h('summary', {}, String(k), h('span', { class: 'muted' }, ` ${size}`)), tree(v, p, openState));
      d.addEventListener('toggle', () => openState.set(p, d.open));
      return h('div', { class: 'tree-sub' }, d);
    }),
  );
}

function itemTitle(v, i) {
  if (v && typeof v === 'object') {
    const name = v.Name ?? v.ID ?? v.Prefix ?? v.MAC ?? v.IP;
    if (name !== undefined) return `[${i}] ${name}`;
  }
  return `[${i}]`;
}
