/**
 * What the smoke test's results mean (pure): which node pairs cannot talk over the overlay network, which nodes'
 * host-mode published port does not answer, and the port most likely blocked in each case.
 */

export interface SmokeCheck {
  from: string;
  to: string;
  via: 'overlay' | 'published';
  ok: boolean;
  /** The node that answered (ok) or why not. */
  detail: string;
}

export interface SmokeFindings {
  /** Every node of the swarm, in inventory order. */
  nodes: string[];
  /** Nodes whose smoke task never ran, and why. */
  notRunning: Array<{ node: string; reason: string }>;
  checks: SmokeCheck[];
  /** What the cleanup could not remove in time (by label; the next smoke test removes it). */
  leftBehind: string[];
  /** The host-mode published port, and the node that knocked on it. */
  publishedPort: number;
  entry: string;
  /** The swarm's VXLAN port (DataPathPort; 4789 unless changed at init). */
  dataPathPort: number;
}

/** One line per problem, naming nodes and the port to look at; empty when the data plane works. */
export function smokeProblems(f: SmokeFindings): string[] {
  const problems: string[] = [];
  for (const n of f.notRunning) problems.push(`${n.node}: the smoke task did not run: ${n.reason}`);

  const failed = f.checks.filter((c) => c.via === 'overlay' && !c.ok);
  const ports = `${f.dataPathPort}/udp (VXLAN) or 7946/tcp+udp (gossip)`;
  // Unordered pairs that failed in at least one direction, with what each direction saw.
  const pairs = new Map<string, { a: string; b: string; why: string[] }>();
  const order = (n: string) => f.nodes.indexOf(n);
  for (const c of failed) {
    const [a, b] = order(c.from) <= order(c.to) ? [c.from, c.to] : [c.to, c.from];
    const key = `${a}\u0000${b}`;
    const p = pairs.get(key) ?? { a, b, why: [] };
    p.why.push(`${c.from} → ${c.to}: ${c.detail}`);
    pairs.set(key, p);
  }
  // A node in many failed pairs is the likely culprit: named once, with all its pairs; the rest pair by pair.
  let left = [...pairs.values()];
  for (;;) {
    const count = new Map<string, number>();
    for (const p of left) for (const n of [p.a, p.b]) count.set(n, (count.get(n) ?? 0) + 1);
    const [node, n] = [...count.entries()].sort((x, y) => y[1] - x[1] || order(x[0]) - order(y[0]))[0] ?? [
      '',
      0,
    ];
    if (n < 2) break;
    const mine = left.filter((p) => p.a === node || p.b === node);
    const others = mine.map((p) => (p.a === node ? p.b : p.a)).sort((x, y) => order(x) - order(y));
    const peers = f.nodes.length - 1 - f.notRunning.filter((x) => x.node !== node).length;
    problems.push(
      `overlay: ${node} cannot talk to ${others.join(', ')} (${others.length} of ${peers} other nodes; ` +
        `pairs ${others.map((o) => `${node}↔${o}`).join(', ')}): ${ports} is likely blocked at ${node}`,
    );
    left = left.filter((p) => !mine.includes(p));
  }
  for (const p of left)
    problems.push(
      `overlay: ${p.a}↔${p.b} cannot talk (${p.why.join('; ')}): ${ports} is likely blocked between ${p.a} and ${p.b}`,
    );

  for (const c of f.checks.filter((x) => x.via === 'published' && !x.ok))
    problems.push(
      `published port: ${f.publishedPort}/tcp (host mode) on ${c.to} does not answer from ${c.from}: ${c.detail}; ` +
        `${f.publishedPort}/tcp is likely blocked on ${c.to}`,
    );
  for (const l of f.leftBehind)
    problems.push(`not removed: ${l} (the next verify --smoke removes it, so does down)`);
  return problems;
}

/** Counts for the progress lines and the JSON event. */
export function smokeCounts(
  checks: SmokeCheck[],
  via: SmokeCheck['via'],
): { checked: number; failed: number } {
  const mine = checks.filter((c) => c.via === via);
  return { checked: mine.length, failed: mine.filter((c) => !c.ok).length };
}
