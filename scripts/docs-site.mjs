// The API reference site that .github/workflows/docs.yml deploys to GitHub Pages, and the check that keeps the
// workflow, the README's links and the packages in step.
//
//   node scripts/docs-site.mjs --check        the packages, the README's links and the workflow agree (fast, no build)
//   node scripts/docs-site.mjs [--out <dir>]  after `pnpm run docs`: the check, then one Jekyll source tree in <dir>
//                                             (default `docs-site/`, gitignored) from every public package's
//                                             `packages/<dir>/docs/modules/*.md`, each under `/docs/<dir>`
//
// Every public package (any `packages/*` not marked `private`) must have a `docgen.json` and a `docs` script, be
// linked from the README at <pages>/docs/<dir>, and have built docs. <pages> is the repository's GitHub Pages
// address, https://<owner>.github.io/<name>, read from the root package.json's `repository`. Exits 1 with the
// reasons when something disagrees.
import * as Fs from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

const root = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "..")
const read = (file) => Fs.readFileSync(Path.join(root, file), "utf8")
const readJson = (file) => JSON.parse(read(file))
const problems = []

const workflowFile = ".github/workflows/docs.yml"
const defaultOut = "docs-site"

/** The public packages: `{ dir, name, scripts }` for each `packages/<dir>` not marked `private`. */
const publicPackages = () =>
  Fs.readdirSync(Path.join(root, "packages"), { withFileTypes: true })
    .filter((d) => d.isDirectory() && Fs.existsSync(Path.join(root, "packages", d.name, "package.json")))
    .map((d) => ({ dir: d.name, manifest: readJson(`packages/${d.name}/package.json`) }))
    .filter((p) => p.manifest.private !== true)
    .map((p) => ({ dir: p.dir, name: p.manifest.name, scripts: p.manifest.scripts }))
    .sort((a, b) => a.dir.localeCompare(b.dir))

/**
 * From the root package.json's repository URL: `pages`, https://<owner>.github.io/<name>, and `github`,
 * https://github.com/<owner>/<name> (the owner in lower case in both).
 */
const siteUrls = () => {
  const repository = readJson("package.json").repository
  const url = typeof repository === "string" ? repository : repository?.url ?? ""
  const match = /github\.com[/:]([^/]+)\/([^/.]+)(\.git)?$/.exec(url)
  if (match === null) throw new Error(`package.json: no GitHub repository URL (${url})`)
  const owner = match[1].toLowerCase()
  return { pages: `https://${owner}.github.io/${match[2]}`, github: `https://github.com/${owner}/${match[2]}` }
}

const sameSet = (what, expected, actual) => {
  const missing = expected.filter((x) => !actual.includes(x))
  const extra = actual.filter((x) => !expected.includes(x))
  if (missing.length > 0) problems.push(`${what}: missing ${missing.join(", ")}`)
  if (extra.length > 0) problems.push(`${what}: not a public package: ${extra.join(", ")}`)
}

const check = () => {
  const packages = publicPackages()
  const dirs = packages.map((p) => p.dir)
  for (const { dir, scripts } of packages) {
    if (!Fs.existsSync(Path.join(root, "packages", dir, "docgen.json"))) {
      problems.push(`packages/${dir}: public, but has no docgen.json`)
    }
    const script = scripts?.docs
    if (script !== "sh ../../scripts/docgen.sh") {
      problems.push(`packages/${dir}: its "docs" script must be "sh ../../scripts/docgen.sh" (is ${script})`)
    }
  }
  // The README links each public package's reference, and nothing else under the docs address.
  const urls = siteUrls()
  const base = `${urls.pages}/docs/`
  const linked = [...read("README.md").matchAll(/\]\((https:\/\/[^)\s]+)\)/g)]
    .map((m) => m[1])
    .filter((url) => url.startsWith(base))
    .map((url) => url.slice(base.length).replace(/\/$/, ""))
  sameSet(`README.md's links under ${base}`, dirs, [...new Set(linked)])
  // The workflow builds with the repository's own scripts and deploys the tree this script writes.
  const workflowPath = Path.join(root, workflowFile)
  if (!Fs.existsSync(workflowPath)) {
    problems.push(`${workflowFile} is missing`)
  } else {
    const workflow = read(workflowFile)
    const steps = [
      "pnpm install --frozen-lockfile",
      "pnpm run build",
      "pnpm run docs",
      "node scripts/docs-site.mjs",
      `source: ./${defaultOut}`,
      "actions/upload-pages-artifact",
      "actions/deploy-pages"
    ]
    for (const step of steps) if (!workflow.includes(step)) problems.push(`${workflowFile}: no \`${step}\``)
  }
  return { packages, urls }
}

