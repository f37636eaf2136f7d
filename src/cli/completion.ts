import type { Command } from 'commander';
import { InputError } from '../errors.ts';
import { wantedNodes } from '../providers/node-names.ts';
import type { ClusterState } from '../state/store.ts';
import { quote } from '../transport/quote.ts';

/**
 * `swarmup completion bash|zsh|fish`: a script completing commands, flags, flag values (choices, files), cluster
 * names (the state home's folders: read by the shell, no swarmup process) and, for `swarmup ssh`, node names
 * (`swarmup complete-nodes`, which reads the cluster's record only). Generated from the commander program itself,
 * so a new command or flag is completed without touching this file.
 */

export type ValueKind = 'none' | 'cluster' | 'file' | 'any' | { choices: string[] };

export interface FlagSpec {
  flags: string[];
  value: ValueKind;
}

export interface CommandSpec {
  /** `engine install` for a subcommand. */
  path: string;
  description: string;
  flags: FlagSpec[];
  /** What the first argument is. */
  argument: 'none' | 'node' | 'file' | 'shell';
}

export const SHELLS = ['bash', 'zsh', 'fish'] as const;

const ARGUMENT: Record<string, CommandSpec['argument']> = {
  ssh: 'node',
  drain: 'node',
  activate: 'node',
  run: 'file',
  completion: 'shell',
};

/** The commands and flags of the program (hidden commands left out). */
export function describeProgram(program: Command): CommandSpec[] {
  const out: CommandSpec[] = [];
  const walk = (cmd: Command, prefix: string) => {
    for (const c of cmd.commands) {
      if ((c as unknown as { _hidden?: boolean })._hidden) continue;
      const path = prefix ? `${prefix} ${c.name()}` : c.name();
      out.push({
        path,
        description: c.description(),
        argument: ARGUMENT[path] ?? 'none',
        flags: c.options
          .filter((o) => !o.hidden)
          .map((o) => ({
            flags: [o.long, o.short].filter((f): f is string => !!f),
            value: !(o.required || o.optional)
              ? 'none'
              : o.argChoices
                ? { choices: [...o.argChoices] }
                : o.long === '--name'
                  ? 'cluster'
                  : /<[^>]*file[^>]*>/i.test(o.flags)
                    ? 'file'
                    : 'any',
          })),
      });
      walk(c, path);
    }
  };
  walk(program, '');
  return out;
}

/** Node names of a recorded cluster, without reaching anything. Pure. */
export function recordedNodeNames(state: Partial<ClusterState>): string[] {
  const names = new Set<string>();
  if (state.name && state.managers !== undefined && state.provider !== 'ssh')
    for (const n of wantedNodes(state.name, state.managers, state.workers ?? 0)) names.add(n.name);
  for (const h of state.hosts ?? []) names.add(h.name);
  for (const n of Object.keys(state.nodeIds ?? {})) names.add(n);
  return [...names];
}

const CLUSTERS_SH = `for f in "\${SWARMUP_HOME:-$HOME/.swarmup}"/*/state.json; do [ -e "$f" ] && basename "$(dirname "$f")"; done`;

function valueWords(v: ValueKind): string {
  if (typeof v === 'object') return v.choices.join(' ');
  return '';
}

/** Words of the program itself (commands, flags, choices) as elements of a bash array, each quoted. */
const arrayWords = (words: string[]) => words.map(quote).join(' ');

/**
 * The bash function. Data (cluster folders of the state home, recorded node names) is never expanded by the shell:
 * no `compgen -W` (which expands its word list: a folder named `$(cmd)` would run cmd on TAB), no unquoted
 * `$(...)` splitting. Every candidate goes through `_swarmup_add`, which reads literal lines, keeps those that
 * start with what was typed, and offers each `printf %q`-quoted so that the inserted word is the name itself.
 * File arguments are left to bash's own file completion (`-o default`), which quotes as readline does.
 */
function bash(spec: CommandSpec[]): string {
  const top = spec.filter((c) => !c.path.includes(' ')).map((c) => c.path);
  const subs = (p: string) =>
    spec.filter((c) => c.path.startsWith(`${p} `)).map((c) => c.path.split(' ')[1]!);
  const parents = top.filter((p) => subs(p).length > 0);
  const cases = spec.map((c) => {
    const flags = c.flags.flatMap((f) => f.flags);
    const more = subs(c.path);
    const arg =
      c.argument === 'node'
        ? 'while IFS= read -r w; do words+=("$w"); done < <(swarmup complete-nodes "${name[@]}" 2>/dev/null)'
        : c.argument === 'shell'
          ? `words+=(${arrayWords([...SHELLS])})`
          : c.argument === 'file'
            ? 'files=1'
            : ':';
    return `    ${quote(c.path)}) words=(${arrayWords([...flags, ...more])}); [[ $cur != -* ]] && ${arg} ;;`;
  });
  // A flag means the same in every command: its values are completed by the flag alone.
  const byFlag = new Map<string, ValueKind>();
  for (const c of spec)
    for (const f of c.flags)
      for (const x of f.flags) if (f.value !== 'none' && !byFlag.has(x)) byFlag.set(x, f.value);
  const values = [...byFlag].map(([flag, v]) => {
    const what =
      v === 'cluster'
        ? '_swarmup_add < <(_swarmup_clusters)'
        : v === 'file'
          ? ':'
          : typeof v === 'object'
            ? `_swarmup_add < <(printf '%s\\n' ${arrayWords(v.choices)})`
            : ':';
    return `    ${quote(flag)}) ${what}; return ;;`;
  });
  return `# swarmup completion for bash: eval "$(swarmup completion bash)" (e.g. in ~/.bashrc)
# Candidates are read as literal lines and offered quoted (printf %q): no name is ever expanded by the shell.
_swarmup_add() {
  local c q
  while IFS= read -r c; do
    [[ -n $c ]] || continue
    printf -v q '%q' "$c"
    if [[ $c == "$cur"* || $q == "$cur"* ]]; then COMPREPLY+=("$q"); fi
  done
}
_swarmup_clusters() {
  ${CLUSTERS_SH}
}
_swarmup() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" cmdpath="" files="" i w
  local -a words=() name=()
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    case "$w" in
      --name) name=(--name "\${COMP_WORDS[i+1]}"); ((i++)) ;;
      ${[...byFlag.keys()].map(quote).join('|') || '--'}) ((i++)) ;;
      -*) ;;
      *) if [[ -z $cmdpath ]]; then cmdpath="$w"; elif [[ " ${parents.join(' ')} " == *" $cmdpath "* ]]; then cmdpath="$cmdpath $w"; fi ;;
    esac
  done
  case "$prev" in
${values.join('\n')}
  esac
  case "$cmdpath" in
    '') words=(${arrayWords(top)}) ;;
${cases.join('\n')}
  esac
  [[ -n $files ]] && return
  _swarmup_add < <(printf '%s\\n' "\${words[@]}")
}
complete -o default -F _swarmup swarmup
`;
}

