// The venue scanner's service worker: keeps a copy of the scanner page and its scripts, so the
// page opens again without a network (a phone that reloaded the tab or restarted the browser
// at the door). Served from /venues/scanner-sw.js so that its scope covers /venues/<id>/scan/.
// Network first, always: online the page and scripts are the server's current ones; only when
// the network fails is the copy used. Nothing but GET requests of this origin to the scanner
// page and /static/ is touched: uploads and API calls go to the network as they are.
const CACHE = "epigrid-venues-scanner-v1";
const SCANNER_PAGE = /^\/venues\/[0-9a-f-]{36}\/scan\/$/;

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

// the page names what it needs (itself, its scripts and styles) once it is controlled
self.addEventListener("message", (event) => {
  const urls = (event.data && event.data.keep) || [];
  const wanted = urls
    .map((url) => new URL(url, self.location.origin))
    .filter((url) => url.origin === self.location.origin)
    .filter((url) => SCANNER_PAGE.test(url.pathname) || url.pathname.startsWith("/static/"))
    .map((url) => url.pathname + url.search);
  event.waitUntil(
    caches.open(CACHE).then(async (cache) => {
      let kept = 0;
      for (const url of wanted) {
        try {
          const response = await fetch(url, { credentials: "same-origin" });
          if (response.ok && !response.redirected) {
            await cache.put(url, response);
            kept += 1;
          }
        } catch {
          // offline now: the next online visit keeps it
        }
      }
      if (event.source) event.source.postMessage({ kept });
    }),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  const page = SCANNER_PAGE.test(url.pathname);
  if (!page && !url.pathname.startsWith("/static/")) return;
  event.respondWith(
    (async () => {
      const cache = await caches.open(CACHE);
      try {
        const response = await fetch(request);
        // a login redirect or an error page is never kept in place of the scanner
        if (response.ok && !response.redirected && response.type === "basic") {
          await cache.put(url.pathname + url.search, response.clone());
        }
        return response;
      } catch (error) {
        const kept = await cache.match(url.pathname + url.search);
        if (kept) return kept;
        throw error;
      }
    })(),
  );
});
