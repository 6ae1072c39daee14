import { allHosts, type Step } from './types.js';
import { describeFileStates, fileStateCheck, parseFileStates, uploadFiles, type FileState } from './files.js';
import { repoFile } from './repositories.js';

export const baseRepositoriesStep: Step<FileState[]> = {
  id: 'base-repositories',
  title: "Point the OS's own repositories at a mirror that still serves them",
  hosts: allHosts,
  requires: [],
  skip: (ctx) => (ctx.host.os.baseRepositories(ctx.cluster, ctx.host.facts).length ? undefined : `${ctx.host.facts.prettyName}'s own repositories are left as they are`),
  managedFiles: (ctx) => ctx.host.os.baseRepositories(ctx.cluster, ctx.host.facts).map(repoFile),
  check: (ctx) => fileStateCheck(ctx.host.os.baseRepositories(ctx.cluster, ctx.host.facts).map(repoFile)),
  parse(out, ctx) {
    const files = ctx.host.os.baseRepositories(ctx.cluster, ctx.host.facts).map(repoFile);
    const found = parseFileStates(out, files);
    const bad = describeFileStates(found);
    return bad.length ? { done: false, reason: bad.join('; '), found } : { done: true, reason: files.map((f) => f.path).join(', ') + ' in place', found };
  },
  unknown: () => [],
  async apply(ctx, found) {
    await uploadFiles(ctx.host, ctx.host.os.baseRepositories(ctx.cluster, ctx.host.facts).map(repoFile), found);
  },
};
