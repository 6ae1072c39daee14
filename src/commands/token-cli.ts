/**
 * The token command as the CLI registers it: only commander loads with
 * --help; its plans and steps (src/commands/token.ts) load when it runs.
 * `token INVENTORY` and `token revoke INVENTORY ID` are plans on the Runner;
 * `token list INVENTORY` only reads (the CLI lends it its read-only session).
 */
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import type { TokenCommandDeps, TokenFlags } from './token.js';
import type { RunFlags } from './plan-io.js';

type RunOptions = (cmd: Command, has: { dryRun?: boolean; verify?: boolean; select?: boolean }) => Command;

export interface TokenCliDeps extends TokenCommandDeps {
  /** token list: read-only, through the CLI's session */
  list: (file: string, o: RunFlags) => Promise<number>;
}

export function registerTokenCommand(program: Command, d: TokenCliDeps, runOptions: RunOptions): void {
  runOptions(program.command('token')
    .summary('print a fresh join command; token list, token revoke')
    .description('print a fresh join command (a secret, to stdout only); or: token list INVENTORY, token revoke INVENTORY ID')
    .argument('<inventory|list|revoke>', 'inventory file, or list / revoke followed by the inventory')
    .argument('[inventory]', 'inventory file (after list or revoke)')
    .argument('[id]', 'token id to revoke')
    .option('--ttl <duration>', 'how long the token lives (30m, 2h, 24h, or seconds); 0 never expires and needs --force', '2h')
    .option('--control-plane', 'also upload the control-plane certificates and add a fresh certificate key (valid 2h)')
    .option('--force', 'allow --ttl 0')
    .option('--dry-run', 'print what would run on the control planes (placeholders for the secrets); connect to nothing'), { dryRun: true, select: false })
    .action(async (a: string, b: string | undefined, c: string | undefined, o: RunFlags & TokenFlags) => {
      if (a === 'list' && b && !c) {
        if (o.dryRun) throw new UsageError('token list only reads: it has no --dry-run');
        d.setCode(await d.list(b, o));
      } else if (a === 'revoke' && b && c) await (await import('./token.js')).tokenRevokeCommand(d, b, c, o);
      else if (a === 'revoke' || a === 'list') throw new UsageError(`usage: kbootstrap token ${a} INVENTORY${a === 'revoke' ? ' ID' : ''}`);
      else if (b) throw new UsageError(`token: unexpected argument ${JSON.stringify(b)}`);
      else await (await import('./token.js')).tokenCreateCommand(d, a, o);
    });
}
