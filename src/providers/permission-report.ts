import { InputError } from '../errors.ts';

/**
 * One permission a provider needs, as asked of the cloud before anything is made (EC2: a call sent with DryRun),
 * or as shown by a call the provider made anyway while resolving the run ("by use").
 */
export interface PermissionCheck {
  /** The IAM action, e.g. `ec2:RunInstances`. */
  action: string;
  /** The call that asked, e.g. `RunInstances (DryRun, with TagSpecifications)`. */
  call: string;
  status: 'allowed' | 'denied' | 'not-checkable';
  how: 'dry-run' | 'by-use';
  /** Why it could not be told, or what it was asked about. */
  note?: string;
}

/** The IAM actions found denied, each once, in the order they were checked. */
export function deniedActions(checks: PermissionCheck[]): string[] {
  return [...new Set(checks.filter((c) => c.status === 'denied').map((c) => c.action))];
}

/** The report as `plan` prints it: a headline, then one line per check. */
export function renderPermissions(checks: PermissionCheck[]): string[] {
  const label = { allowed: 'allowed', denied: 'DENIED', 'not-checkable': 'not checkable' } as const;
  const width = Math.max(...checks.map((c) => c.action.length));
  return [
    'permissions: checked (DryRun)',
    ...checks.map(
      (c) =>
        `  ${label[c.status].padEnd(13)} ${c.action.padEnd(width)}  ${c.how === 'by-use' ? 'checked by use: ' : ''}${c.call}` +
        (c.note ? `: ${c.note}` : ''),
    ),
  ];
}

/** One line for `up`: `permissions: checked (DryRun): 12 allowed, 3 not checkable`. */
export function permissionSummary(checks: PermissionCheck[]): string {
  const count = (s: PermissionCheck['status']) => checks.filter((c) => c.status === s).length;
  const parts = [
    `${count('allowed')} allowed`,
    count('denied') > 0 && `${count('denied')} denied`,
    count('not-checkable') > 0 && `${count('not-checkable')} not checkable`,
  ].filter(Boolean);
  return `permissions: checked (DryRun): ${parts.join(', ')}`;
}

/** Refused (bad input, exit 2) when any action is denied: nothing has been created yet. */
export function refuseDenied(
  checks: PermissionCheck[] | undefined,
  where: string,
  hint = 'Grant them (docs/providers/ec2.md, "IAM policy") or use other credentials (--profile).',
): void {
  const denied = deniedActions(checks ?? []);
  if (denied.length === 0) return;
  throw new InputError(
    `${where}: these credentials are denied ${denied.join(', ')}; nothing was created. ${hint}`,
  );
}
