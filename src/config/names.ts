/**
 * Cluster names become container names, labels, tags and folder names: keep them to one safe alphabet. A cluster's
 * folder sits in the state home beside the home's own files, so their names are not cluster names ("owner": the
 * owner id file; `_backups` and the rest cannot be one).
 */
export const CLUSTER_NAME = /^(?!owner$)[a-z0-9][a-z0-9-]{0,30}$/;
export const CLUSTER_NAME_RULE =
  'lowercase letters, digits and "-", at most 31 characters, not starting with "-", not "owner" (a file of the state home)';
