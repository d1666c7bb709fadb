// Builds src/hipviz/app/static/vtk-hipviz.js: the classes of vtk.js the 3D view uses (entry.js),
// from the vtk.js release Panel bundles (30.1.0), minified, with the WebGL back end only.
// Panel's full vtk.js is 2.6 MB (0.64 MB compressed) and takes about 0.3 s to run in the
// browser before the first frame; this bundle is about 0.39 MB (0.11 MB compressed).
//
//   cd js/vtk && npm ci && npm run build      (or: bash scripts/build_vtk.sh)
//
// The bundle's first line records a checksum of this recipe (entry.js, build.mjs and
// package-lock.json); tests/test_vtk_bundle.py checks that it matches, so a change to the
// recipe without a rebuild fails the tests. The licences of every package that ends up in the
// bundle are written beside it.
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "..", "src", "hipviz", "app", "static", "vtk-hipviz.js");
const RECIPE = ["entry.js", "build.mjs", "package-lock.json"];

function recipeChecksum() {
  const h = createHash("sha256");
  for (const f of RECIPE) h.update(readFileSync(join(here, f)));
  return h.digest("hex");
}

const version = JSON.parse(readFileSync(join(here, "node_modules", "vtk.js", "package.json"))).version;
const result = await esbuild.build({
  entryPoints: [join(here, "entry.js")],
  bundle: true,
  minify: true,
  format: "iife",
  target: "es2020",
  loader: { ".glsl": "text" },
  // vtk.js registers a WebGPU back end beside WebGL; the 3D view draws with WebGL only
  alias: { "vtk.js/Sources/Rendering/WebGPU/RenderWindow": join(here, "no-webgpu.js") },
  legalComments: "none",
  banner: { js: `/*! vtk.js ${version} (BSD-3-Clause), the part hipviz uses; recipe sha256 ${recipeChecksum()}; licences in vtk-hipviz.LICENSES.txt */` },
  metafile: true,
  write: false,
});
writeFileSync(out, result.outputFiles[0].contents);

// every package whose code is in the bundle, with its licence text
const packages = new Set();
for (const input of Object.keys(result.metafile.inputs)) {
  const m = input.match(/^(?:.*\/)?node_modules\/((?:@[^/]+\/)?[^/]+)\//);
  if (m) packages.add(m[1]);
}
const notices = [];
for (const name of [...packages].sort()) {
  const dir = join(here, "node_modules", name);
  const pkg = JSON.parse(readFileSync(join(dir, "package.json")));
  const file = ["LICENSE", "LICENSE.md", "LICENSE.txt", "license", "LICENCE"].map((f) => join(dir, f)).find(existsSync);
  notices.push(`${name} ${pkg.version} (${pkg.license})\n\n${file ? readFileSync(file, "utf8").trim() : "(no licence file in the package)"}\n`);
}
writeFileSync(out.replace(/\.js$/, ".LICENSES.txt"), notices.join("\n" + "-".repeat(80) + "\n\n"));
console.log(`${out}: ${result.outputFiles[0].contents.length} bytes, ${packages.size} packages`);
