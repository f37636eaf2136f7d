import { createHash } from 'node:crypto';

/**
 * RunInstances' idempotency token for one node of one life of the cluster: a retry after a crash between the
 * launch and its recording gets the same instance back instead of a second one. The generation changes after
 * `down`, so a new cluster of the same name is never handed the old, terminated instances.
 */
export function clientToken(cluster: string, generation: string, node: string): string {
  return (
    'swarmup-' + createHash('sha256').update(`${cluster}/${generation}/${node}`).digest('hex').slice(0, 40)
  );
}

/** The token of one life of a node: a node whose instance is gone for good launches its next life. */
export function launchToken(cluster: string, generation: string, node: string, life: number): string {
  return clientToken(cluster, generation, `${node}#${life}`);
}

/** States of an instance that is gone (or going) for good: its token can never launch again. */
export const GONE_STATES = ['shutting-down', 'terminated'];

/**
 * The life a node's next launch uses. AWS hands back the instance a token launched for as long as it remembers the
 * token (about an hour), even when that instance is terminated; so while the current life's instance is seen gone,
 * the node moves on to its next life. An instance of the current life that still lives, or that is not listed yet
 * (a crash right after the launch), keeps the life: the retry sends the same token and gets the same instance.
 */
export function chooseLife(
  recorded: number,
  tokenOf: (life: number) => string,
  seen: Array<{ clientToken?: string | undefined; state?: string | undefined }>,
): number {
  const gone = new Set(seen.filter((i) => GONE_STATES.includes(i.state ?? '')).map((i) => i.clientToken));
  const alive = new Set(seen.filter((i) => !GONE_STATES.includes(i.state ?? '')).map((i) => i.clientToken));
  let life = recorded;
  while (gone.has(tokenOf(life)) && !alive.has(tokenOf(life))) life++;
  return life;
}
