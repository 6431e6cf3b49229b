// Loads the map page in Debian's Chromium (headless, software WebGL), waits for the data, and
// checks what a user does: the activity layer and the sea-routed flows are there; a search
// opens a vessel's panel; its track is drawn and its marker follows the time slider; a click
// on a timeline event selects it and moves the slider; the leaderboard works from the
// keyboard; the URL holds the view (a second page opened on it shows the same); the image
// export writes a PNG with the legend below the map; the flow view opens and closes onto the
// map. It writes the line geometry the map draws (flows and gaps) to DRAWN.json for the
// caller to check against the land mask, and saves screenshots. Any page error, console error
// or failed request fails it.
// Usage: node browser.mjs URL QUERY SCREENSHOT.png DRAWN.json   (exit 0 on success, 1 with a reason)
import { writeFileSync, readFileSync } from "node:fs";
import { chromium } from "playwright-core";

const [url, query, shot, drawnOut] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist", "--disable-background-networking", "--disable-component-update"],
});
const fail = async (why) => {
  console.error(`browser test failed: ${why}`);
  await browser.close();
  process.exit(1);
};
const errors = [];
const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, acceptDownloads: true });
async function open(at) {
  const page = await context.newPage();
  page.on("pageerror", (e) => errors.push(String(e)));
  // No console errors and no failed request (a missing icon was a 404 on every load).
  page.on("console", (m) => { if (m.type() === "error") errors.push(`console: ${m.text()}`); });
  page.on("response", (r) => { if (r.status() >= 400) errors.push(`${r.status()} for ${r.url()}`); });
  await page.goto(at);
  await page.waitForSelector("body[data-ready], body[data-error]", { timeout: 90000 });
  const err = await page.getAttribute("body", "data-error");
  if (err) await fail(`page error: ${err}`);
  return page;
}
const shotAs = (suffix) => shot.replace(/\.png$/, `-${suffix}.png`);
try {
  const page = await open(url);
  if (!(await page.locator("canvas.maplibregl-canvas").count())) await fail("no map canvas");
  const leaders = await page.locator("#leaders .row").count();
  if (leaders < 2) await fail(`risk leaderboard of ${leaders}`);
  const bars = await page.locator("#exposurechart rect.expbar").count();
  if (bars === 0) await fail("empty country-by-month exposure chart");
  // The layers: flows drawn along the sea, the activity of the slider's day.
  const legs = Number(await page.getAttribute("body", "data-flow-legs"));
  if (!(legs > 0)) await fail(`flow legs: ${legs}`);
  await page.waitForSelector("body[data-activity]", { timeout: 20000 });
  const activity = await page.getAttribute("body", "data-activity");
  if (!(Number(activity.split(" ")[1]) > 0)) await fail(`activity layer: ${activity}`);
  await page.screenshot({ path: shotAs("overview") });

  // The keyboard: the first leaderboard row, arrow down, Enter opens the second vessel.
  await page.locator("#leaders .row").first().focus();
  await page.keyboard.press("ArrowDown");
  const focused = await page.evaluate(() => document.activeElement.getAttribute("data-id"));
  const second = await page.locator("#leaders .row").nth(1).getAttribute("data-id");
  if (focused !== second) await fail(`arrow down focused ${focused}, not ${second}`);
  await page.keyboard.press("Enter");
  await page.waitForFunction((id) => (document.querySelector("#vessel-title") || {}).textContent?.endsWith(id), second, { timeout: 10000 });

  // A search and the vessel's panel.
  await page.fill("#search", query);
  await page.waitForSelector("#results .row", { timeout: 10000 });
  await page.click("#results .row");
  await page.waitForFunction((id) => (document.querySelector("#vessel-title") || {}).textContent?.endsWith(id),
    await page.locator("#results .row").first().getAttribute("data-id"), { timeout: 10000 });
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

  // The timeline: events in time order; a click selects one and moves the slider to it.
  const rows = page.locator("#timeline .tl");
  const n = await rows.count();
  if (n === 0) await fail("empty vessel timeline");
  const starts = await page.$$eval("#timeline .tl .when", (w) => w.map((x) => x.textContent.slice(0, 16)));
  if (starts.some((s, i) => i > 0 && s < starts[i - 1])) await fail(`timeline out of order: ${starts}`);
  const pick = rows.nth(Math.floor(n / 2));
  const eventId = await pick.getAttribute("data-event");
  await pick.click();
  if ((await page.getAttribute("body", "data-selected-event")) !== eventId) await fail("timeline click did not select its event");
  if ((await page.inputValue("#time")) === "1000" && n > 1) await fail("timeline click did not move the slider");
  if (!(await pick.evaluate((e) => e.classList.contains("sel")))) await fail("selected timeline row not marked");
  // Its evidence pack downloads as a zip from the row's link.
  const packHref = await pick.locator("a.pack").getAttribute("href");
  const pack = await page.evaluate(async (u) => {
    const r = await fetch(u);
    const b = new Uint8Array(await r.arrayBuffer());
    return { status: r.status, type: r.headers.get("content-type"), magic: String.fromCharCode(b[0], b[1]), size: b.length, text: r.status === 200 ? "" : new TextDecoder().decode(b) };
  }, packHref);
  if (pack.status !== 200 || pack.type !== "application/zip" || pack.magic !== "PK") await fail(`evidence pack ${packHref}: ${pack.status} ${pack.type} ${pack.text}`);
  await page.waitForTimeout(800);
  await page.screenshot({ path: shotAs("timeline") });

  // An indicator with events: its events are highlighted and the map zooms to them.
  const withEvents = page.locator("#panel .ind", { hasText: "events)" });
  if (await withEvents.count()) await withEvents.first().click();
  await page.waitForTimeout(1500);
  await page.screenshot({ path: shot });

  // The kind filter: unticking port calls hides them.
  await page.locator("#time").fill("1000");
  const before = Number(await page.getAttribute("body", "data-events-shown"));
  await page.uncheck('#legend input[data-kind="port_call"]');
  const after = Number(await page.getAttribute("body", "data-events-shown"));
  if (!(after < before)) await fail(`hiding port calls left ${after} of ${before} events`);

  // The URL holds the view: a second page on it shows the same vessel, time, layers, filters.
  await page.selectOption("#confidence", "high");
  await page.uncheck("#layer-activity");
  await page.locator("#time").fill("700");
  await page.waitForTimeout(300);
  const link = page.url();
  if (!link.includes("vessel=")) await fail(`the URL does not hold the view: ${link}`);
  const again = await open(link);
  const same = {
    title: [title, await again.textContent("#vessel-title").catch(() => null)],
    time: [await page.inputValue("#time"), await again.inputValue("#time")],
    confidence: ["high", await again.inputValue("#confidence")],
    activity: [false, await again.isChecked("#layer-activity")],
    port_calls: [false, await again.isChecked('#legend input[data-kind="port_call"]')],
    events: [await page.getAttribute("body", "data-events-shown"), await again.getAttribute("body", "data-events-shown")],
  };
  for (const [k, [a, b]] of Object.entries(same)) if (a !== b) await fail(`URL round trip: ${k} ${a} → ${b} (${link})`);
  await again.close();

  // The image export: a PNG larger than the map (the legend and sources below it).
  const [download] = await Promise.all([page.waitForEvent("download", { timeout: 20000 }), page.click("#export")]);
  const png = shotAs("export");
  await download.saveAs(png);
  const bytes = readFileSync(png);
  if (bytes.length < 20000 || bytes.toString("latin1", 1, 4) !== "PNG") await fail(`export of ${bytes.length} bytes`);
  const [w, h] = [bytes.readUInt32BE(16), bytes.readUInt32BE(20)];
  const canvas = await page.evaluate(() => [document.querySelector("canvas.maplibregl-canvas").width, document.querySelector("canvas.maplibregl-canvas").height]);
  if (w !== canvas[0] || h <= canvas[1]) await fail(`export ${w}x${h} for a map of ${canvas}`);

  // The line geometry drawn, for the land check.
  const drawn = await page.evaluate(() => window.shadowfleetDrawn());
  writeFileSync(drawnOut, JSON.stringify(drawn));

  // The flow view: bands from terminals through STS to destination countries.
  await page.click("#openflows");
  await page.waitForSelector("#flowsvg", { timeout: 10000 });
  const bands = await page.locator("#flowsvg path.flowlink").count();
  if (bands < 2) await fail(`flow view with ${bands} bands`);
  await page.screenshot({ path: shotAs("flows") });
  await page.locator("#flowsvg path.flowlink").first().dispatchEvent("click");
  if (!(await page.locator("#flowview").isHidden())) await fail("flow view did not close on a click");
  if ((await page.getAttribute("body", "data-flow-filter")) === "all") await fail("a band did not filter the flows");
  await page.click("#allflows");
  if ((await page.getAttribute("body", "data-flow-filter")) !== "all") await fail("'all' did not show every flow again");
  if (errors.length) await fail(`page errors: ${errors.join("; ")}`);
  console.log(`ok: ${title}; ${leaders} leaders, ${bars} exposure bars, ${legs} flow legs, activity ${activity}, ${indicators} indicators, ${identities - 1} identity periods, ${n} timeline events, evidence pack of ${pack.size} bytes, track of ${vertices} vertices, export ${w}x${h}, ${drawn.length} drawn lines, ${bands} flow bands`);
} catch (e) {
  await fail(String(e));
}
await browser.close();
