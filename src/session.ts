/**
 * Connections for the lifecycle commands (token, reset, kubeconfig, status,
 * check): the same SSH transport and credentials as `up`, opened in parallel,
 * always closed.
 */
import type { HostSpec, Inventory } from './inventory/model.js';
import type { Host } from './host/host.js';
import { connectHost } from './connect.js';
import { resolveCredentials, type Prompt } from './ssh/credentials.js';
import type { SshOptions } from './ssh/transport.js';
import { pool } from './runner.js';
import { KbError } from './errors.js';

export interface SessionFlags {
  acceptNewHostKeys?: boolean;
  commandTimeout?: number;
  concurrency?: number;
}

export class Session {
  readonly hosts = new Map<string, Host>();
  readonly errors = new Map<string, string>();

  private constructor(readonly inv: Inventory, private opts: SshOptions, private concurrency: number) {}

  static async open(inv: Inventory, flags: SessionFlags, prompt: Prompt | undefined, specs: HostSpec[] = inv.hosts): Promise<Session> {
    const creds = await resolveCredentials(specs, process.env, prompt);
    return new Session(inv, { creds, acceptNewHostKeys: Boolean(flags.acceptNewHostKeys), commandTimeoutMs: (flags.commandTimeout ?? 600) * 1000, connectAttempts: 3 }, flags.concurrency ?? 10);
  }

  async connect(specs: HostSpec[]): Promise<void> {
    await pool(specs.filter((s) => !this.hosts.has(s.name)), this.concurrency, async (s) => {
      try {
        this.hosts.set(s.name, await connectHost(s, this.opts));
        this.errors.delete(s.name);
      } catch (e) {
        this.errors.set(s.name, (e as Error).message);
      }
    });
  }

  /** The first control plane that answers and has an admin kubeconfig. */
  async controlPlane(exclude: string[] = []): Promise<Host> {
    const cps = this.inv.hosts.filter((h) => h.role === 'control-plane' && !exclude.includes(h.name));
    const why: string[] = [];
    for (const cp of cps) {
      await this.connect([cp]);
      const h = this.hosts.get(cp.name);
      if (!h) { why.push(this.errors.get(cp.name)!); continue; }
      const r = await h.exec('test -f /etc/kubernetes/admin.conf && kubectl --kubeconfig=/etc/kubernetes/admin.conf get --raw=/readyz --request-timeout=10s >/dev/null', {
        step: 'cluster', mutates: false, allowFailure: true,
      });
      if (r.code === 0) return h;
      why.push(`${cp.name}: no running cluster (no /etc/kubernetes/admin.conf, or the API server does not answer)`);
    }
    throw new KbError(`no control plane with a running cluster:\n  ${why.join('\n  ')}`);
  }

  async close(): Promise<void> {
    await Promise.all([...this.hosts.values()].map((h) => h.transport.close().catch(() => undefined)));
  }
}
