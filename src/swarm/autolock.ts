import type Docker from 'dockerode';
import { withDeadline } from '../transport/deadline.ts';
import { updateVersioned } from './versioned-update.ts';

/**
 * Autolock on a host's Docker Engine API: turning it on or off, reading and rotating the unlock key, unlocking a
 * manager. The key travels only in response and request bodies over the host's SSH connection; the caller keeps it
 * in memory or in the state folder's 0600 `unlock-key` file, never in a message.
 */

const DEADLINE_MS = 30_000;

/** dockerode has no call for these endpoints: the same modem it uses, with a deadline of our own. */
function dial<T>(docker: Docker, path: string, method: 'GET' | 'POST', body?: object): Promise<T> {
  const call = new Promise<T>((resolve, reject) => {
    docker.modem.dial(
      {
        path,
        method,
        statusCodes: {
          200: true,
          400: 'bad parameter',
          500: 'server error',
          503: 'node is not part of a swarm',
        },
        options: body ?? {},
      },
      (err: unknown, data: unknown) => (err ? reject(err as Error) : resolve(data as T)),
    );
  });
  return withDeadline(call, DEADLINE_MS, `the Docker engine: ${method} ${path}`);
}

/** GET /swarm/unlockkey on a manager: the current key (empty when autolock is off). */
export async function readUnlockKey(docker: Docker): Promise<string | undefined> {
  const r = await dial<{ UnlockKey?: string }>(docker, '/swarm/unlockkey', 'GET');
  return r?.UnlockKey || undefined;
}

/** POST /swarm/unlock: a locked manager decrypts its raft keys with the unlock key and rejoins. */
export async function unlockManager(docker: Docker, key: string): Promise<void> {
  await dial(docker, '/swarm/unlock', 'POST', { UnlockKey: key });
}

interface SwarmInspect {
  Version: { Index: number };
  Spec: { EncryptionConfig?: { AutoLockManagers?: boolean } } & Record<string, unknown>;
}

/** SwarmUpdate with Spec.EncryptionConfig.AutoLockManagers set, every other setting kept. */
export async function setAutolock(docker: Docker, enable: boolean): Promise<void> {
  await updateVersioned(
    async () => (await docker.swarmInspect()) as SwarmInspect,
    (swarm) =>
      docker.swarmUpdate({
        _query: { version: swarm.Version.Index },
        _body: {
          ...swarm.Spec,
          EncryptionConfig: { ...swarm.Spec.EncryptionConfig, AutoLockManagers: enable },
        },
      }),
  );
}

/** SwarmUpdate with rotateManagerUnlockKey: the old key stops unlocking managers. */
export async function rotateUnlockKey(docker: Docker): Promise<void> {
  await updateVersioned(
    async () => (await docker.swarmInspect()) as SwarmInspect,
    (swarm) =>
      docker.swarmUpdate({
        _query: { version: swarm.Version.Index, rotateManagerUnlockKey: true },
        _body: swarm.Spec,
      }),
  );
}
