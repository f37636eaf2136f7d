import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { InputError } from '../errors.ts';
import { writeSshConfig } from './access.ts';
import { withCluster, type ClusterFlags } from './open-cluster.ts';
import { sshArgv } from './ssh-config.ts';

/**
 * `swarmup ssh NODE [-- CMD...]`: the system ssh, with the terminal, on a node of the cluster: swarmup's pinned host
 * keys (StrictHostKeyChecking yes), the cluster's key, the bastion as ProxyJump. Returns the remote command's exit
 * code (ssh's 255 when ssh itself failed); an unknown node is exit 2, naming the nodes.
 */
export async function sshCommand(
  node: string,
  command: string[],
  flags: ClusterFlags & { tty?: boolean },
): Promise<number> {
  let argv: string[] | undefined;
  const code = await withCluster(flags, async (ctx) => {
    const hosts = await ctx.provider.reach();
    if (!hosts.some((h) => h.name === node))
      throw new InputError(
        hosts.length
          ? `unknown node "${node}"; nodes of ${ctx.cluster.name}: ${hosts.map((h) => h.name).join(', ')}`
          : `unknown node "${node}": ${ctx.cluster.name} has no running node`,
      );
    argv = sshArgv(writeSshConfig(ctx, hosts), node, command, !!flags.tty);
    return 0;
  });
  if (!argv) return code;
  return runInherited('ssh', argv);
}

/** Run a program on this terminal (stdin, stdout, stderr its own) and return its exit code, as a shell's exec. */
export function runInherited(file: string, args: string[]): Promise<number> {
  return new Promise((resolve) => {
    // Ctrl-C goes to the program (same process group); swarmup waits for it rather than dying first.
    const ignore = () => undefined;
    process.on('SIGINT', ignore);
    const child = spawn(file, args, { stdio: 'inherit' });
    const done = (code: number) => {
      process.off('SIGINT', ignore);
      resolve(code);
    };
    child.on('error', (err) => {
      process.stderr.write(`swarmup: ${file}: ${err.message}\n`);
      done(127);
    });
    child.on('exit', (c, signal) => done(c ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0)));
  });
}
