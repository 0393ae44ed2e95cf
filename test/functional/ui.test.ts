import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { httpJSON, startAllInOne, type AllInOne } from '../helpers/allinone.js';
import { Cleanup, sh } from '../helpers/sh.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The web UI in a real browser (Debian's chromium driven by playwright-core) against a real `skydive allinone`:
 * the page draws this machine's host, follows live changes made with `ip netns`, runs Gremlin queries and shows
 * the analyzer's errors, and shows a clicked node's metadata.
 */
const CHROMIUM = process.env.SKYDIVE_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SCREENSHOT = '/tmp/skydive-ui.png';

const PREFIX = `skyui${process.pid % 100000}`;
const NS = `${PREFIX}-ns`;
const HOST_END = `${PREFIX}-h`;
const NS_END = `${PREFIX}-n`;
const NS_IP = '10.199.77.1/24';

describe('web UI (chromium against a real allinone)', function () {
  this.timeout(120000);
  const cleanup = new Cleanup();
  const pageErrors: string[] = [];
  let sky: AllInOne;
  let browser: Browser;
  let page: Page;
  let hostNodeID: string;

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      console.log(`    skipping the UI test: ${CHROMIUM} is not installed (apt-get install -y chromium, or set SKYDIVE_CHROMIUM)`);
      this.skip();
    }
    sky = await startAllInOne();
    cleanup.add(() => sky.stop());
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    cleanup.add(() => browser.close());
    page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(`http://${sky.analyzerAddr}/`);
    const hosts = await sky.query(`G.V().Has('Type', 'host', 'Name', '${sky.hostID}')`);
    hostNodeID = hosts[0].ID;
  });

  after(async () => {
    await cleanup.run();
  });

  /** Poll a function in the page until it returns a truthy value. */
  async function inPage<T>(fn: string, what: string, timeout = 20000): Promise<T> {
    return waitFor(() => page.evaluate(fn) as Promise<T>, (v) => Boolean(v), { what, timeout });
  }

  it('serves the page: / redirects to /ui/, the graph library loads', async () => {
    const root = await fetch(`http://${sky.analyzerAddr}/`, { redirect: 'manual' });
    assert.equal(root.status, 302);
    assert.equal(root.headers.get('location'), '/ui/');
    const vendor = await fetch(`http://${sky.analyzerAddr}/ui/vendor/cytoscape.esm.min.mjs`);
    assert.equal(vendor.status, 200);
    assert.match(vendor.headers.get('content-type') ?? '', /javascript/);
    assert.equal(page.url(), `http://${sky.analyzerAddr}/ui/`);
    assert.equal(await page.title(), 'Skydive — topology');
    await inPage('window.skydive && typeof window.skydive.cy.nodes === "function"', 'the page to start cytoscape');
  });

  it('draws the host node of this machine once synchronised over the WebSocket', async () => {
    await inPage(`document.querySelector('#ws-state')?.dataset.state === 'open'`, 'the WebSocket to be open');
    await inPage(`window.skydive.cy.getElementById(${JSON.stringify(hostNodeID)}).nonempty()`, `host node ${sky.hostID} drawn`);
    const label = await page.evaluate(`window.skydive.cy.getElementById(${JSON.stringify(hostNodeID)}).data('label')`);
    assert.equal(label, `host: ${sky.hostID}`);
  });

  it('works outside a secure context (plain http on a lab address: no crypto.randomUUID)', async () => {
    const insecure = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    try {
      const errors: string[] = [];
      insecure.on('pageerror', (err) => errors.push(err.message));
      // what Chromium takes away from http://10.250.0.2:8082 but not from http://127.0.0.1
      await insecure.addInitScript('delete Crypto.prototype.randomUUID');
      await insecure.goto(`http://${sky.analyzerAddr}/`);
      assert.equal(await insecure.evaluate('typeof crypto.randomUUID'), 'undefined');
      await waitFor(
        () => insecure.evaluate(`window.skydive?.cy.getElementById(${JSON.stringify(hostNodeID)}).nonempty()`),
        (v) => Boolean(v),
        { what: 'host node drawn without crypto.randomUUID', timeout: 20000 },
      );
      assert.deepEqual(errors, []);
    } finally {
      await insecure.close();
    }
  });

  it('shows a network namespace created now, inside the host box, without reloading', async () => {
    await page.evaluate('window.__sameDocument = true');
    cleanup.add(`ip netns del ${NS}`);
    await sh(`ip netns add ${NS}`);
    await sh(`ip link add ${HOST_END} type veth peer name ${NS_END} netns ${NS}`);
    await sh(`ip netns exec ${NS} ip addr add ${NS_IP} dev ${NS_END} && ip netns exec ${NS} ip link set ${NS_END} up && ip link set ${HOST_END} up`);

    const nsID = await inPage<string>(
      `(() => { const n = window.skydive.cy.nodes('[cat = "netns"]').filter((n) => n.data('label') === 'netns: ${NS}'); return n.nonempty() && n.id(); })()`,
      `namespace ${NS} drawn`,
    );
    assert.equal(await page.evaluate(`window.skydive.cy.getElementById(${JSON.stringify(nsID)}).parent().id()`), hostNodeID, 'the namespace is drawn inside its host');
    // the interface may be drawn first and get its address in a later update: wait for the label with both
    const expected = `${NS_END}\n${NS_IP}`;
    const inner = await inPage<string>(
      `(() => { const n = window.skydive.cy.getElementById(${JSON.stringify(nsID)}).children().filter((c) => c.data('label') === ${JSON.stringify(expected)}); return n.nonempty() && n.data('label'); })()`,
      `${NS_END} drawn inside ${NS} with its address`,
    );
    assert.equal(inner, expected);
    assert.equal(await page.evaluate('window.__sameDocument'), true, 'the page was not reloaded');
  });

  it('shows the metadata of a clicked node in the side panel', async () => {
    const [api] = await sky.query(`G.V().Has('Name', '${NS_END}')`);
    assert.ok(api?.Metadata?.MAC, 'the analyzer knows the interface MAC');
    // freeze the layout so that the node stays under the mouse, then bring it to a known place
    await page.uncheck('#auto-layout');
    const id = JSON.stringify(api.ID);
    const pos = await waitFor(
      () =>
        page.evaluate(`(() => {
          const cy = window.skydive.cy; const n = cy.getElementById(${id});
          cy.stop(); n.stop(); cy.zoom(1.5); cy.center(n);
          const p = n.renderedPosition(); const r = document.getElementById('graph').getBoundingClientRect();
          return { x: r.left + p.x, y: r.top + p.y, w: r.width, h: r.height };
        })()`) as Promise<{ x: number; y: number; w: number; h: number }>,
      (p) => p.x > 0 && p.y > 0,
      { what: 'node position' },
    );
    await page.mouse.click(pos.x, pos.y);
    await inPage(`document.querySelector('#node-panel .node-name')?.textContent === '${NS_END}'`, 'the side panel to show the clicked node');
    const facts = await page.evaluate(`(() => Object.fromEntries([...document.querySelectorAll('#node-panel dl.facts dd[data-key]')].map((dd) => [dd.dataset.key, dd.textContent])))()`) as Record<string, string>;
    assert.equal(facts.MAC, api.Metadata.MAC);
    assert.equal(facts.IPV4, NS_IP);
    assert.equal(facts.MTU, String(api.Metadata.MTU));
    assert.equal(await page.evaluate(`window.skydive.cy.getElementById(${id}).selected()`), true);
    await page.screenshot({ path: SCREENSHOT });
  });

  it("answers the flows panel for the selected node, or says why flows are not available", async () => {
    const [node] = await sky.query(`G.V().Has('Name', '${NS_END}')`);
    const res = await httpJSON('POST', sky.analyzerAddr, '/api/topology', { GremlinQuery: `G.V('${node.ID}').Flows()` });
    const text = await inPage<string>(
      `(() => { const t = document.querySelector('#flows-body').textContent; return !t.includes('Loading') && t; })()`,
      'the flows panel to answer',
    );
    if (res.status >= 400) {
      assert.match(text, /Flows not available/);
      assert.ok(text.includes(res.body?.message ?? res.text), `the panel shows the analyzer's reason: ${text}`);
    } else {
      assert.ok(Array.isArray(res.body));
      if (res.body.length === 0) assert.match(text, /No flows on this node/);
      else assert.equal(await page.locator('#flows-body li.flow').count(), Math.min(res.body.length, 100));
    }
  });

  it('highlights the nodes a Gremlin query returns', async () => {
    const gremlin = `G.V().Has('Name', Regex('${PREFIX}.*'))`;
    const expected = ((await sky.query(gremlin)) as Array<{ ID: string }>).map((n) => n.ID).sort();
    assert.ok(expected.length >= 3, 'the namespace and both veth ends match');
    await page.fill('#gremlin', gremlin);
    await page.press('#gremlin', 'Enter');
    await inPage(`document.querySelector('#query-summary')?.textContent.startsWith('${expected.length} nodes')`, 'the query summary');
    const highlighted = (await page.evaluate(`window.skydive.cy.nodes('.hl').map((n) => n.id())`)) as string[];
    assert.deepEqual(highlighted.sort(), expected);
    const dimmed = (await page.evaluate(`window.skydive.cy.getElementById(${JSON.stringify(hostNodeID)}).hasClass('hl')`)) as boolean;
    assert.equal(dimmed, false, 'the host is not part of the result');
    await page.click('#query-clear');
    assert.equal(await page.evaluate(`window.skydive.cy.nodes('.hl, .dim').length`), 0);
  });

  it("shows the analyzer's error for a bad query, as the analyzer wrote it", async () => {
    const bad = "G.V().Has('Name', 'x').Foo()";
    const res = await httpJSON('POST', sky.analyzerAddr, '/api/topology', { GremlinQuery: bad });
    assert.equal(res.status, 400);
    const message: string = res.body.message;
    assert.ok(message.length > 0);
    await page.fill('#gremlin', bad);
    await page.click('#query-run');
    const shown = await inPage<string>(`document.querySelector('#query-error')?.textContent`, 'the error to be shown');
    assert.equal(shown, message);
    assert.match(await page.textContent('#query-result') ?? '', /HTTP 400/);
  });

  it('shows the analyzer address, its agent and the WebSocket state in the status bar', async () => {
    await inPage(`document.querySelector('#agent-count')?.textContent === '1'`, 'one agent in the status bar');
    assert.match((await page.textContent('#status-analyzer')) ?? '', new RegExp(sky.analyzerAddr.replace(/\./g, '\\.')));
    assert.match((await page.textContent('#status-agents')) ?? '', new RegExp(sky.hostID));
    assert.equal(await page.getAttribute('#ws-state', 'data-state'), 'open');
  });

  it('reconnects after losing the WebSocket and synchronises again', async () => {
    await page.evaluate(`(() => {
      window.__wsStates = [];
      const el = document.querySelector('#status-ws');
      new MutationObserver(() => window.__wsStates.push(document.querySelector('#ws-state')?.dataset.state)).observe(el, { childList: true, subtree: true });
      window.skydive.model.nodes.clear();
      window.skydive.live.ws.close();
    })()`);
    await inPage(`window.__wsStates.includes('reconnecting') && document.querySelector('#ws-state').dataset.state === 'open'`, 'a reconnection');
    await inPage(`window.skydive.model.nodes.has(${JSON.stringify(hostNodeID)})`, 'the graph to be synchronised again');
    // other tests may be changing this machine's namespaces meanwhile: wait for both sides to agree
    await waitFor(
      async () => [(await sky.query('G.V().Count()')) as number, (await page.evaluate('window.skydive.model.nodes.size')) as number],
      ([api, shown]) => api === shown,
      { what: 'the page to hold as many nodes as the analyzer' },
    );
  });

  it('removes a deleted namespace live and keeps the panel honest about it', async () => {
    await sh(`ip netns del ${NS}`);
    await inPage(
      `window.skydive.cy.nodes().filter((n) => String(n.data('label')).startsWith('${PREFIX}') || n.data('label') === 'netns: ${NS}').empty()`,
      'the namespace and its interfaces to disappear',
    );
    await inPage(`document.querySelector('#node-panel').textContent.includes('deleted')`, 'the panel to say the node was deleted');
    assert.deepEqual(pageErrors, [], 'no uncaught error in the page');
  });
});
