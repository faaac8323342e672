#!/bin/sh
# `pnpm run docs` in one package: @effect/docgen with the package's docgen.json (whose
# examplesCompilerOptions point at ../../tsconfig.docgen.json, shared by every package).
# Writes the API reference to <package>/docs (gitignored; CI builds it). Fails on a
# missing @since, an @example that does not typecheck, or an exported value without an
# @example (scripts/docgen-examples.mjs). Not cached by turbo: an example may
# use another package's source (tsconfig.docgen.json's paths), which turbo's inputs would not see.
#
# docgen typechecks every @example with tsc and then runs them all with `tsx`. Ours are
# programs to read: they call the MiMo API (a key and the network), open Redis, or stand
# for a value with `declare const`, so they are typechecked and not run: the `tsx` docgen
# finds first on PATH is scripts/docgen-bin/tsx, which only says so.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
PATH="$here/docgen-bin:$PATH"
export PATH
docgen "$@"
# Every exported value has an @example (docgen can only demand one on every interface and type too).
node "$here/docgen-examples.mjs"
