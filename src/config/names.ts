/** Cluster names become container names, labels, tags and folder names: keep them to one safe alphabet. */
export const CLUSTER_NAME = /^[a-z0-9][a-z0-9-]{0,30}$/;
export const CLUSTER_NAME_RULE =
  'lowercase letters, digits and "-", at most 31 characters, not starting with "-"';
