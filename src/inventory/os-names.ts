/**
 * The OS names an inventory's `os:` field and `--os` accept. Apart from the
 * schema so that the CLI can offer them as choices without loading zod.
 */
export const OS_NAMES = [
  'rhel', 'centos7', 'rocky8', 'rocky9', 'rocky10', 'alma8', 'alma9', 'alma10', 'rhel8', 'rhel9', 'rhel10',
  'debian', 'debian11', 'debian12', 'debian13', 'ubuntu20.04', 'ubuntu22.04', 'ubuntu24.04', 'ubuntu26.04',
] as const;

export type OsName = (typeof OS_NAMES)[number];
