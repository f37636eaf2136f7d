import type Docker from 'dockerode';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage } from '../errors.ts';
import type { PlaybookContext } from '../playbook/playbook.ts';
import { withDeadline } from '../transport/deadline.ts';
import { asRootScript, quote } from '../transport/quote.ts';
import {
  caFingerprint,
  caProgress,
  describeProgress,
  parseCaState,
  type CaProgress,
  type CaState,
} from './ca.ts';
import { updateVersioned } from './versioned-update.ts';

/** The swarm's root CA on a manager's Docker Engine API: rotate it, read how far the nodes are, wait for them. */

const CALL_MS = 15_000;

type CAConfig = { ForceRotate?: number; SigningCACert?: string; SigningCAKey?: string } & Record<
  string,
  unknown
>;

interface SwarmInspect {
  Version: { Index: number };
  Spec: {
    CAConfig?: CAConfig;
  } & Record<string, unknown>;
}

/**
 * `docker swarm ca --rotate` without a certificate of one's own (cli/command/swarm/ca.go): the swarm's spec sent
 * back with CAConfig.ForceRotate incremented and no signing certificate or key of its own, every other setting kept
 * (the CLI's updateSwarmSpec); swarmkit makes a new root CA, cross-signs it with the old one and reissues every
 * node's certificate.
 */
export async function rotateRootCA(docker: Docker): Promise<void> {
  await updateVersioned(
    async () =>
      (await withDeadline(
        docker.swarmInspect(),
        CALL_MS,
        'the Docker engine: swarm inspect',
      )) as SwarmInspect,
    (swarm) => {
      // As the docker CLI does: no signing certificate or key of one's own (a spec read back never has the key).
      const { SigningCACert: _cert, SigningCAKey: _key, ...ca } = swarm.Spec.CAConfig ?? {};
      return withDeadline(
        docker.swarmUpdate({
          _query: { version: swarm.Version.Index },
          _body: { ...swarm.Spec, CAConfig: { ...ca, ForceRotate: (ca.ForceRotate ?? 0) + 1 } },
        }),
        CALL_MS,
        'the Docker engine: swarm update',
      );
    },
  );
}

/** GET /swarm and GET /nodes of a manager, as the CA state. */
export async function readCaState(docker: Docker): Promise<CaState> {
  const [swarm, nodes] = await Promise.all([
    withDeadline(docker.swarmInspect(), CALL_MS, 'the Docker engine: swarm inspect'),
    withDeadline(docker.listNodes(), CALL_MS, 'the Docker engine: node list'),
  ]);
  return parseCaState(swarm, nodes);
}

export interface CaWait {
  converged: boolean;
  state: CaState;
  progress: CaProgress;
}

/**
 * Poll until every node has a certificate of the swarm's current CA and trusts its root, and no rotation runs; or
 * until `timeoutMs` (then the last reading is returned, not converged). After a rotation, `oldRoot` (the trust root
 * before it) is not taken for converged: the swarm trusts the new root only once every node has its certificate.
 * `progress` is called when the reading changes.
 */
export async function waitCaConverged(
  docker: Docker,
  opts: { timeoutMs: number; oldRoot?: string; progress?: (p: CaProgress, s: CaState) => void },
): Promise<CaWait> {
  const deadline = Date.now() + opts.timeoutMs;
  let said = '';
  let last: CaWait | undefined;
  let lastError = '';
  for (;;) {
    try {
      const state = await readCaState(docker);
      const progress = caProgress(state);
      last = { converged: progress.converged && state.swarm.trustRoot !== opts.oldRoot, state, progress };
      if (last.converged) return last;
      const key = JSON.stringify([progress.certificates, progress.lagging]);
      if (key !== said) opts.progress?.(progress, state);
      said = key;
    } catch (err) {
      // A leader change during the rotation: the next reading answers.
      lastError = errorMessage(err);
    }
    if (Date.now() > deadline) {
      if (last) return last;
      throw new Error(`the swarm's CA state could not be read for ${opts.timeoutMs / 1000} s: ${lastError}`);
    }
    await sleep(500);
  }
}

/** Where an engine keeps its node certificate; `root` is its DockerRootDir. */
export function nodeCertificatePath(root: string): string {
  return `${root.replace(/\/+$/, '') || '/var/lib/docker'}/swarm/certificates/swarm-node.crt`;
}

/**
 * Each host's node certificate (PEM), read as root over its SSH connection from where its engine keeps it
 * (DockerRootDir), every call with a deadline; a host that does not give it (no swarm, no root, no answer) is left
 * out: status warns about what it can read, nothing else.
 */
export async function readNodeCertificates(
  ctx: PlaybookContext,
  names: string[],
): Promise<Array<{ name: string; pem: string }>> {
  const found = await Promise.all(
    ctx.hosts
      .filter((m) => names.includes(m.name))
      .map(async (machine) => {
        try {
          const h = ctx.handle(machine);
          const info = (await withDeadline((await h.docker()).info(), 10_000, 'the Docker engine: info')) as {
            DockerRootDir?: string;
          };
          const path = nodeCertificatePath(info.DockerRootDir || '/var/lib/docker');
          const r = await h.exec(asRootScript(`cat ${quote(path)}`), { deadlineMs: 10_000 });
          const pem = r.code === 0 && r.stdout.includes('BEGIN CERTIFICATE') ? r.stdout : undefined;
          return pem ? [{ name: machine.name, pem }] : [];
        } catch {
          return [];
        }
      }),
  );
  return found.flat();
}

/**
 * `up`'s last check: a node that was stopped while the root CA was rotated gets a certificate of the new CA by
 * itself once it runs again (seen on Docker 20.10 within 2 s of its engine starting), and the swarm then ends the
 * rotation. Waited for (bounded) and told; the nodes still lagging at the deadline are returned as problems.
 */
export async function waitCaCaughtUp(
  docker: Docker,
  opts: { timeoutMs: number; nameOf: (id: string, hostname: string) => string; log: (m: string) => void },
): Promise<string[]> {
  let first: CaState;
  try {
    first = await readCaState(docker);
  } catch {
    return []; // the node list was just read: a failure here is told by the next command, not guessed at
  }
  const lag = caProgress(first);
  if (lag.converged) return [];
  opts.log(
    `a root CA rotation is under way: waiting up to ${opts.timeoutMs / 1000} s for ` +
      `${lag.lagging.map((l) => opts.nameOf(l.id, l.hostname)).join(', ') || 'the swarm'} to get the new CA`,
  );
  const done = await waitCaConverged(docker, {
    timeoutMs: opts.timeoutMs,
    progress: (p) => opts.log(describeProgress(p, opts.nameOf)),
  });
  if (done.converged) {
    opts.log(`every node has the new root CA ${caFingerprint(done.state.swarm.trustRoot)}`);
    return [];
  }
  const lagging = done.progress.lagging.map((l) => `${opts.nameOf(l.id, l.hostname)} (${l.state})`);
  return [
    `the root CA rotation is not finished after ${opts.timeoutMs / 1000} s: ` +
      (lagging.length > 0
        ? `${lagging.join(', ')} ${lagging.length === 1 ? 'has' : 'have'} no certificate of the new CA yet`
        : 'the swarm has not ended it yet'),
  ];
}
