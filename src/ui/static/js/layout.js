// Nested layout for the topology's boxes. cytoscape's built-in layouts place connected components apart from
// each other, which tears hosts and namespaces open as soon as one of their interfaces has no link (every
// namespace's `lo`). This layout works box by box instead, innermost first: the direct members of a box (its
// interfaces and its inner boxes, taken as rectangles) are placed by a small force simulation whose springs are
// the edges between them, or in a tidy grid; then overlaps are removed and the box is measured for its own parent.
// Positions of a previous run seed the next one, so that a live change moves the picture as little as possible.

const GROUP_PADDING = 16; // keep equal to the compound 'padding' in style.js
const LABEL_HEIGHT = 22; // room for a box's title above its frame
const GAP = 18;
const GRAVITY = 0.12;
const SPRING = 0.25;

/**
 * Leaf positions for the whole graph.
 * @param {import('cytoscape').Core} cy
 * @param {{mode?: 'force'|'grid', previous?: Map<string, {x: number, y: number}>}} opts
 * @returns {Map<string, {x: number, y: number}>}
 */
export function nestedPositions(cy, { mode = 'force', previous = new Map() } = {}) {
  const children = new Map(); // group id ('' = root) → member ids
  const parentOf = new Map();
  cy.nodes().forEach((n) => {
    const p = n.parent();
    const pid = p.nonempty() ? p.id() : '';
    parentOf.set(n.id(), pid);
    if (!children.has(pid)) children.set(pid, []);
    children.get(pid).push(n.id());
  });
  // member of group g that contains node id (walk up until the parent is g)
  const memberIn = (id, g) => {
    let cur = id;
    for (let i = 0; i < 64 && cur; i++) {
      const p = parentOf.get(cur);
      if (p === g) return cur;
      cur = p;
    }
    return null;
  };
  const chain = (id) => {
    const out = [];
    for (let cur = parentOf.get(id), i = 0; cur && i < 64; cur = parentOf.get(cur), i++) out.push(cur);
    out.push('');
    return out;
  };
  // springs per group between its members, from the edges whose ends meet first in that group
  const springs = new Map();
  cy.edges().forEach((e) => {
    const s = e.source().id();
    const t = e.target().id();
    const ct = new Set(chain(t));
    const g = chain(s).find((x) => ct.has(x)) ?? '';
    const a = memberIn(s, g);
    const b = memberIn(t, g);
    if (!a || !b || a === b) return;
    if (!springs.has(g)) springs.set(g, []);
    springs.get(g).push([a, b]);
  });

  const sizes = new Map(); // member id → {w, h} of its rectangle (boxes include padding and title)
  const rel = new Map(); // member id → position relative to its group's members' centre
  const labelWidth = (n) => String(n.data('label') ?? '').length * 7.8 + 16;
  const prevCentre = (id) => {
    if (previous.has(id)) return previous.get(id);
    const leaves = (children.get(id) ?? []).map(prevCentre).filter(Boolean);
    if (!leaves.length) return undefined;
    return { x: leaves.reduce((s, p) => s + p.x, 0) / leaves.length, y: leaves.reduce((s, p) => s + p.y, 0) / leaves.length };
  };

  const solve = (g) => {
    const members = children.get(g) ?? [];
    for (const id of members) {
      if (children.has(id)) {
        const box = solve(id);
        const n = cy.getElementById(id);
        sizes.set(id, { w: Math.max(box.w + 2 * GROUP_PADDING, labelWidth(n)), h: box.h + 2 * GROUP_PADDING + LABEL_HEIGHT });
      } else {
        const d = cy.getElementById(id).layoutDimensions({ nodeDimensionsIncludeLabels: true });
        sizes.set(id, { w: d.w, h: d.h });
      }
    }
    const items = members.map((id) => ({ id, ...sizes.get(id), prev: prevCentre(id) }));
    const placed = mode === 'grid' ? gridPlace(items, cy) : forcePlace(items, springs.get(g) ?? []);
    removeOverlaps(placed);
    const bb = bounds(placed);
    const cx = (bb.x1 + bb.x2) / 2;
    const cy_ = (bb.y1 + bb.y2) / 2;
    for (const it of placed) rel.set(it.id, { x: it.x - cx, y: it.y - cy_ });
    return { w: bb.x2 - bb.x1, h: bb.y2 - bb.y1 };
  };
  solve('');

  // absolute positions, top-down; a box's members sit below its title
  const out = new Map();
  const place = (g, ox, oy) => {
    for (const id of children.get(g) ?? []) {
      const r = rel.get(id);
      const x = ox + r.x;
      const y = oy + r.y;
      if (children.has(id)) place(id, x, y + LABEL_HEIGHT / 2);
      else out.set(id, { x, y });
    }
  };
  place('', 0, 0);
  return out;
}

