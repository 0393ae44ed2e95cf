import type { Logger } from 'pino';
import type { LabDefinition, LabHost, ProviderName } from '../lab-file.js';
import type { Progress } from '../progress.js';
import type { SshConnection } from '../ssh.js';
import type { HostRecord, LabState } from '../state.js';

export interface ProviderContext {
  lab: LabDefinition;
  state: LabState;
  progress: Progress;
  log: Logger;
}

export interface UpResult {
  hosts: HostRecord[];
  /** host:port of the analyzer's API as reached from this machine */
  analyzerApi: string;
}

/**
 * Where lab hosts come from. A provider creates the hosts and makes each reachable over SSH; everything after
 * that (provisioning, scenarios) is the same for every provider. What it creates is journaled in the lab state,
 * which is all `lab down` needs (see teardown.ts).
 */
export interface LabProvider {
  readonly name: ProviderName;
  /** Create the hosts (journaling each resource first) and wait until their SSH servers answer. */
  up(ctx: ProviderContext): Promise<UpResult>;
  /** True when every host of a previous `up` is still running and answers SSH: `lab up` then reuses them. */
  reusable(ctx: ProviderContext): Promise<boolean>;
  /** Prepare the project's installation on a host (upload...); returns the environment of provision/install.sh. */
  prepareInstall(conn: SshConnection, host: LabHost, ctx: ProviderContext): Promise<Record<string, string>>;
  /** Whether provision/base.sh may install packages (VMs) or only check for tools (hosts sharing this filesystem). */
  readonly installsPackages: boolean;
}
