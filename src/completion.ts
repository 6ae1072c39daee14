/**
 * Shell completion, the way kubectl and k0sctl do it: `kbootstrap completion
 * SHELL` prints a small script whose function calls back `kbootstrap
 * __complete WORDS…` with the words typed so far (the last one being
 * completed, possibly empty). What to offer is decided here, in one place,
 * from the program's own commands and options: commands, options, the
 * choices of an option, step ids, and the hosts of the inventory already on
 * the line. A shell then filters the candidates by the prefix typed.
 */
import type { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { STEP_IDS } from './steps/index.js';
import { UsageError } from './errors.js';

/** The hosts' names of the inventory file on the line; nothing when it cannot be read (completion never fails loudly). */
function hostNames(file: string | undefined): string[] {
  if (!file) return [];
  try {
    const doc = parse(readFileSync(file, 'utf8')) as { hosts?: { name?: unknown }[] } | null;
    return (doc?.hosts ?? []).map((h) => h?.name).filter((n): n is string => typeof n === 'string');
  } catch {
    return [];
  }
}

/** For comma-separated lists: complete the last item, keeping what is before it. */
function listItems(current: string, all: string[]): string[] {
  const cut = current.lastIndexOf(',') + 1;
  const done = current.slice(0, cut);
  const taken = new Set(done.split(',').filter(Boolean));
  return all.filter((x) => !taken.has(x)).map((x) => done + x);
}

const FILE = '__files__';

function optionValues(opt: Option, current: string, inventory: string | undefined): string[] {
  const name = opt.attributeName();
  if (opt.argChoices) return opt.argChoices;
  if (name === 'output') return ['text', 'json'];
  if (name === 'only' || name === 'host') return listItems(current, hostNames(inventory));
  if (name === 'steps' || name === 'skipSteps') return listItems(current, [...STEP_IDS]);
  if (['sshConfig', 'file', 'dir'].includes(name)) return [FILE];
  return [];
}

/**
 * Candidates for the last of WORDS (the words after `kbootstrap`). A file
 * name is asked for with the single candidate `__files__`, which the scripts
 * turn into the shell's own file completion.
 */
export function complete(program: Command, words: string[]): string[] {
  const current = words.at(-1) ?? '';
  const before = words.slice(0, -1);
  const visible = program.commands.filter((c) => !c.name().startsWith('__'));
  const cmd = visible.find((c) => c.name() === before[0]);
  if (!cmd) return before.length === 0 ? visible.map((c) => c.name()) : [];
  if (cmd.name() === 'help') return before.length === 1 ? visible.map((c) => c.name()) : [];
  if (cmd.name() === 'completion') return before.length === 1 ? ['bash', 'zsh', 'fish'] : [];
  const opts = cmd.options.filter((o) => !o.hidden);
  const args: string[] = [];
  for (let i = 1; i < before.length; i++) {
    const w = before[i]!;
    const opt = opts.find((o) => o.long === w || o.short === w);
    if (opt && (opt.required || opt.optional)) i++;
    else if (!w.startsWith('-')) args.push(w);
  }
  const inventory = cmd.name() === 'token' && (args[0] === 'list' || args[0] === 'revoke') ? args[1] : args[0];
  const prev = before.at(-1);
  const valued = opts.find((o) => (o.long === prev || o.short === prev) && (o.required || o.optional));
  if (valued) return optionValues(valued, current, inventory);
  if (current.startsWith('-')) return opts.map((o) => o.long!).filter(Boolean);
  if (cmd.name() === 'token' && args.length === 0) return ['list', 'revoke', FILE];
  return [FILE];
}

const BASH = `# kbootstrap completion for bash: source <(kbootstrap completion bash)
_kbootstrap() {
  local cur words cword
  cur="\${COMP_WORDS[COMP_CWORD]}"
  local IFS=$'\\n'
  local out
  out=$(kbootstrap __complete "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) || return
  if [[ "$out" == "__files__" ]]; then
    COMPREPLY=($(compgen -f -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$out" -- "$cur"))
  fi
}
complete -o default -o filenames -F _kbootstrap kbootstrap
`;

const ZSH = `#compdef kbootstrap
# kbootstrap completion for zsh: source <(kbootstrap completion zsh), after compinit
_kbootstrap() {
  local -a cands
  cands=("\${(@f)$(kbootstrap __complete "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  if [[ "\${cands[1]}" == "__files__" ]]; then
    _files
  else
    compadd -a cands
  fi
}
compdef _kbootstrap kbootstrap
`;

const FISH = `# kbootstrap completion for fish: kbootstrap completion fish | source
function __kbootstrap_complete
  set -l words (commandline -opc)[2..-1] (commandline -ct)
  set -l out (kbootstrap __complete $words 2>/dev/null)
  if test "$out" = "__files__"
    __fish_complete_path (commandline -ct)
  else
    printf '%s\\n' $out
  end
end
complete -c kbootstrap -f -a '(__kbootstrap_complete)'
`;

export function completionScript(shell: string): string {
  switch (shell) {
    case 'bash': return BASH;
    case 'zsh': return ZSH;
    case 'fish': return FISH;
  }
  throw new UsageError(`completion: no script for ${JSON.stringify(shell)}: bash, zsh or fish`);
}
