import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The documented minimal IAM policy (docs/providers/ec2.md) against the code: every AWS call in src/providers/ec2
 * has its permission, and the policy grants nothing the code does not call. Calls are found by scanning for
 * `new XxxCommand(` and resolving each command to the client package it is imported from (static imports, and
 * `await import(...)` destructuring).
 */
const ROOT = resolve(import.meta.dirname, '../..');
const EC2_DIR = join(ROOT, 'src/providers/ec2');
const POLICY_FILE = join(EC2_DIR, 'iam-policy.json');
const SERVICES: Record<string, string> = { ec2: 'ec2', ssm: 'ssm', sts: 'sts' };

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** The IAM actions one source file's AWS calls need; throws on a command not imported from an AWS client. */
function actionsOf(text: string, file = 'source'): Set<string> {
  // Comments may show a call; only code makes one.
  const source = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const serviceOf = new Map<string, string>();
  const imports = [
    ...source.matchAll(/import\s*\{([^{}]*)\}\s*from\s*'@aws-sdk\/client-(\w+)'/g),
    ...source.matchAll(/\{([^{}]*)\}\s*=\s*await\s+import\(\s*'@aws-sdk\/client-(\w+)'\s*\)/g),
  ];
  for (const [, names, client] of imports) {
    for (const raw of names!.split(',')) {
      const name = raw
        .trim()
        .replace(/^type\s+/, '')
        .split(/\s+as\s+/)
        .at(-1)!;
      if (name) serviceOf.set(name, SERVICES[client!] ?? client!);
    }
  }
  const actions = new Set<string>();
  for (const [, command] of source.matchAll(/new\s+([A-Z]\w*Command)\s*\(/g)) {
    const service = serviceOf.get(command!);
    if (!service)
      throw new Error(`${file}: new ${command}( is not imported from an @aws-sdk/client-* package`);
    actions.add(`${service}:${command!.replace(/Command$/, '')}`);
  }
  // The SDK's paginators (paginateDescribeInstances) send their command themselves.
  for (const [, paginator, operation] of source.matchAll(/\b(paginate([A-Z]\w*))\s*\(/g)) {
    const service = serviceOf.get(paginator!);
    if (!service) throw new Error(`${file}: ${paginator}( is not imported from an @aws-sdk/client-* package`);
    actions.add(`${service}:${operation!}`);
  }
  // Tags given at creation are authorised as ec2:CreateTags (with ec2:CreateAction): no command of its own.
  if (/TagSpecifications\s*:/.test(source) && [...actions].some((a) => a.startsWith('ec2:')))
    actions.add('ec2:CreateTags');
  return actions;
}

interface Statement {
  Sid: string;
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}
const policyText = readFileSync(POLICY_FILE, 'utf8');
const policy = JSON.parse(policyText) as { Version: string; Statement: Statement[] };
const actionsIn = (s: Statement) => [s.Action].flat();

function codeActions(): Set<string> {
  const all = new Set<string>();
  for (const file of tsFiles(EC2_DIR))
    for (const a of actionsOf(readFileSync(file, 'utf8'), file.slice(ROOT.length + 1))) all.add(a);
  return all;
}

describe('the minimal IAM policy (src/providers/ec2/iam-policy.json)', () => {
  it('the scanner resolves static and dynamic imports, aliases, and refuses a command of unknown origin', () => {
    const source = `
      import { RunInstancesCommand, type Instance, DescribeRouteTablesCommand as Routes } from '@aws-sdk/client-ec2';
      const { GetCallerIdentityCommand } = await import('@aws-sdk/client-sts');
      import { paginateDescribeInstances } from '@aws-sdk/client-ec2';
      new RunInstancesCommand({ TagSpecifications: [] }); new Routes({}); new GetCallerIdentityCommand({});
      for await (const page of paginateDescribeInstances({ client }, {})) {}`;
    expect([...actionsOf(source)].sort()).toEqual([
      'ec2:CreateTags',
      'ec2:DescribeInstances',
      'ec2:RunInstances',
      'sts:GetCallerIdentity',
    ]);
    expect(() => actionsOf('new MysteryCommand({})')).toThrow('new MysteryCommand( is not imported');
  });

  it('no call without its permission, and no permission without a call', () => {
    const code = codeActions();
    const granted = new Set(policy.Statement.filter((s) => s.Effect === 'Allow').flatMap(actionsIn));
    expect([...code].filter((a) => !granted.has(a)).sort(), 'called, but not in the policy').toEqual([]);
    expect([...granted].filter((a) => !code.has(a)).sort(), 'in the policy, but never called').toEqual([]);
    // The scan found the calls of every client (a broken scan would find too little, and pass vacuously).
    expect(code).toContain('ec2:RunInstances');
    expect(code).toContain('ssm:GetParameter');
    expect(code).toContain('sts:GetCallerIdentity');
  });

  it('tags while creating, names (CreateTags) and changes only resources tagged swarmup:cluster, reads on *', () => {
    const code = codeActions();
    const creates = ['ec2:CreateSecurityGroup', 'ec2:ImportKeyPair', 'ec2:RunInstances'];
    const tagging = policy.Statement.filter((s) => actionsIn(s).includes('ec2:CreateTags'));
    expect(tagging).toHaveLength(2);
    // At creation: only with one of swarmup's create calls.
    const onCreate = tagging.find((s) => s.Condition?.StringEquals)!;
    expect(actionsIn(onCreate)).toEqual(['ec2:CreateTags']);
    expect([onCreate.Condition?.StringEquals?.['ec2:CreateAction']].flat().sort()).toEqual(
      creates.map((a) => a.slice(4)),
    );
    // After: a batch's instances get their Names (launch-batch.ts), on resources tagged swarmup:cluster only.
    const after = tagging.find((s) => s !== onCreate)!;
    expect(after.Condition?.Null?.['aws:ResourceTag/swarmup:cluster']).toBe('false');
    const changing = [...code].filter(
      (a) => a.startsWith('ec2:') && !a.startsWith('ec2:Describe') && !creates.includes(a),
    );
    expect(changing.sort()).toEqual([
      'ec2:AuthorizeSecurityGroupIngress',
      'ec2:CreateTags',
      'ec2:DeleteKeyPair',
      'ec2:DeleteSecurityGroup',
      'ec2:DeleteVolume',
      'ec2:RevokeSecurityGroupIngress',
      'ec2:StartInstances',
      'ec2:StopInstances',
      'ec2:TerminateInstances',
    ]);
    for (const action of changing) {
      for (const s of policy.Statement.filter((x) => actionsIn(x).includes(action) && x !== onCreate)) {
        expect(s.Condition?.Null?.['aws:ResourceTag/swarmup:cluster'], `${action} in ${s.Sid}`).toBe('false');
      }
    }
    for (const s of policy.Statement.filter((x) => actionsIn(x).some((a) => a.startsWith('ec2:Describe')))) {
      expect(actionsIn(s).every((a) => a.startsWith('ec2:Describe'))).toBe(true);
      expect(s.Resource).toBe('*');
    }
    const ssm = policy.Statement.find((s) => actionsIn(s).includes('ssm:GetParameter'))!;
    expect(ssm.Resource).toBe('arn:aws:ssm:*::parameter/aws/service/canonical/ubuntu/*');
  });

  it("the documentation's copy (docs/providers/ec2.md, AWS (EC2) > IAM policy) is the file, verbatim", () => {
    const page = readFileSync(join(ROOT, 'docs/providers/ec2.md'), 'utf8');
    expect(page.startsWith('# AWS (EC2)\n')).toBe(true);
    expect(page.indexOf('\n## IAM policy\n')).toBeGreaterThan(0);
    const section = page.slice(page.indexOf('\n## IAM policy\n'));
    const block = /```json\n([\s\S]*?)```/.exec(section)?.[1];
    expect(block).toBe(policyText);
  });
});
