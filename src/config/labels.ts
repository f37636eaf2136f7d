/**
 * Node labels as Docker takes them (`docker node update --label-add KEY=VALUE`, the docker CLI's ValidateLabel):
 * the key is not empty and holds no whitespace (nor "=", where the CLI splits key from value); the value is any
 * string. Numbers and booleans in YAML (`rack: 3`) are the strings they read as.
 */
export const LABEL_KEY = /^[^\s=]+$/;
export const LABEL_KEY_RULE =
  'a label key: not empty, no whitespace and no "=" (as docker node update takes it)';

export type Labels = Record<string, string>;

/** The labels of one entry of the config, their values as the strings Docker keeps. */
export function labelStrings(labels: Record<string, string | number | boolean> | undefined): Labels {
  return Object.fromEntries(Object.entries(labels ?? {}).map(([k, v]) => [k, String(v)]));
}

/**
 * An Ansible host var `swarmup_labels="zone=a,disk=ssd"` (INI values are strings): the pairs, or the first problem.
 */
export function parseLabelList(text: string): Labels | string {
  const out: Labels = {};
  for (const part of text.split(',').map((p) => p.trim())) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    if (!LABEL_KEY.test(key)) return `"${part}": ${LABEL_KEY_RULE}`;
    out[key] = eq < 0 ? '' : part.slice(eq + 1);
  }
  return out;
}

/** A label map as messages show it: `zone=a, disk=ssd`. */
export function formatLabels(labels: Labels): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
}
