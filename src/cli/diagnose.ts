import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import {
  diagnoseArchive,
  engineLogScript,
  type DiagnoseEntry,
  type DiagnoseFiles,
} from '../diagnose/archive.ts';
import { probePlan } from '../engine/preflight.ts';
import { probeSwarmPorts } from '../engine/port-probe.ts';
import { errorMessage, StepError } from '../errors.ts';
import type { PlaybookContext } from '../playbook/playbook.ts';
import type { Machine } from '../providers/provider.ts';
import { withDeadline } from '../transport/deadline.ts';
import { asRootScript } from '../transport/quote.ts';

/** Each call on a host has this deadline; the port probes as a whole, this one. */
const CALL_MS = 30_000;
const PROBES_MS = 90_000;

/** Engine data: written as JSON by the archive, through its redaction (never stringified here). */
const json = (v: unknown): DiagnoseEntry => ({ json: v });

/**
 * `swarmup diagnose`: every node's engine info, engine log, node, network and service lists, and the port probe
 * results, in one tar.gz (one folder per node), secrets redacted. Read only; one SSH connection per host, all
 * hosts at once, each call with a deadline; what fails is written down in the archive instead of stopping it.
 */
export async function diagnose(
  ctx: PlaybookContext,
  output?: string,
): Promise<{ file: string; nodes: number }> {
  const hosts = await ctx.provider.reach();
  if (hosts.length === 0)
    throw new StepError(ctx.cluster.name, 'diagnose', 'no machines found for this cluster');
  const here = ctx.withHosts(hosts);
  const started = new Date();
  const files: DiagnoseFiles = { top: {}, nodes: {} };
  const [perHost, probes] = await Promise.all([
    Promise.all(hosts.map(async (h) => [h.name, await collect(here, h)] as const)),
    portProbes(here, hosts),
  ]);
  for (const [name, entries] of perHost) files.nodes[name] = entries;
  files.top['port-probes.txt'] = probes;
  files.top['summary.txt'] =
    [
      `cluster: ${ctx.cluster.name}`,
      `provider: ${ctx.cluster.provider}`,
      `taken: ${started.toISOString()}`,
      `hosts: ${hosts.map((h) => `${h.name} (${h.advertiseAddress})`).join(', ')}`,
      ...perHost.flatMap(([n, e]) =>
        e['errors.txt'] ? [`${n}: some reads failed (see ${n}/errors.txt)`] : [],
      ),
    ].join('\n') + '\n';
  const stamp = started
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/:/g, '');
  const root = `swarmup-diagnose-${ctx.cluster.name}-${stamp}`;
  const file = resolve(output ?? `${root}.tar.gz`);
  writeWhole0600(file, diagnoseArchive(files, root, started));
  return { file, nodes: hosts.length };
}

/**
 * Write a file of mode 0600 whole or not at all: a new temporary file (0600 from its creation) in the same folder,
 * then renamed over the destination. An existing file (of any mode) is replaced, never written into, so it cannot
 * keep a wider mode than 0600.
 */
export function writeWhole0600(file: string, data: Buffer): void {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    try {
      writeFileSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** One host's files. Every read has its own deadline; a failed one is noted in errors.txt. */
async function collect(ctx: PlaybookContext, host: Machine): Promise<Record<string, DiagnoseEntry>> {
  const out: Record<string, DiagnoseEntry> = {};
  const errors: string[] = [];
  const read = async (name: string, what: string, fn: () => Promise<DiagnoseEntry>) => {
    try {
      out[name] = await withDeadline(fn(), CALL_MS, `${host.name}: ${what}`);
    } catch (err) {
      errors.push(`${name}: ${errorMessage(err)}`);
    }
  };
  let docker;
  try {
    docker = (await ctx.connection(host)).docker;
  } catch (err) {
    return { 'errors.txt': `cannot connect: ${errorMessage(err)}\n` };
  }
  const handle = ctx.handle(host);
  let manager = false;
  await Promise.all([
    read('docker-info.json', 'docker info', async () => {
      const info = (await docker.info()) as { Swarm?: { ControlAvailable?: boolean } };
      manager = info.Swarm?.ControlAvailable === true;
      return json(info);
    }),
    read('engine.log', 'engine log', async () => {
      const r = await handle.exec(asRootScript(engineLogScript), { deadlineMs: CALL_MS });
      return r.stdout + (r.code !== 0 ? `\n(exit ${r.code}) ${r.stderr}` : '');
    }),
    read('networks.json', 'network list', async () => json(await docker.listNetworks())),
  ]);
  if (manager) {
    await Promise.all([
      read('nodes.json', 'node list', async () => json(await docker.listNodes())),
      read('services.json', 'service list', async () => json(await docker.listServices())),
    ]);
  }
  if (errors.length > 0) out['errors.txt'] = errors.join('\n') + '\n';
  return out;
}

/** Swarm's ports probed from the first manager to every other host, and to it from another: the results as text. */
async function portProbes(ctx: PlaybookContext, hosts: Machine[]): Promise<string> {
  const roles = hosts.map((h) => ({ name: h.name, role: ctx.roleOf(h) }));
  const reference = roles.find((r) => r.role === 'manager')?.name ?? hosts[0]!.name;
  const probes = probePlan(roles, new Set(hosts.map((h) => h.name)), reference);
  if (probes.length === 0) return 'one host: no ports to probe between hosts\n';
  const lines = probes.map((p) => `probe ${p.from} -> ${p.to}: ${p.ports.join(' ')}`);
  try {
    const { problems } = await withDeadline(
      probeSwarmPorts({
        probes,
        connection: (name) => ctx.connection(hosts.find((h) => h.name === name)!),
        address: (name) => hosts.find((h) => h.name === name)!.advertiseAddress,
      }),
      PROBES_MS,
      'the port probes',
    );
    lines.push(
      ...(problems.length === 0
        ? [
            'all probed ports answered (a UDP port the engine holds cannot be checked; TCP ones were connected to)',
          ]
        : problems.map((p) => `${p.host}: ${p.check}: ${p.message}`)),
    );
  } catch (err) {
    lines.push(`the probes failed: ${errorMessage(err)}`);
  }
  return lines.join('\n') + '\n';
}
