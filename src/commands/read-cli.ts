/**
 * The read-only commands that connect (kubeconfig, status, check) as the CLI
 * registers them: only commander loads with --help; each command's code, SSH
 * and the session load when it runs. They observe the run lock, never take it.
 */
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import type { Io } from '../io.js';
import type { RunState } from './connected.js';

export interface ReadCliDeps {
  io: Io;
  /** what hosts answered, made printable */
  hostIo: Io;
  setCode: (code: number) => void;
  state: RunState;
}

type SshOptions = (cmd: Command, outputHint?: string) => Command;

export function registerReadCommands(program: Command, d: ReadCliDeps, sshOptions: SshOptions): void {
  const { io, hostIo, setCode, state } = d;
  sshOptions(program.command('kubeconfig')
    .summary('fetch the admin kubeconfig (to stdout, --file FILE or --merge)')
    .description('fetch the admin kubeconfig, pointed at controlPlaneEndpoint and named after the cluster')
    .argument('<inventory>', 'inventory file (YAML)')
    .option('--file <file>', 'write it to FILE (mode 0600)')
    .option('--merge', 'merge it into $KUBECONFIG or ~/.kube/config, keeping the other contexts'), 'to write the kubeconfig to a file use --file FILE')
    .action(async (file: string, o) => {
      if (o.file && o.merge) throw new UsageError('kubeconfig: give --file FILE or --merge, not both');
      const [{ load }, { sessionRun, terminalPrompt }, { kubeconfig }] = await Promise.all([import('./load.js'), import('./connected.js'), import('./kubeconfig.js')]);
      setCode(await kubeconfig(load(file, io), { ...o, run: sessionRun(state, 'kubeconfig', 'observe', io) }, hostIo, await terminalPrompt()));
    });

  sshOptions(program.command('status')
    .summary('per host and per node: reachable, versions, joined, Ready')
    .description('per host: reachable, OS, runtime and versions, joined, node Ready; the cluster\'s nodes against the inventory')
    .argument('<inventory>', 'inventory file (YAML)'))
    .action(async (file: string, o) => {
      const [{ load }, { sessionRun, terminalPrompt }, { status }] = await Promise.all([import('./load.js'), import('./connected.js'), import('./status.js')]);
      setCode(await status(load(file, io), { ...o, run: sessionRun(state, 'status', 'observe', io) }, hostIo, await terminalPrompt()));
    });

  sshOptions(program.command('check')
    .summary('preflight before up (read-only): a pass/warn/fail table')
    .description('preflight before up (read-only): reachability, sudo, OS, CPUs and memory, unique product_uuid/MAC/hostname, ports, clocks, API port reachability; with --bundle, the OS packages the bundle leaves to each host')
    .argument('<inventory>', 'inventory file (YAML)')
    .option('--bundle <file>', 'the bundle up --bundle will use: check that each host has the OS packages it does not carry (nothing is uploaded)'))
    .action(async (file: string, o) => {
      const [{ load }, { sessionRun, terminalPrompt }, { check }] = await Promise.all([import('./load.js'), import('./connected.js'), import('./check.js')]);
      setCode(await check(load(file, io), { ...o, run: sessionRun(state, 'check', 'observe', io) }, hostIo, await terminalPrompt()));
    });
}
