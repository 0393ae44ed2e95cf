import { join } from 'node:path';
import { PROJECT_ROOT } from '../common/project-root.js';

export { PROJECT_ROOT };

/** The default lab file (shipped in the sources; the Vagrantfile reads it too). */
export const DEFAULT_LAB_FILE = join(PROJECT_ROOT, 'src', 'lab', 'default-lab.yaml');

export const PROVISION_DIR = join(PROJECT_ROOT, 'provision');

/** Where the project is reachable on every lab host (bind mount on netns hosts, unpacked tarball on VMs). */
export const HOST_PROJECT_DIR = '/opt/skydive';

/** Lab state (journal of what was created, keys, per-host files, logs): <root>/<lab name>/. */
export function stateRoot(): string {
  return process.env.SKYDIVE_LAB_STATE_DIR || '/var/lib/skydive-lab';
}
