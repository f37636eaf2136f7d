/** The keys of R whose values are lists of things that may carry an owner. */
export type OwnedLists<R> = {
  [K in keyof R]: R[K] extends Array<{ owner?: string }> ? K : never;
}[keyof R];

/**
 * One cluster's resources (any provider's record of lists) split by their owner label or tag (two state homes may
 * both have made a cluster "lab"): one record per owner, in the order owners are first met going through `lists`
 * in order; undefined is the group made by an older swarmup (no owner).
 */
export function groupByOwner<R extends { cluster: string; owner?: string }>(
  r: R,
  lists: ReadonlyArray<OwnedLists<R>>,
): R[] {
  const groups = new Map<string | undefined, R>();
  const of = (owner: string | undefined): R => {
    if (!groups.has(owner))
      groups.set(owner, {
        cluster: r.cluster,
        ...(owner !== undefined ? { owner } : {}),
        ...Object.fromEntries(lists.map((k) => [k, []])),
      } as unknown as R);
    return groups.get(owner)!;
  };
  for (const k of lists)
    for (const item of r[k] as Array<{ owner?: string }>)
      (of(item.owner)[k] as Array<{ owner?: string }>).push(item);
  return [...groups.values()];
}