/** Fruchterman–Reingold on rectangles, seeded with previous positions when there are some. */
function forcePlace(items, springList) {
  const n = items.length;
  if (n === 0) return [];
  const index = new Map(items.map((it, i) => [it.id, i]));
  const radius = items.map((it) => Math.hypot(it.w, it.h) / 2);
  const avgR = radius.reduce((s, r) => s + r, 0) / n;
  const k = 2 * avgR + GAP;
  const adj = items.map(() => []);
  const links = [];
  for (const [a, b] of springList) {
    const i = index.get(a);
    const j = index.get(b);
    if (i === undefined || j === undefined) continue;
    links.push([i, j]);
    adj[i].push(j);
    adj[j].push(i);
  }

  // seed: previous positions relative to their mean; others beside a placed neighbour, or on a grid
  const known = items.filter((it) => it.prev);
  const mean = known.length
    ? { x: known.reduce((s, it) => s + it.prev.x, 0) / known.length, y: known.reduce((s, it) => s + it.prev.y, 0) / known.length }
    : { x: 0, y: 0 };
  const pos = items.map(() => null);
  items.forEach((it, i) => {
    if (it.prev) pos[i] = { x: it.prev.x - mean.x, y: it.prev.y - mean.y };
  });
  const cols = Math.ceil(Math.sqrt(n));
  const order = bfsOrder(items, adj);
  order.forEach((i, rank) => {
    if (pos[i]) return;
    const placedNeighbour = adj[i].find((j) => pos[j]);
    const jitter = (hash(items[i].id) % 1000) / 1000 - 0.5;
    if (placedNeighbour !== undefined) {
      const p = pos[placedNeighbour];
      pos[i] = { x: p.x + k * Math.cos(jitter * 6.28), y: p.y + k * Math.sin(jitter * 6.28) };
    } else {
      pos[i] = { x: ((rank % cols) - cols / 2) * k + jitter, y: (Math.floor(rank / cols) - cols / 2) * k - jitter };
    }
  });
  if (n === 1) return [{ ...items[0], x: 0, y: 0 }];

  const warm = known.length === n; // nothing new: only settle what moved
  const iterations = warm ? 80 : 400;
  let temp = (warm ? 0.3 : 1.5) * k;
  const cool = temp / (iterations + 1);
  const reach = 2 * GAP + 24; // outlines closer than this push each other away
  const disp = items.map(() => ({ x: 0, y: 0 }));
  for (let it = 0; it < iterations; it++) {
    for (const d of disp) d.x = d.y = 0;
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        let dx = pos[i].x - pos[j].x;
        let dy = pos[i].y - pos[j].y;
        let dist = Math.hypot(dx, dy);
        if (dist < 0.01) {
          dx = 0.01 * (i - j);
          dy = 0.01;
          dist = 0.015;
        }
        // short range: rectangles make room for each other, then springs and gravity pack them
        const gap = dist - radius[i] - radius[j];
        const f = gap < reach ? (reach - gap) * 0.6 + (reach * reach) / Math.max(dist, 1) : (0.3 * reach * reach) / dist;
        const fx = (dx / dist) * f;
        const fy = (dy / dist) * f;
        disp[i].x += fx;
        disp[i].y += fy;
        disp[j].x -= fx;
        disp[j].y -= fy;
      }
    }
    for (const [i, j] of links) {
      const dx = pos[i].x - pos[j].x;
      const dy = pos[i].y - pos[j].y;
      const dist = Math.max(Math.hypot(dx, dy), 0.01);
      const f = (dist - (radius[i] + radius[j] + GAP)) * SPRING;
      const fx = (dx / dist) * f;
      const fy = (dy / dist) * f;
      disp[i].x -= fx;
      disp[i].y -= fy;
      disp[j].x += fx;
      disp[j].y += fy;
    }
    for (let i = 0; i < n; i++) {
      // gravity keeps unlinked members (a namespace's lo) close; stronger vertically for screen-shaped boxes
      disp[i].x -= pos[i].x * GRAVITY;
      disp[i].y -= pos[i].y * GRAVITY * 1.6;
      const d = Math.hypot(disp[i].x, disp[i].y);
      if (d > 0) {
        const step = Math.min(d, temp);
        pos[i].x += (disp[i].x / d) * step;
        pos[i].y += (disp[i].y / d) * step;
      }
    }
    temp = Math.max(temp - cool, 0.5);
  }
  return items.map((it, i) => ({ ...it, x: pos[i].x, y: pos[i].y }));
}

