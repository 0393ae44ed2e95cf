import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import { PROJECT_ROOT } from '../common/project-root.js';

/**
 * The web UI: a single page of plain ES modules served as is (no front-end build step). The static files are
 * read from the source tree, not copied to dist.
 */
export const UI_STATIC_DIR = join(PROJECT_ROOT, 'src', 'ui', 'static');

/** Path under which the page imports cytoscape as an ES module. */
export const CYTOSCAPE_VENDOR_PATH = '/ui/vendor/cytoscape.esm.min.mjs';

/** cytoscape's ES module build, found next to its CommonJS entry (its export map lists the file for `import` only). */
function cytoscapeFile(): string {
  const main = createRequire(join(PROJECT_ROOT, 'package.json')).resolve('cytoscape');
  return join(dirname(main), 'cytoscape.esm.min.mjs');
}

/** Serves `/` and `/ui` → `/ui/`, the page under `/ui/`, and the cytoscape module under `/ui/vendor/`. */
export async function registerUI(app: FastifyInstance): Promise<void> {
  // Read once: the vendor file never changes while the analyzer runs, and a missing package fails at start-up.
  const cytoscape = readFileSync(cytoscapeFile());

  app.get('/', (_req, reply) => reply.redirect('/ui/'));
  app.get('/ui', (_req, reply) => reply.redirect('/ui/'));
  app.get(CYTOSCAPE_VENDOR_PATH, (_req, reply) =>
    reply.header('content-type', 'text/javascript; charset=utf-8').header('cache-control', 'public, max-age=86400').send(cytoscape),
  );
  // decorateReply: false leaves reply.sendFile to whoever else registers @fastify/static on the analyzer.
  await app.register(fastifyStatic, { root: UI_STATIC_DIR, prefix: '/ui/', decorateReply: false, index: 'index.html' });
}
