// How topology elements look: one category per node family (colour + shape), edges by RelationType.
// The legend is generated from the same table, so what the legend says is what the graph draws.

const TUNNEL_TYPES = new Set(['gre', 'gretap', 'ip6gre', 'ip6gretap', 'vxlan', 'geneve', 'stt', 'ipip', 'sit', 'ip6tnl', 'erspan', 'lisp']);

/** Node families: colour, cytoscape shape, legend text. Order = legend order. */
export const NODE_CATEGORIES = {
  host: { color: '#475569', shape: 'round-rectangle', legend: 'host' },
  netns: { color: '#0284c7', shape: 'round-rectangle', legend: 'network namespace' },
  ovsbridge: { color: '#d97706', shape: 'round-rectangle', legend: 'OVS bridge' },
  ovsport: { color: '#f5b82e', shape: 'diamond', legend: 'OVS port' },
  tunnel: { color: '#dc2626', shape: 'rhomboid', legend: 'tunnel (gre, vxlan, geneve)' },
  patch: { color: '#db2777', shape: 'rhomboid', legend: 'OVS patch' },
  veth: { color: '#0d9488', shape: 'ellipse', legend: 'veth' },
  device: { color: '#2563eb', shape: 'ellipse', legend: 'device' },
  bridge: { color: '#7c3aed', shape: 'hexagon', legend: 'Linux bridge' },
  internal: { color: '#64748b', shape: 'round-rectangle', legend: 'OVS internal' },
  tun: { color: '#0891b2', shape: 'ellipse', legend: 'tun / tap' },
  fabric: { color: '#15803d', shape: 'round-rectangle', legend: 'fabric switch / port' },
  container: { color: '#a16207', shape: 'round-rectangle', legend: 'container' },
  loopback: { color: '#94a3b8', shape: 'ellipse', legend: 'loopback' },
  other: { color: '#6b7280', shape: 'ellipse', legend: 'other' },
};

export const EDGE_LEGEND = [
  { cls: 'l2', legend: 'layer2' },
  { cls: 'veth', legend: 'veth pair' },
  { cls: 'patch', legend: 'patch' },
  { cls: 'fabric', legend: 'fabric link' },
  { cls: 'own', legend: 'ownership' },
  { cls: 'misc', legend: 'other relation' },
];

/** The node family of a topology node, from its Metadata. */
export function nodeCategory(md = {}) {
  const type = String(md.Type ?? '');
  if (md.Probe === 'fabric' || type === 'switch' || type === 'switchport' || type === 'fabric') return 'fabric';
  if (type === 'host' || type === 'netns' || type === 'ovsbridge' || type === 'ovsport') return type;
  if (type === 'veth' || type === 'bridge' || type === 'internal' || type === 'patch' || type === 'container') return type;
  if (TUNNEL_TYPES.has(type)) return 'tunnel';
  if (type === 'tun' || type === 'tap') return 'tun';
  if (type === 'openvswitch') return 'internal';
  if (md.Name === 'lo' || (Array.isArray(md.LinkFlags) && md.LinkFlags.includes('LOOPBACK'))) return 'loopback';
  if (type === 'device' || type === 'dummy' || type === 'macvlan' || type === 'vlan' || type === 'bond') return 'device';
  return 'other';
}

/** Edge class: ownership, or layer2 refined by its Metadata.Type (veth, patch, fabric), or another relation. */
export function edgeClass(md = {}) {
  const rel = md.RelationType;
  if (rel === 'ownership') return 'own';
  if (rel === 'layer2') {
    if (md.Type === 'veth') return 'veth';
    if (md.Type === 'patch') return 'patch';
    if (md.Type === 'fabric') return 'fabric';
    return 'l2';
  }
  return 'misc';
}

const FONT = 'Inter, "Segoe UI", system-ui, -apple-system, sans-serif';

