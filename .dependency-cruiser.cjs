// The layering rules of src/, checked by `npm run lint`
// (depcruise src --config .dependency-cruiser.cjs). Paths are regular
// expressions on paths relative to the directory depcruise runs in.
// test/lint.test.ts runs this file on planted violations
// (test/fixtures/lint/) and expects each rule below to fire by name.

// A step says what to check and what to change on one host, through the
// transport interface; how that reaches the host and the screen is not its
// business. These are the packages and modules that would tie it to one.
const SSH_AND_UI_PACKAGES = '(^|/)node_modules/(@types/)?(node-ssh|ssh2|listr2|inquirer|@inquirer/[^/]+)/';
const SSH_AND_UI_MODULES = '^src/(ssh|progress|report|cli|commands)([./]|$)';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'step-not-to-ssh-or-ui',
      severity: 'error',
      comment:
        'A step (src/steps) talks to its host only through the transport interface it is given. ' +
        'Importing node-ssh, ssh2, listr2, inquirer, or src/ssh, src/progress, src/report, src/cli, ' +
        'src/commands ties it to one transport or one UI: the dry run, the recording transport and ' +
        'the tests could no longer run it unchanged.',
      from: { path: '^src/steps/' },
      to: { path: [SSH_AND_UI_PACKAGES, SSH_AND_UI_MODULES] },
    },
    {
      name: 'inventory-not-to-hosts',
      severity: 'error',
      comment:
        'src/inventory parses and validates the inventory file and knows nothing of machines: ' +
        'validate, render and the dry run must work without any transport, host or step code.',
      from: { path: '^src/inventory/' },
      to: { path: '^src/(transport|ssh|host|steps)([./]|$)' },
    },
    {
      name: 'transport-not-upward',
      severity: 'error',
      comment:
        'src/transport is the lowest layer the steps run on (run a command, upload a file). ' +
        'It must not reach up into hosts, steps or commands; errors it raises belong to it.',
      from: { path: '^src/transport/' },
      to: { path: '^src/(host|steps|commands)([./]|$)' },
    },
    {
      name: 'src-not-to-test',
      severity: 'error',
      comment:
        'Shipped code (src/, compiled to dist/) must not import test code: test/ is not in the ' +
        'package, so the import breaks the installed CLI, and code under test must not depend on its tests.',
      from: { path: '^src/' },
      to: { path: '^test/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'An import cycle in src/ means two modules cannot be understood, tested or loaded one ' +
        'without the other (and ES modules may see the other half still uninitialised). ' +
        'Type-only imports count: they are the same coupling at compile time.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'src-not-to-dev-dependency',
      severity: 'error',
      comment:
        'src/ is what users install; devDependencies are not installed with it. A package src/ ' +
        'imports belongs in "dependencies". @types/* packages are exempt: they only type a ' +
        'runtime dependency and vanish at compile time.',
      from: { path: '^src/' },
      to: { dependencyTypes: ['npm-dev'], pathNot: '(^|/)node_modules/@types/' },
    },
    {
      name: 'src-not-to-undeclared-package',
      severity: 'error',
      comment:
        'A package src/ imports that is not in package.json at all works only because something ' +
        'else happens to install it (a transitive dependency): it can vanish or change version ' +
        'under us. Declare it in "dependencies".',
      from: { path: '^src/' },
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'src-not-to-unresolvable',
      severity: 'error',
      comment:
        'An import that does not resolve to a file or an installed package fails at run time ' +
        '(a typo, or a .js specifier with no .ts source behind it).',
      from: { path: '^src/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: '(^|/)node_modules/' },
    moduleSystems: ['es6', 'cjs'],
    // Count `import type` as a dependency too: a step that imports a type
    // from node-ssh is as tied to it as one that calls it.
    tsPreCompilationDeps: true,
    // No tsConfig: the project has no `paths`, and dependency-cruiser maps
    // NodeNext's `./x.js` specifiers to `./x.ts` on its own. Leaving it out
    // lets test/lint.test.ts run this file unchanged on a fixture tree.
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.d.ts', '.json'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    skipAnalysisNotInRules: true,
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
