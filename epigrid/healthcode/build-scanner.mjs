// Copies the scanner's QR decoder from the npm package into the app's static files, so the
// browser never loads it from a CDN and the repository holds no hand-copied JS.
// Runs as `postinstall` of `npm ci --prefix epigrid/healthcode` (package-lock.json pins jsqr
// and its integrity hash); epigrid/healthcode/.gitignore keeps the copy out of git.
import { copyFileSync, mkdirSync, readFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const pinned = JSON.parse(readFileSync(join(here, "package.json"), "utf8")).dependencies.jsqr;
const pkgDir = join(here, "node_modules", "jsqr");
const installed = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8")).version;
if (installed !== pinned) {
  console.error(`jsqr ${installed} is installed, package.json pins ${pinned}: run npm ci`);
  process.exit(1);
}
const target = join(here, "static", "healthcode", "vendor");
mkdirSync(target, { recursive: true });
copyFileSync(join(pkgDir, "dist", "jsQR.js"), join(target, "jsQR.js"));
for (const name of ["LICENSE", "LICENSE.md", "LICENSE.txt"]) {
  if (existsSync(join(pkgDir, name))) copyFileSync(join(pkgDir, name), join(target, "jsQR.LICENSE.txt"));
}
console.log(`healthcode scanner: jsQR ${installed} -> ${join("static", "healthcode", "vendor", "jsQR.js")}`);
