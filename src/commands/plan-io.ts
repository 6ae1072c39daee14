/**
 * What every command that is a plan on the Runner shares with the terminal:
 * its dry run printed one way (bash per host, or one JSON document), and one
 * way to ask before changing hosts (a confirmation on the terminal, none off it).
 */
import type { Io } from '../io.js';
import type { RenderedHost } from '../dry-run.js';

/** A dry run on stdout: each host's script under its name, or `{ mode: 'dry-run', hosts: [{ host, script }] }` with -o json. */
export function printDryRun(io: Io, hosts: readonly Pick<RenderedHost, 'host' | 'script'>[], output: string | undefined): void {
  if (output === 'json') io.out(JSON.stringify({ mode: 'dry-run', hosts: hosts.map((h) => ({ host: h.host, script: h.script })) }, null, 2) + '\n');
  else io.out(hosts.map((h) => `# ===== ${h.host} =====\n${h.script}`).join('\n'));
}

/** Ask yes or no on the terminal (default no); undefined when there is no terminal to ask on. */
export async function askOnTerminal(message: string): Promise<boolean | undefined> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return undefined;
  const { default: inquirer } = await import('inquirer');
  return (await inquirer.prompt<{ ok: boolean }>([{ type: 'confirm', name: 'ok', message, default: false }])).ok;
}