export function stylesheet() {
  const s = [
    {
      selector: 'node',
      style: {
        width: 26,
        height: 26,
        'background-color': '#6b7280',
        'border-width': 2,
        'border-color': '#ffffff',
        label: 'data(label)',
        'font-family': FONT,
        'font-size': 10,
        color: '#1e293b',
        'text-valign': 'bottom',
        'text-halign': 'center',
        'text-margin-y': 4,
        'text-wrap': 'wrap',
        'text-max-width': 130,
        'text-background-color': '#ffffff',
        'text-background-opacity': 0.8,
        'text-background-padding': 1,
        'text-background-shape': 'round-rectangle',
        'min-zoomed-font-size': 6,
      },
    },
  ];
  for (const [cat, c] of Object.entries(NODE_CATEGORIES)) {
    s.push({ selector: `node[cat = "${cat}"]`, style: { 'background-color': c.color, shape: c.shape } });
  }
  s.push(
    { selector: 'node[cat = "ovsbridge"], node[cat = "host"], node[cat = "fabric"]', style: { width: 44, height: 28 } },
    { selector: 'node[cat = "ovsport"]', style: { width: 22, height: 22 } },
    { selector: 'node[cat = "tunnel"], node[cat = "patch"]', style: { width: 34, height: 22 } },
    { selector: 'node[cat = "internal"]', style: { width: 30, height: 20 } },
    { selector: 'node[cat = "loopback"]', style: { width: 16, height: 16, color: '#64748b' } },
    // Groups (compound nodes): hosts, namespaces, fabric switches holding their ports.
    {
      selector: 'node:parent',
      style: {
        shape: 'round-rectangle',
        'background-color': '#f8fafc',
        'background-opacity': 1,
        'border-width': 2,
        'border-color': '#94a3b8',
        padding: 16,
        'text-valign': 'top',
        'text-halign': 'center',
        'text-margin-y': -4,
        'text-max-width': 400,
        'font-size': 13,
        'font-weight': 'bold',
        color: '#0f172a',
        'text-background-opacity': 0,
      },
    },
    { selector: 'node:parent[cat = "host"]', style: { 'background-color': '#f1f5f9', 'border-color': '#475569' } },
    {
      selector: 'node:parent[cat = "netns"]',
      style: { 'background-color': '#e0f2fe', 'border-color': '#0284c7', 'border-style': 'dashed', 'font-size': 12, color: '#075985' },
    },
    { selector: 'node:parent[cat = "fabric"]', style: { 'background-color': '#dcfce7', 'border-color': '#15803d', color: '#14532d' } },
    { selector: 'node:childless[state = "DOWN"]', style: { 'background-opacity': 0.35, 'border-style': 'dashed', 'border-color': '#64748b' } },
    { selector: 'node[?captured]', style: { 'border-width': 3, 'border-color': '#16a34a', 'border-style': 'double' } },
    {
      selector: 'edge',
      style: {
        width: 2,
        'line-color': '#334155',
        'curve-style': 'bezier',
        'target-arrow-shape': 'none',
        opacity: 0.9,
      },
    },
    { selector: 'edge.own', style: { 'line-style': 'dashed', 'line-dash-pattern': [6, 4], 'line-color': '#94a3b8', width: 1.5 } },
    { selector: 'edge.veth', style: { 'line-color': '#0d9488', width: 2.5 } },
    { selector: 'edge.patch', style: { 'line-color': '#db2777', width: 2.5 } },
    { selector: 'edge.fabric', style: { 'line-color': '#15803d', width: 4 } },
    { selector: 'edge.misc', style: { 'line-style': 'dotted', 'line-color': '#7c3aed', width: 2 } },
    // Query results stand out, the rest fades; groups fade their frame only, as children keep their own look.
    {
      selector: 'node.hl',
      style: {
        'underlay-color': '#f59e0b',
        'underlay-opacity': 0.6,
        'underlay-padding': 7,
        'underlay-shape': 'ellipse',
        'border-color': '#b45309',
        'border-width': 3,
        'font-weight': 'bold',
      },
    },
    { selector: 'node:parent.hl', style: { 'underlay-shape': 'round-rectangle', 'underlay-padding': 4, 'border-color': '#f59e0b', 'border-width': 4 } },
    { selector: 'edge.hl', style: { 'line-color': '#f59e0b', width: 4, opacity: 1 } },
    { selector: 'node:childless.dim', style: { opacity: 0.18 } },
    { selector: 'node:parent.dim', style: { 'border-opacity': 0.35, 'text-opacity': 0.4, 'background-opacity': 0.45 } },
    { selector: 'edge.dim', style: { opacity: 0.1 } },
    {
      selector: 'node:selected',
      style: {
        'overlay-color': '#1d4ed8',
        'overlay-opacity': 0.12,
        'overlay-padding': 6,
        'border-color': '#1d4ed8',
        'border-width': 3,
        'border-style': 'solid',
      },
    },
    { selector: 'edge:selected', style: { 'line-color': '#1d4ed8', width: 4 } },
  );
  return s;
}
