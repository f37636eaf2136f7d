// `rotate-ca`: a new root CA for the swarm, waited for on every node.
import type { Command } from 'commander';
import { ExitCode, InputError } from '../../errors.ts';
import { execute, finish, inputOrExit, type SetExit } from '../execute.ts';
import { common, providerFlags } from '../options.ts';
import type { CommonOptions } from '../session.ts';

/** `--wait <seconds>`: how long rotate-ca waits for every node (default 120). */
export function caWaitMs(value: string | undefined): number {
  const seconds = value === undefined ? 120 : Number(value);
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 86_400)
    throw new InputError(`--wait: "${value}" is not a whole number of seconds from 1 to 86400`);
  return seconds * 1000;
}

export function registerRotateCA(program: Command, setExit: SetExit): void {
  providerFlags(
    common(
      program
        .command('rotate-ca')
        .description(
          'new root CA for the swarm through the leader (docker swarm ca --rotate); waits until every node has it',
        ),
    ).option('--wait <seconds>', 'how long to wait for every node to get the new CA (default 120)'),
    false,
  ).action(async (opts: CommonOptions & { wait?: string }) => {
    const timeoutMs = inputOrExit(() => caWaitMs(opts.wait), opts, setExit);
    if (timeoutMs === null) return;
    setExit(
      await execute(
        opts,
        async (ctx, started) => {
          const { confirm } = await import('../../playbook/confirm.ts');
          const r = await (await import('../../cluster/day2.ts')).rotateCA(ctx, { timeoutMs, confirm });
          if (!r) {
            process.stderr.write('swarmup: nothing done\n');
            return ExitCode.ok;
          }
          if (r.converged) {
            if (!ctx.reporter.json) process.stdout.write(`new root CA: ${r.fingerprint}\n`);
            ctx.reporter.emit({ event: 'log', message: `every node has the new root CA ${r.fingerprint}` });
            return finish(ctx, started, undefined, `root CA rotated (${r.fingerprint})`);
          }
          const lag = r.lagging.map(
            (l) => `${l.name} (${l.state}${l.lags === 'trust root' ? ', trust root' : ''})`,
          );
          const message =
            `the root CA rotation is not finished after ${timeoutMs / 1000} s: ${lag.join(', ')} ` +
            `${lag.length === 1 ? 'has' : 'have'} no certificate of the new CA yet. A node that is stopped gets ` +
            'it when it runs again: start it ("swarmup up" starts stopped machines and waits for it), and the ' +
            'swarm ends the rotation by itself; "swarmup rotate-ca" again waits for the rotation under way';
          if (ctx.reporter.json)
            process.stdout.write(
              JSON.stringify({ event: 'error', message, exitCode: ExitCode.stepFailed }) + '\n',
            );
          process.stderr.write(`swarmup: ${message}\n`);
          return ExitCode.stepFailed;
        },
        'rotate-ca',
      ),
    );
  });
}
