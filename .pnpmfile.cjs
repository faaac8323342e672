// Shapes the package.json that `pnpm pack` / `pnpm publish` put in a tarball (pnpm >= 10.28).
// A user installs a package with its `dependencies` and `peerDependencies`; the workspace's own
// `devDependencies` (the private test package, pinned dev copies of the peers) and `scripts`
// mean nothing to them, so they are left out, as in Effect's own published manifests.
// `.ci/pack-check.mjs` checks the result in every tarball.
module.exports = {
  hooks: {
    beforePacking(pkg) {
      delete pkg.devDependencies
      delete pkg.scripts
      return pkg
    }
  }
}
