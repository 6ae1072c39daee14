/**
 * The commands that connect to nothing (init, validate, completion, help,
 * versions) as the CLI registers them: each loads its code when it runs.
 */
import type { Command, Option } from 'commander';
import { EXIT, UsageError, formatProblem } from '../errors.js';
import type { Io } from '../io.js';
import { errLine } from '../wrap.js';

export interface LocalCliDeps {
  io: Io;
  setCode: (code: number) => void;
  /** -o/--output, as every command has it */
  outputOption: () => Option;
  /** " (did you mean X?)" for a mistyped name, or '' */
  suggest: (wrong: string, choices: string[]) => Promise<string>;
}

export function registerLocalCommands(program: Command, d: LocalCliDeps): void {
  const { io, setCode, outputOption, suggest } = d;
  program.command('init')
    .summary('write a new inventory: a wizard, or an example with --defaults')
    .description('write a new inventory: a guided wizard, or a commented example with --defaults')
    .argument('[file]', 'where to write it (- for standard output, with --defaults)', 'inventory.yaml')
    .option('--defaults', 'write a commented example without asking')
    .option('--force', 'overwrite an existing file')
    .addOption(outputOption())
    .action(async (file: string, o) => {
      if (o.output === 'json' && !o.defaults) throw new UsageError('init: the wizard talks on the terminal; --output json goes with --defaults');
      const { init, inquirerPrompter } = await import('./init.js');
      const prompter = process.stdin.isTTY && process.stdout.isTTY ? await inquirerPrompter() : undefined;
      setCode(await init(file, o, io, prompter));
    });

  program.command('validate')
    .summary('check an inventory file; exit 0 when it is valid')
    .description('check an inventory file and exit 0 when it is valid')
    .argument('<inventory>', 'inventory file (YAML), or - for standard input')
    .addOption(outputOption())
    .action(async (file: string, o) => {
      const [{ loadInventoryFile }, { plural }] = await Promise.all([import('../inventory/load.js'), import('../report.js')]);
      const { inventory: inv, warnings } = loadInventoryFile(file, { keyFiles: true });
      for (const w of warnings) errLine(io, formatProblem(w));
      const name = file === '-' ? '<stdin>' : file;
      if (o.output === 'json') {
        io.out(JSON.stringify({ file: name, valid: true, hosts: inv.hosts.length, kubernetesVersion: inv.cluster.kubernetesVersion, warnings: warnings.map(formatProblem) }, null, 2) + '\n');
      } else io.out(`${name}: valid (${plural(inv.hosts.length, 'host')}, Kubernetes ${inv.cluster.kubernetesVersion})\n`);
      setCode(EXIT.ok);
    });

  program.command('completion')
    .summary('shell completion: source <(kbootstrap completion bash)')
    .description('print the completion script for bash, zsh or fish: commands, options, step ids and the hosts of the inventory on the line')
    .argument('<shell>', 'bash, zsh or fish')
    .addOption(outputOption())
    .addHelpText('after', `
  bash:  source <(kbootstrap completion bash)        (or in ~/.bashrc)
  zsh:   source <(kbootstrap completion zsh)         (after compinit)
  fish:  kbootstrap completion fish | source
`)
    .action(async (shell: string, o) => {
      const { completionScript } = await import('../completion.js');
      const script = completionScript(shell);
      io.out(o.output === 'json' ? JSON.stringify({ shell, script }, null, 2) + '\n' : script);
      setCode(EXIT.ok);
    });

  // what the shells' completion functions call: the candidates for the word being typed, one a line
  program.command('__complete', { hidden: true })
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[words...]')
    .action(async (words: string[]) => {
      const { complete } = await import('../completion.js');
      io.out(complete(program, words).join('\n') + '\n');
      setCode(EXIT.ok);
    });

  program.command('help')
    .summary('a command\'s options: help COMMAND')
    .description('show the help of a command')
    .argument('[command]')
    .action(async (name?: string) => {
      if (!name) { program.outputHelp(); setCode(EXIT.ok); return; }
      const cmd = program.commands.find((c) => c.name() === name && name !== '__complete');
      if (!cmd) throw new UsageError(`help: no command ${JSON.stringify(name)}${await suggest(name, program.commands.map((c) => c.name()).filter((c) => !c.startsWith('__')))}; kbootstrap --help lists them`);
      cmd.outputHelp();
      setCode(EXIT.ok);
    });

  program.command('versions')
    .summary('the versions table: Kubernetes minors, add-ons, OS releases')
    .description('the versions table: supported Kubernetes minors, add-on releases and OS releases kbootstrap knows, with sources')
    .addOption(outputOption())
    .action(async (o: { output: string }) => {
      const { matrixJson, matrixText } = await import('../versions/matrix.js');
      io.out(o.output === 'json' ? JSON.stringify(matrixJson(), null, 2) + '\n' : matrixText());
      setCode(EXIT.ok);
    });
}
