/**
 * The layers of swarmup, top to bottom (docs/layout.md says what each holds). A module may import its own layer and
 * the ones below it, never one above, and no import may close a circle. `npm run lint` runs this over src and
 * playbooks; test/ and bench/ are not cruised: they may import anything.
 */
const LAYERS = [
  { name: 'cli', path: ['^src/cli/', '^src/wizard/', '^src/diagnose/'] },
  { name: 'playbooks', path: ['^playbooks/', '^src/index\\.ts$'] },
  { name: 'cluster', path: ['^src/cluster/'] },
  // src/playbook is the step runner (context, hosts, events, progress) the steps of swarm, engine and cluster run in.
  {
    name: 'swarm, engine, providers, step runner',
    path: ['^src/swarm/', '^src/engine/', '^src/providers/', '^src/playbook/'],
  },
  { name: 'transport, config, state', path: ['^src/transport/', '^src/config/', '^src/state/'] },
  {
    name: 'base',
    path: ['^src/errors\\.ts$', '^src/redact\\.ts$', '^src/tar\\.ts$', '^src/table\\.ts$', '^src/net/'],
  },
];

/**
 * Deliberate exceptions, each with its reason: { layer, from, to, reason }: modules of `layer` matching `from` may
 * import the modules above matching `to` (regular expressions, as in the rules); nothing else above.
 */
const EXCEPTIONS = [];

const above = (i) => LAYERS.slice(0, i).flatMap((l) => l.path);
const slug = (name) => name.replace(/[^a-z]+/g, '-');

const upRules = LAYERS.flatMap((layer, i) =>
  i === 0
    ? []
    : [
        {
          name: `no-up-from-${slug(layer.name)}`,
          comment: `${layer.name} may not import a layer above it (${LAYERS.slice(0, i)
            .map((l) => l.name)
            .join(' / ')})`,
          severity: 'error',
          from: {
            path: layer.path,
            pathNot: EXCEPTIONS.filter((e) => e.layer === layer.name).map((e) => e.from),
          },
          to: { path: above(i) },
        },
      ],
);

const exceptionRules = EXCEPTIONS.map((e) => {
  const i = LAYERS.findIndex((l) => l.name === e.layer);
  return {
    name: `no-up-from-${slug(e.layer)}-except`,
    comment: `only this import up is allowed: ${e.reason}`,
    severity: 'error',
    from: { path: e.from },
    to: { path: above(i), pathNot: e.to },
  };
});

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'a circle of imports: one of its modules belongs lower, or a shared piece moves down',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...upRules,
    ...exceptionRules,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // `import type` counts: a type-only import up the layers is still a dependency on the layer above.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      conditionNames: ['swarmup-source', 'import', 'node', 'default'],
      extensions: ['.ts', '.mts', '.js', '.mjs', '.cjs', '.json', '.d.ts'],
    },
  },
};
