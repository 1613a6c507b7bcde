// Copies the venue scanner's IndexedDB wrapper (idb) from the npm package into the app's
// static files, so the browser never loads it from a CDN and the repository holds no
// hand-copied JS. Runs as `postinstall` of `npm ci --prefix epigrid/venues` (package-lock.json
// pins idb and its integrity hash); epigrid/venues/.gitignore keeps the copy out of git.
import { copyFileSync, mkdirSync, readFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const pinned = JSON.parse(readFileSync(join(here, "package.json"), "utf8")).dependencies.idb;
const pkgDir = join(here, "node_modules", "idb");
const installed = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8")).version;
if (installed !== pinned) {
  console.error(`idb ${installed} is installed, package.json pins ${pinned}: run npm ci`);
  process.exit(1);
}
const target = join(here, "static", "venues", "vendor");
mkdirSync(target, { recursive: true });
// the ES module build (one file, no imports of its own): scanner.js imports it
copyFileSync(join(pkgDir, "build", "index.js"), join(target, "idb.js"));
for (const name of ["LICENSE", "LICENSE.md", "LICENSE.txt"]) {
  if (existsSync(join(pkgDir, name))) copyFileSync(join(pkgDir, name), join(target, "idb.LICENSE.txt"));
}
console.log(`venues scanner: idb ${installed} -> ${join("static", "venues", "vendor", "idb.js")}`);
