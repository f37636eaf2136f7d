import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tempHome } from './cli.ts';

/** The owner id a state home wrote (its file `owner`). */
export const ownerOf = (home: string): string => readFileSync(join(home, 'owner'), 'utf8').trim();

/** Two state homes and what a swarmup child needs to use each, and how to remove both. */
export interface TwoStateHomes {
  homeA: string;
  homeB: string;
  envA: Record<string, string>;
  envB: Record<string, string>;
  remove(): void;
}

/**
 * Two state homes on one engine or one account (two CI jobs, two machines with the same cluster names): each
 * with the environment of a swarmup child that uses it, by default the home alone (docker); `envOf` gives the
 * rest (the EC2 emulator's). Home A may be one made already (an emulator fixture's).
 */
export function twoStateHomes(
  envOf: (home: string) => Record<string, string> = (home) => ({ SWARMUP_HOME: home }),
  homeA = tempHome(),
): TwoStateHomes {
  const homeB = tempHome();
  return {
    homeA,
    homeB,
    envA: envOf(homeA),
    envB: envOf(homeB),
    remove: () => {
      for (const h of [homeA, homeB]) rmSync(h, { recursive: true, force: true });
    },
  };
}
