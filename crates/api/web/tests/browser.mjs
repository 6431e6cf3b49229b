// Loads the map page in Debian's Chromium (headless, software WebGL), waits for the data,
// searches a vessel, opens its panel, sees its track drawn and its marker follow the time
// slider, clicks a risk indicator, opens the flow view, and saves screenshots. Any page error,
// console error or failed request fails it.
// Usage: node browser.mjs URL QUERY SCREENSHOT.png   (exit 0 on success, 1 with a reason)
import { chromium } from "playwright-core";

const [url, query, shot] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist"],
});
const fail = async (why) => {
  console.error(`browser test failed: ${why}`);
  await browser.close();
  process.exit(1);
};
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  // No console errors and no failed request (a missing icon was a 404 on every load).
  page.on("console", (m) => { if (m.type() === "error") errors.push(`console: ${m.text()}`); });
  page.on("response", (r) => { if (r.status() >= 400) errors.push(`${r.status()} for ${r.url()}`); });
  await page.goto(url);
  await page.waitForSelector("body[data-ready], body[data-error]", { timeout: 60000 });
  const err = await page.getAttribute("body", "data-error");
  if (err) await fail(`page error: ${err}`);
  if (!(await page.locator("canvas.maplibregl-canvas").count())) await fail("no map canvas");
  const leaders = await page.locator("#leaders .row").count();
  if (leaders === 0) await fail("empty risk leaderboard");
  const bars = await page.locator("#exposurechart rect.expbar").count();
  if (bars === 0) await fail("empty country-by-month exposure chart");
  await page.fill("#search", query);
  await page.waitForSelector("#results .row", { timeout: 10000 });
  await page.click("#results .row");
  await page.waitForSelector("#vessel-title", { timeout: 10000 });
  const title = await page.textContent("#vessel-title");
  const indicators = await page.locator("#panel .ind").count();
  if (indicators === 0) await fail(`no risk indicators in the panel of ${title}`);
  const identities = await page.locator("#panel table tr").count();
  if (identities < 2) await fail("no identity timeline");
  // The track, from the position store, and the slider moving the vessel along it.
  await page.waitForSelector("body[data-track]", { timeout: 20000 });
  const vertices = Number(await page.getAttribute("body", "data-track"));
  if (!(vertices > 10)) await fail(`track of ${vertices} vertices`);
  const headAtEnd = await page.getAttribute("body", "data-track-head");
  await page.locator("#time").fill("500");
  const headMid = await page.getAttribute("body", "data-track-head");
  if (!headAtEnd || headMid === headAtEnd) await fail(`the slider did not move the vessel (${headAtEnd} → ${headMid})`);
  await page.locator("#time").fill("1000");
  // An indicator with events: its events are highlighted and the map zooms to them.
  const withEvents = page.locator("#panel .ind", { hasText: "events)" });
  if (await withEvents.count()) await withEvents.first().click();
  await page.waitForTimeout(1500);
  await page.screenshot({ path: shot });
  // The flow view: bands from terminals through STS to destination countries.
  await page.click("#openflows");
  await page.waitForSelector("#flowsvg", { timeout: 10000 });
  const bands = await page.locator("#flowsvg path.flowlink").count();
  if (bands < 2) await fail(`flow view with ${bands} bands`);
  await page.screenshot({ path: shot.replace(/\.png$/, "-flows.png") });
  await page.locator("#flowsvg path.flowlink").first().dispatchEvent("click");
  if (!(await page.locator("#flowview").isHidden())) await fail("flow view did not close on a click");
  if (errors.length) await fail(`page errors: ${errors.join("; ")}`);
  console.log(`ok: ${title}; ${leaders} leaders, ${bars} exposure bars, ${indicators} indicators, ${identities - 1} identity periods, track of ${vertices} vertices, ${bands} flow bands`);
} catch (e) {
  await fail(String(e));
}
await browser.close();
