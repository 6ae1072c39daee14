/**
 * OpenSSH's configuration applied to the inventory's hosts: what the
 * inventory sets wins, then the first value ~/.ssh/config (or ssh.configFile,
 * or --ssh-config) gives, then kbootstrap's defaults. The result is the same
 * HostSpec with every connection setting filled in and `resolved` telling
 * where to connect, through which hops, and where each value came from.
 */
import { existsSync } from 'node:fs';
import type { HostSpec, Inventory } from '../inventory/model.js';
import { describeSource, resolveConnection, SshConfigError, type ResolvedEndpoint } from './ssh-config.js';
import { KbError, EXIT } from '../errors.js';

/**
 * The first key file that exists: ssh tries IdentityFile entries in order and
 * skips missing ones. A key the inventory names is kept even when missing, so
 * the user hears of it (exit 2) instead of a silent fallback.
 */
function keyFile(e: ResolvedEndpoint): string | undefined {
  const keys = e.privateKeyPaths.value;
  return keys.find((k) => existsSync(k)) ?? (e.privateKeyPaths.source.kind === 'inventory' ? keys[0] : undefined);
}

export function applySshConfig(inv: Inventory, specs: HostSpec[], configFile = inv.sshConfigFile): HostSpec[] {
  return specs.map((spec) => {
    let r;
    try {
      r = resolveConnection({ target: spec.ssh.target, explicit: spec.ssh.explicit, fieldPaths: spec.ssh.fieldPaths, configFile });
    } catch (e) {
      if (e instanceof SshConfigError) throw new KbError(`${spec.name}: ${e.message}`, EXIT.usage);
      throw e;
    }
    const sources: Record<string, string> = {
      address: `${r.address.value} (${describeSource(r.address.source)})`,
      user: `${r.user.value} (${describeSource(r.user.source)})`,
      port: `${r.port.value} (${describeSource(r.port.source)})`,
      identityFile: r.privateKeyPaths.value.length ? `${keyFile(r)} (${describeSource(r.privateKeyPaths.source)})` : 'none: ssh-agent or password',
      knownHosts: `${r.knownHostsPaths.value.join(', ')} (${describeSource(r.knownHostsPaths.source)})`,
      strictHostKeyChecking: `${r.strictHostKeyChecking.value} (${describeSource(r.strictHostKeyChecking.source)})`,
      ...(r.jumps.length ? { jumps: r.jumps.map((j) => `${j.user.value}@${j.address.value}:${j.port.value}`).join(' -> ') } : {}),
    };
    return {
      ...spec,
      ssh: {
        ...spec.ssh,
        user: r.user.value,
        port: r.port.value,
        privateKeyPath: keyFile(r),
        knownHostsPath: r.knownHostsPaths.value[0],
        connectTimeoutSeconds: r.connectTimeoutSeconds.value,
        // the hops below replace it (an inventory bastion is the last hop)
        bastion: undefined,
        resolved: {
          address: r.address.value,
          jumps: r.jumps.map((j) => ({ address: j.address.value, port: j.port.value, user: j.user.value, privateKeyPath: keyFile(j) })),
          knownHostsPaths: r.knownHostsPaths.value,
          acceptNew: ['accept-new', 'no', 'off'].includes(r.strictHostKeyChecking.value),
          sources,
        },
      },
    };
  });
}

/** What --verbose shows for a host: where each SSH setting came from (the inventory's field, OpenSSH's file and line, or a default). */
export function sshSourcesLine(h: HostSpec): string {
  return `${h.name}: ssh ${Object.entries(h.ssh.resolved?.sources ?? {}).map(([k, v]) => `${k} ${v}`).join('; ')}\n`;
}
