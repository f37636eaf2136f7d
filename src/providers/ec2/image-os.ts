import { sourceFor, type EngineWanted } from '../../engine/source-choice.ts';
import type { EngineSource } from '../../engine/install-plan.ts';

export type ImageFamily =
  'ubuntu' | 'debian' | 'amzn2023' | 'amzn2' | 'fedora' | 'rocky' | 'alma' | 'rhel' | 'unknown';

/** What DescribeImages says about an image, as far as the OS goes. */
export interface ImageFacts {
  ImageId?: string;
  Name?: string;
  Description?: string;
  /** e.g. "Linux/UNIX", "Red Hat Enterprise Linux", "Windows" (AWS; the emulator leaves it out). */
  PlatformDetails?: string;
  /** "windows" for Windows images. */
  Platform?: string;
  Architecture?: string;
  OwnerId?: string;
}

/**
 * Per family: the login user its publisher documents, its /etc/os-release ID (what the engine step will read) and
 * a name for messages.
 */
export const FAMILIES: Record<
  Exclude<ImageFamily, 'unknown'>,
  { user: string; osId: string; label: string; match: RegExp }
> = {
  // Tested in this order: the first match wins.
  amzn2023: {
    user: 'ec2-user',
    osId: 'amzn',
    label: 'Amazon Linux 2023',
    match: /al2023-|amazon linux 2023/,
  },
  amzn2: {
    user: 'ec2-user',
    osId: 'amzn',
    label: 'Amazon Linux 2',
    match: /amzn2-|amazon ?linux ?2(?!\d)/,
  },
  ubuntu: { user: 'ubuntu', osId: 'ubuntu', label: 'Ubuntu', match: /ubuntu/ },
  debian: { user: 'admin', osId: 'debian', label: 'Debian', match: /debian/ },
  fedora: { user: 'fedora', osId: 'fedora', label: 'Fedora', match: /fedora/ },
  rocky: { user: 'rocky', osId: 'rocky', label: 'Rocky Linux', match: /rocky/ },
  alma: { user: 'ec2-user', osId: 'almalinux', label: 'AlmaLinux', match: /almalinux/ },
  rhel: { user: 'ec2-user', osId: 'rhel', label: 'Red Hat Enterprise Linux', match: /^rhel-|red hat/ },
};

/** Canonical's account: its images are Ubuntu whatever their name says. */
const CANONICAL = '099720109477';

/** The OS family of an image, from its name, description and platform (nothing is guessed past those). */
export function imageFamily(img: ImageFacts): ImageFamily {
  const lines = [img.Name, img.Description, img.PlatformDetails].map((l) => (l ?? '').toLowerCase());
  for (const [family, f] of Object.entries(FAMILIES))
    if (lines.some((line) => f.match.test(line))) return family as ImageFamily;
  if (img.OwnerId === CANONICAL) return 'ubuntu';
  return 'unknown';
}

export const isWindows = (img: ImageFacts): boolean =>
  img.Platform?.toLowerCase() === 'windows' || /^windows/i.test(img.PlatformDetails ?? '');

/**
 * The login user of an image: by its family; an image of no known family: `ec2-user` if it says it is Amazon's
 * Linux, else `ubuntu` (set ec2.user for others).
 */
export function loginUserOf(img: ImageFacts): string {
  const family = imageFamily(img);
  if (family !== 'unknown') return FAMILIES[family].user;
  return /amzn|amazon/i.test(`${img.Name ?? ''} ${img.Description ?? ''}`) ? 'ec2-user' : 'ubuntu';
}

/** What launching an image means for the engine: the source that works there, or why none does. */
export interface ImageEngine {
  family: ImageFamily;
  user: string;
  engine: { source: EngineSource; version?: string };
  /** Said to the user: a source replaced, an OS not recognised. */
  note?: string;
}

/** `AMI ami-0abc (al2023-ami-2023...)`: how messages name an image. */
export const imageLabel = (img: ImageFacts): string =>
  `AMI ${img.ImageId ?? '?'}${img.Name ? ` (${img.Name})` : ''}`;

/**
 * The login user and the engine source for an image, or the reason it cannot work (a message for InputError,
 * naming the image and what to pass instead). `user`: ec2.user, when configured.
 */
export function imageEngine(
  img: ImageFacts,
  engine: EngineWanted,
  user?: string,
): ImageEngine | { problem: string } {
  const label = imageLabel(img);
  if (isWindows(img))
    return {
      problem: `${label} is a Windows image; swarmup's nodes run Linux: pass --ami with a Linux image`,
    };
  const family = imageFamily(img);
  const wanted = { source: engine.source, ...(engine.version ? { version: engine.version } : {}) };
  const base = { family, user: user ?? loginUserOf(img) };
  if (family === 'unknown')
    return {
      ...base,
      engine: wanted,
      note:
        `${label}: its OS is not recognised from its name; logging in as ${base.user}` +
        `${user ? '' : ' (set ec2.user if that is wrong)'}, the engine step reads the OS over SSH`,
    };
  if (engine.source === 'none') return { ...base, engine: wanted };
  const f = FAMILIES[family];
  if (family === 'amzn2')
    return {
      problem:
        `${label} is Amazon Linux 2, which swarmup does not install engines on (its support ended 2026-06-30): ` +
        'pass --ami with an Amazon Linux 2023 image, or set engine.source: none for an image with the engine installed',
    };
  const choice = sourceFor({ id: f.osId, prettyName: f.label }, engine);
  if ('problem' in choice) {
    const given = `engine.source ${engine.source}`;
    return {
      problem: `${given} cannot work on ${label}: ${choice.problem}, or pass --ami with an Ubuntu or Debian image`,
    };
  }
  return {
    ...base,
    engine: { ...wanted, source: choice.source },
    ...(choice.note ? { note: `${label}: ${choice.note}` } : {}),
  };
}
