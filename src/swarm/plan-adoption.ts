import { chooseSwarm, SwarmGoneError } from './choose-swarm.ts';
import type { ClusterNode, HostFacts } from './facts.ts';

/** What choosing the swarm and adopting it go by (PlanInput's part of it). */
export interface SwarmChoiceInput {
  facts: HostFacts[];
  knownClusterId?: string;
  ownMachines?: boolean;
  adopt?: boolean;
  preexisting?: string[];
  newSwarm?: boolean;
}

/**
 * The swarm to converge; with `--new-swarm`, a new one in place of a recorded swarm that is gone, and only then
 * (no host is a member of it, nor of another swarm that answers): a swarm that is there is converged as it is, so
 * the same command run again after the new swarm was made goes on with that one.
 */
export function chooseOrRenew(input: SwarmChoiceInput): ReturnType<typeof chooseSwarm> {
  try {
    return chooseSwarm(input.facts, input.knownClusterId, input.ownMachines, input.adopt);
  } catch (err) {
    if (!(err instanceof SwarmGoneError) || !input.newSwarm) throw err;
    return chooseSwarm(input.facts, undefined, input.ownMachines, input.adopt);
  }
}

/** Whose the swarm is: adopted now or earlier, and the nodes it had before swarmup joined it. */
export interface Adoption {
  /** Adopted in this run: no swarm recorded, machines not swarmup's. */
  adoptingNow: boolean;
  /** A swarm swarmup did not make (adopted now or in an earlier run). */
  adoptedSwarm: boolean;
  /** Its nodes from before swarmup joined it: never removed by swarmup. */
  preexisting: Set<string>;
}

/**
 * A swarm swarmup did not make: adopted in this run (no swarm recorded, machines not ours) or in an earlier one
 * (its nodes from before are recorded). Only what swarmup joined is ever removed from it, and its join tokens,
 * which its owner's automation may use, are never rotated by up.
 */
export function adoptionOf(
  input: SwarmChoiceInput,
  clusterId: string | undefined,
  nodes: ClusterNode[],
): Adoption {
  const adoptingNow = !!clusterId && !input.knownClusterId && !input.ownMachines;
  const adoptedSwarm =
    adoptingNow ||
    (!!clusterId && clusterId === input.knownClusterId && (input.preexisting?.length ?? 0) > 0);
  const preexisting = new Set(adoptingNow ? nodes.map((n) => n.id) : (input.preexisting ?? []));
  return { adoptingNow, adoptedSwarm, preexisting };
}

/** An adopted swarm's join tokens are not rotated after joins: said, with how to rotate them. */
export function adoptionNotices(adoption: Adoption, clusterId: string | undefined, joins: number): string[] {
  return adoption.adoptedSwarm && joins > 0
    ? [
        `swarm ${clusterId} was not made by swarmup (adopted): its join tokens are not rotated after ` +
          `${joins === 1 ? 'the join' : 'the joins'} (its owner's automation may use them); ` +
          '"swarmup rotate-tokens" rotates them when you want',
      ]
    : [];
}
