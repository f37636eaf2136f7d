/**
 * Last line of defence for secrets: join tokens (SWMTKN-...) and unlock keys (SWMKEY-...) are never meant to reach
 * any output, but every message that leaves swarmup passes through here anyway.
 */
// No word boundary before it: a token glued to other text ("tokenSWMTKN-1-...") is redacted too.
const SECRET = /(SWMTKN|SWMKEY)-[0-9]+-[A-Za-z0-9+/=-]+/g;

export function redact(text: string): string {
  return text.replace(SECRET, '$1-<redacted>');
}