/** Rows sorted by kind then name: boxes first, then bridges and ports, then interfaces. */
function gridPlace(items, cy) {
  const rank = (id) => {
    const n = cy.getElementById(id);
    if (n.isParent()) return 0;
    const cat = n.data('cat');
    return cat === 'ovsbridge' || cat === 'bridge' || cat === 'fabric' ? 1 : cat === 'ovsport' ? 2 : 3;
  };
  const sorted = [...items].sort(
    (a, b) => rank(a.id) - rank(b.id) || String(cy.getElementById(a.id).data('label')).localeCompare(String(cy.getElementById(b.id).data('label'))),
  );
  const totalArea = sorted.reduce((s, it) => s + (it.w + GAP) * (it.h + GAP), 0);
  const rowWidth = Math.max(Math.sqrt(totalArea) * 1.4, ...sorted.map((it) => it.w));
  const out = [];
  let x = 0;
  let y = 0;
  let rowH = 0;
  for (const it of sorted) {
    if (x > 0 && x + it.w > rowWidth) {
      x = 0;
      y += rowH + GAP;
      rowH = 0;
    }
    out.push({ ...it, x: x + it.w / 2, y: y + it.h / 2 });
    x += it.w + GAP;
    rowH = Math.max(rowH, it.h);
  }
  return out;
}

/** Push overlapping rectangles apart along their axis of least overlap. */
function removeOverlaps(items) {
  for (let pass = 0; pass < 100; pass++) {
    let moved = false;
    for (let i = 0; i < items.length; i++) {
      for (let j = i + 1; j < items.length; j++) {
        const a = items[i];
        const b = items[j];
        const ox = (a.w + b.w) / 2 + GAP / 2 - Math.abs(a.x - b.x);
        const oy = (a.h + b.h) / 2 + GAP / 2 - Math.abs(a.y - b.y);
        if (ox <= 0 || oy <= 0) continue;
        moved = true;
        if (ox < oy) {
          const s = (a.x < b.x || (a.x === b.x && i < j) ? -1 : 1) * (ox / 2 + 0.5);
          a.x += s;
          b.x -= s;
        } else {
          const s = (a.y < b.y || (a.y === b.y && i < j) ? -1 : 1) * (oy / 2 + 0.5);
          a.y += s;
          b.y -= s;
        }
      }
    }
    if (!moved) return;
  }
}

function bounds(items) {
  if (!items.length) return { x1: 0, y1: 0, x2: 0, y2: 0 };
  return {
    x1: Math.min(...items.map((it) => it.x - it.w / 2)),
    y1: Math.min(...items.map((it) => it.y - it.h / 2)),
    x2: Math.max(...items.map((it) => it.x + it.w / 2)),
    y2: Math.max(...items.map((it) => it.y + it.h / 2)),
  };
}

/** Members in breadth-first order over the springs, the most linked first, so that neighbours seed side by side. */
function bfsOrder(items, adj) {
  const seen = new Set();
  const order = [];
  const starts = items.map((_, i) => i).sort((a, b) => adj[b].length - adj[a].length);
  for (const s of starts) {
    if (seen.has(s)) continue;
    seen.add(s);
    const queue = [s];
    while (queue.length) {
      const i = queue.shift();
      order.push(i);
      for (const j of adj[i]) {
        if (!seen.has(j)) {
          seen.add(j);
          queue.push(j);
        }
      }
    }
  }
  return order;
}

function hash(s) {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}