function zsh(spec: CommandSpec[]): string {
  return `# swarmup completion for zsh: eval "$(swarmup completion zsh)" (e.g. in ~/.zshrc); uses zsh's bashcompinit
autoload -U +X compinit && compinit
autoload -U +X bashcompinit && bashcompinit
${bash(spec).split('\n').slice(1).join('\n')}`;
}

function fishQuote(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function fish(spec: CommandSpec[]): string {
  const top = spec.filter((c) => !c.path.includes(' '));
  const lines = [
    '# swarmup completion for fish: swarmup completion fish | source (or save to ~/.config/fish/completions/swarmup.fish)',
    'function __swarmup_clusters',
    '  set -l home $HOME/.swarmup; set -q SWARMUP_HOME; and set home $SWARMUP_HOME',
    '  for f in $home/*/state.json; basename (dirname $f); end',
    'end',
    'function __swarmup_nodes',
    '  set -l t (commandline -opc); set -l i (contains -i -- --name $t)',
    '  if test -n "$i"; swarmup complete-nodes --name $t[(math $i + 1)] 2>/dev/null; else; swarmup complete-nodes 2>/dev/null; end',
    'end',
    'complete -c swarmup -f',
    ...top.map(
      (c) =>
        `complete -c swarmup -n __fish_use_subcommand -a ${c.path} -d ${fishQuote(c.description.slice(0, 60))}`,
    ),
  ];
  for (const c of spec) {
    const words = c.path.split(' ');
    const cond =
      words.length === 1
        ? `__fish_seen_subcommand_from ${c.path}`
        : `__fish_seen_subcommand_from ${words[1]}`;
    for (const s of spec.filter((x) => x.path.startsWith(`${c.path} `)))
      lines.push(
        `complete -c swarmup -n '__fish_seen_subcommand_from ${c.path}' -a ${s.path.split(' ')[1]} -d ${fishQuote(s.description.slice(0, 60))}`,
      );
    for (const f of c.flags) {
      const long = f.flags.find((x) => x.startsWith('--'))?.slice(2);
      const short = f.flags.find((x) => /^-[^-]$/.test(x))?.slice(1);
      const opt = [long ? `-l ${long}` : '', short ? `-s ${short}` : ''].filter(Boolean).join(' ');
      const val =
        f.value === 'none'
          ? ''
          : f.value === 'cluster'
            ? " -x -a '(__swarmup_clusters)'"
            : f.value === 'file'
              ? ' -r -F'
              : typeof f.value === 'object'
                ? ` -x -a ${fishQuote(valueWords(f.value))}`
                : ' -x';
      lines.push(`complete -c swarmup -n '${cond}' ${opt}${val}`);
    }
    if (c.argument === 'node') lines.push(`complete -c swarmup -n '${cond}' -a '(__swarmup_nodes)'`);
    if (c.argument === 'shell') lines.push(`complete -c swarmup -n '${cond}' -a '${SHELLS.join(' ')}'`);
    if (c.argument === 'file') lines.push(`complete -c swarmup -n '${cond}' -F`);
  }
  return lines.join('\n') + '\n';
}

/** The completion script for a shell; any other shell is bad input (exit 2). Pure. */
export function completionScript(shell: string, spec: CommandSpec[]): string {
  if (shell === 'bash') return bash(spec);
  if (shell === 'zsh') return zsh(spec);
  if (shell === 'fish') return fish(spec);
  throw new InputError(`completion: unknown shell "${shell}" (one of: ${SHELLS.join(', ')})`);
}

/** `swarmup complete-nodes [--name N]` (hidden): the recorded node names, one a line; nothing when unknown. */
export async function completeNodes(name: string | undefined): Promise<number> {
  const { StateStore } = await import('../state/store.ts');
  const { CLUSTER_NAME } = await import('../config/names.ts');
  if (name !== undefined && !CLUSTER_NAME.test(name)) return 0;
  const state = new StateStore(name ?? 'local').read();
  for (const n of state ? recordedNodeNames(state) : []) process.stdout.write(`${n}\n`);
  return 0;
}
