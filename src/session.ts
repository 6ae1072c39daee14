/**
 * Connections for the commands that are not plans on the Runner (token, kubeconfig, status,
 * check): the same SSH transport, credentials and host pool as `up`,
 * opened in parallel, always closed.
 */
import type { HostSpec, Inventory } from './inventory/model.js';
import type { Host } from './host/host.js';
import { connectHost, type ConnectContext } from './connect.js';
import { resolveCredentials, type Prompt } from './ssh/credentials.js';
import { HostPool } from './run/host-pool.js';
import { applySshConfig, sshSourcesLine } from './ssh/resolve.js';
import { clusterAnswers } from './host/fact.js';
import { osFamily } from './os/index.js';
import { DEFAULTS } from './defaults.js';
import { KbError } from './errors.js';

export interface SessionFlags {
  acceptNewHostKeys?: boolean;
  commandTimeout?: number;
  concurrency?: number;
  /** OpenSSH client configuration (--ssh-config); default the inventory's ssh.configFile, else ~/.ssh/config */
  sshConfig?: string;
  verbose?: boolean;
  /** set by the CLI, not a flag: the run lock to take or read, the run log, where warnings go */
  run?: SessionRun;
}

export interface SessionRun {
  ctx: ConnectContext;
  warn: (message: string) => void;
  /** diagnostics (--verbose), on stderr */
  info: (line: string) => void;
}

export class Session {
  private readonly warned = new Set<string>();

  private constructor(readonly inv: Inventory, readonly pool: HostPool, private readonly run?: SessionRun) {}

  static async open(inv: Inventory, flags: SessionFlags, prompt: Prompt | undefined, specs: HostSpec[] = inv.hosts): Promise<Session> {
    // OpenSSH's configuration fills in what the inventory leaves out; the pool connects these resolved specs
    const resolved = new Map(applySshConfig(inv, inv.hosts, flags.sshConfig ?? inv.sshConfigFile).map((h) => [h.name, h]));
    // --verbose: where each SSH setting of the hosts this command may reach came from, before any connection
    if (flags.verbose) for (const s of specs) flags.run?.info(sshSourcesLine(resolved.get(s.name) ?? s));
    const creds = await resolveCredentials(specs.map((s) => resolved.get(s.name) ?? s), process.env, prompt);
    flags.run?.ctx.redactor?.add(creds.password, creds.sudoPassword, creds.passphrase);
    const opts = {
      creds,
      acceptNewHostKeys: Boolean(flags.acceptNewHostKeys),
      commandTimeoutMs: (flags.commandTimeout ?? DEFAULTS.commandTimeoutSeconds) * 1000,
      connectAttempts: DEFAULTS.connectAttempts,
    };
    return new Session(inv, new HostPool((s) => connectHost(resolved.get(s.name) ?? s, opts, flags.run?.ctx), flags.concurrency ?? DEFAULTS.concurrency), flags.run);
  }

  async connect(specs: HostSpec[]): Promise<void> {
    await this.pool.open(specs);
    for (const h of this.pool.connected) {
      if (this.warned.has(h.name)) continue;
      this.warned.add(h.name);
      for (const n of h.notices) this.run?.warn(n);
    }
  }

  host(name: string): Host | undefined {
    return this.pool.get(name);
  }

  error(name: string): string | undefined {
    return this.pool.error(name);
  }

  /** The first control plane that answers and has an admin kubeconfig. */
  async controlPlane(exclude: string[] = []): Promise<Host> {
    const cps = this.inv.hosts.filter((h) => h.role === 'control-plane' && !exclude.includes(h.name));
    const why: string[] = [];
    for (const cp of cps) {
      await this.connect([cp]);
      const h = this.pool.get(cp.name);
      if (!h) { why.push(this.pool.error(cp.name)!); continue; }
      const r = await h.exec(clusterAnswers.script(osFamily(h.facts)), { step: 'cluster', mutates: false, allowFailure: true });
      const a = clusterAnswers.parse(r.stdout);
      if (a.answers) return h;
      why.push(`${cp.name}: no running cluster (${a.why})`);
    }
    throw new KbError(`no control plane with a running cluster:\n  ${why.join('\n  ')}`);
  }

  close(): Promise<void> {
    return this.pool.closeAll();
  }
}