const frontMatter = (fields) =>
  `---\n${Object.entries(fields).map(([k, v]) => `${k}: ${typeof v === "string" ? JSON.stringify(v) : v}`).join("\n")}\n---\n`

/** One Jekyll (just-the-docs) source tree: a home page, and each package's modules under /docs/<dir>. */
const assemble = (packages, urls, out) => {
  const modulesOf = (dir) => Path.join(root, "packages", dir, "docs", "modules")
  // Each package's module pages, listed once.
  const pagesOf = new Map()
  for (const { dir } of packages) {
    const modules = modulesOf(dir)
    const pages = Fs.existsSync(modules) ? Fs.readdirSync(modules).filter((f) => f.endsWith(".ts.md")) : []
    if (pages.length === 0) problems.push(`packages/${dir}/docs/modules: no module pages (run \`pnpm run docs\`)`)
    pagesOf.set(dir, pages)
  }
  if (problems.length > 0) return
  Fs.rmSync(out, { recursive: true, force: true })
  Fs.mkdirSync(out, { recursive: true })
  Fs.writeFileSync(
    Path.join(out, "_config.yml"),
    [
      "title: effect-mimo",
      "description: API reference of the effect-mimo packages",
      "remote_theme: just-the-docs/just-the-docs",
      "plugins:",
      "  - jekyll-remote-theme",
      "search_enabled: true",
      "aux_links:",
      `  "effect-mimo on GitHub":`,
      `    - "${urls.github}"`,
      ""
    ].join("\n")
  )
  Fs.writeFileSync(
    Path.join(out, "index.md"),
    frontMatter({ title: "Home", nav_order: 1 }) +
      "\n# effect-mimo API reference\n\nGenerated from the JSDoc with `@effect/docgen`.\n\n" +
      packages.map((p) => `- [${p.name}](docs/${p.dir}/)`).join("\n") + "\n"
  )
  packages.forEach(({ dir, name }, i) => {
    const target = Path.join(out, "docs", dir)
    Fs.mkdirSync(target, { recursive: true })
    Fs.writeFileSync(
      Path.join(target, "index.md"),
      // `/docs/<dir>/`: docs/<dir>/index.html beside the module pages, which GitHub Pages serves at /docs/<dir> too.
      frontMatter({ title: name, has_children: true, permalink: `/docs/${dir}/`, nav_order: i + 2 })
    )
    for (const file of pagesOf.get(dir)) {
      // docgen makes each module a child of its own "Modules" page; here it is a child of its package's page. Its
      // Markdown formatting (prettier) turns the front matter's opening `---` into a thematic break, `***`, which
      // Jekyll would not read as front matter: the block is written back with `---`.
      const text = Fs.readFileSync(Path.join(modulesOf(dir), file), "utf8")
      const front = /^(?:---|\*\*\*)\n\n?((?:[a-z_]+: .*\n)+)---\n/.exec(text)
      if (front === null || !/^parent: Modules$/m.test(front[1])) {
        problems.push(`packages/${dir}/docs/modules/${file}: no front matter with "parent: Modules"`)
        continue
      }
      const fields = front[1].replace(/^parent: Modules$/m, `parent: ${JSON.stringify(name)}`)
      Fs.writeFileSync(Path.join(target, file), `---\n${fields}---\n${text.slice(front[0].length)}`)
    }
  })
}

const args = process.argv.slice(2)
const { packages, urls } = check()
if (!args.includes("--check")) {
  const at = args.indexOf("--out")
  const out = Path.resolve(root, at >= 0 && args[at + 1] !== undefined ? args[at + 1] : defaultOut)
  assemble(packages, urls, out)
  if (problems.length === 0) {
    console.log(`docs-site: ${packages.length} packages in ${Path.relative(root, out) || out}`)
  }
}
if (problems.length > 0) {
  console.error(`docs-site: ${problems.length} problem(s):\n${problems.map((p) => `- ${p}`).join("\n")}`)
  process.exit(1)
} else if (args.includes("--check")) {
  console.log(`docs-site: ${packages.length} public packages; README links and ${workflowFile} agree`)
}
