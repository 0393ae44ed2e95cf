import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cleanup } from '../helpers/sh.js';
import { REPO_ROOT } from '../helpers/shared.js';

/**
 * The Vagrant provider's Vagrantfile, checked with `vagrant validate` (no VM can run here: no KVM, no VirtualBox).
 * Provider blocks are ignored (-p) since no provider is usable on this machine. Skipped when vagrant is absent.
 */
describe('Vagrantfile (vagrant validate)', function () {
  this.timeout(120000);
  const cleanup = new Cleanup();
  const dir = mkdtempSync(join(tmpdir(), 'skydive-vagrant-'));
  cleanup.add(`rm -rf ${dir}`);
  after(() => cleanup.run());

  const validate = (lab?: string): Promise<{ code: number; out: string }> =>
    new Promise((resolve) => {
      // the dot-file path keeps vagrant's working files out of the repository
      const env = { ...process.env, VAGRANT_DOTFILE_PATH: join(dir, '.vagrant'), ...(lab ? { SKYDIVE_LAB: lab } : {}) };
      execFile('vagrant', ['validate', '--ignore-provider'], { cwd: REPO_ROOT, env, timeout: 90000 }, (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
      );
    });

  before(function () {
    if (spawnSync('vagrant', ['--version']).status !== 0) {
      process.stdout.write('      (skipped: vagrant is not installed; make deps installs it)\n');
      this.skip();
    }
  });

  it('validates with the default lab: one machine per host (analyzer, agent1, agent2)', async () => {
    const r = await validate();
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /Vagrantfile validated successfully/);
    for (const h of ['analyzer', 'agent1', 'agent2']) assert.match(r.out, new RegExp(`==> ${h}: Ignoring provider config`));
  });

  it('follows the lab file given by SKYDIVE_LAB', async () => {
    const lab = join(dir, 'four.yaml');
    const base = readFileSync(join(REPO_ROOT, 'src', 'lab', 'default-lab.yaml'), 'utf8');
    writeFileSync(
      lab,
      base.replace('provider: netns', 'provider: vagrant').replace('    address: 192.168.50.30\n', '    address: 192.168.50.30\n  - name: agent3\n    roles: [agent]\n    address: 192.168.50.40\n'),
    );
    const r = await validate(lab);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /==> agent3: Ignoring provider config/);
  });

  it('fails on an unreadable lab file', async () => {
    const r = await validate(join(dir, 'missing.yaml'));
    assert.notEqual(r.code, 0);
    assert.match(r.out, /missing\.yaml/);
  });
});
