// Writes docs/cli.md, the command reference, from the commander program itself (as cobra-based CLIs generate
// theirs): every command in --help order, its description, arguments and options with their defaults, choices and
// environment variables. `npm run docs` runs it; test/unit/docs-cli.test.ts fails when docs/cli.md is stale.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Argument, Command, Option } from 'commander';
import { format, resolveConfig } from 'prettier';
import { buildProgram } from '../src/cli/program.ts';

export const cliDocPath = fileURLToPath(new URL('../docs/cli.md', import.meta.url));

/** Markdown table cells: no bar, no line break. */
function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

function code(text: string): string {
  return text.includes('`') ? `\`\` ${text} \`\`` : `\`${text}\``;
}

function argumentLabel(arg: Argument): string {
  const name = `${arg.name()}${arg.variadic ? '...' : ''}`;
  return arg.required ? `<${name}>` : `[${name}]`;
}

function optionNotes(option: Option): string {
  const notes: string[] = [];
  if (option.argChoices) notes.push(`one of ${option.argChoices.map(code).join(', ')}`);
  if (option.defaultValue !== undefined && option.defaultValue !== false) {
    notes.push(`default ${code(option.defaultValueDescription ?? JSON.stringify(option.defaultValue))}`);
  }
  if (option.envVar) notes.push(`env ${code(option.envVar)}`);
  if (option.mandatory) notes.push('required');
  return notes.join('; ');
}

function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Every visible command below `command`, depth first, in registration (--help) order, as --help shows them. */
function visibleCommands(command: Command): Command[] {
  const help = command.createHelp();
  return help
    .visibleCommands(command)
    .filter((c) => c.name() !== 'help' || command.commands.includes(c))
    .flatMap((c) => [c, ...visibleCommands(c)]);
}

function renderCommand(command: Command): string[] {
  const usage = [commandPath(command), ...command.registeredArguments.map(argumentLabel)].join(' ');
  const lines = [`## ${commandPath(command)}`, '', command.description(), '', '```', usage, '```', ''];
  if (command.aliases().length > 0) lines.push(`Aliases: ${command.aliases().map(code).join(', ')}`, '');
  for (const arg of command.registeredArguments) {
    lines.push(`- ${code(argumentLabel(arg))}: ${arg.description || '(no description)'}`);
  }
  if (command.registeredArguments.length > 0) lines.push('');
  const options = command.options.filter((o) => !o.hidden);
  if (options.length > 0) {
    lines.push('| option | description | default, choices, env |', '| --- | --- | --- |');
    for (const option of options) {
      lines.push(`| ${code(option.flags)} | ${cell(option.description)} | ${cell(optionNotes(option))} |`);
    }
    lines.push('');
  }
  return lines;
}

/** docs/cli.md as `npm run docs` writes it: formatted as prettier (which `npm run lint` runs) would. */
export async function renderCliDoc(): Promise<string> {
  const program = buildProgram(() => {});
  const commands = visibleCommands(program);
  const lines = [
    '# Command reference',
    '',
    '<!-- Generated from src/cli/program.ts by `npm run docs` (scripts/docs-cli.ts): do not edit by hand. -->',
    '',
    `${program.name()}: ${program.description()}. Exit codes and the flags every cluster command shares are described`,
    'in the [README](../README.md#command-line); this page lists each command as `--help` does.',
    '',
    ...commands.map((c) => `- [${commandPath(c)}](#${commandPath(c).replaceAll(' ', '-')})`),
    '',
    ...commands.flatMap(renderCommand),
  ];
  const options = await resolveConfig(cliDocPath);
  return format(`${lines.join('\n').trimEnd()}\n`, { ...options, filepath: cliDocPath });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(cliDocPath, await renderCliDoc());
  console.log(`wrote ${cliDocPath}`);
}
