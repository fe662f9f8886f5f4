/**
 * The dashboard in a real browser: Debian's chromium driven by playwright-core (never Playwright's
 * own browser download) against Vitals running in-process on a temp dir with the demo model.
 * Overview → predict through the form → the count on the model page → promote the challenger with
 * a reason → the reason in the alias history; axe-core finds no serious or critical violation on any
 * page. Screenshots go to test-results/dashboard/ (gitignored) for a person to look at.
 *
 * Needs /usr/bin/chromium (bash scripts/services/chromium.sh installs it; CHROMIUM overrides the
 * path). A missing browser FAILS this test; it is never skipped.
 */
import { accessSync, constants, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { type Browser, type Page, chromium } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTinyCnn } from '../../src/onnx/index.js';
import { bootstrapDemo } from '../../src/pipelines/demo-bootstrap.js';
import { type TestApp, startTestApp } from '../helpers/app.js';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = resolve(import.meta.dirname, '../../test-results/dashboard');
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

const XRAY_LABELS = ['NORMAL', 'PNEUMONIA'];
let t: TestApp;
let browser: Browser;
let page: Page;
let base: string;

async function axeProblems(p: Page): Promise<string[]> {
  await p.addScriptTag({ content: AXE });
  const violations = await p.evaluate(async () => {
    const r = await (
      window as unknown as { axe: { run: (ctx: Document, o: object) => Promise<{ violations: Array<{ id: string; impact: string; help: string; nodes: Array<{ target: string[] }> }> }> } }
    ).axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 3) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.join(', ')})`);
}

/** Loads a page afresh (a hash change alone would not reload the data). */
async function open(hash: string) {
  await page.goto('about:blank');
  await page.goto(`${base}/${hash}`);
}

async function shot(name: string) {
  await page.screenshot({ path: resolve(SHOTS, `${name}.png`), fullPage: true });
}

describe('dashboard in Chromium', () => {
  beforeAll(async () => {
    try {
      accessSync(CHROMIUM, constants.X_OK);
    } catch {
      throw new Error(`no chromium at ${CHROMIUM}: run "bash scripts/services/chromium.sh" (apt-get install chromium) or set CHROMIUM`);
    }
    mkdirSync(SHOTS, { recursive: true });
    t = await startTestApp({ MODEL_NAME: 'chest-xray' }); // the image model /predict serves
    await bootstrapDemo(t.services.registry);
    // A real (tiny) ONNX CNN as the chest X-ray model, built by the project with fixed weights.
    const cnn = buildTinyCnn({ width: 16, height: 16, channels: 3, labels: XRAY_LABELS, seed: 11 });
    await t.services.registry.register({
      name: 'chest-xray',
      version: '1.0.0',
      artifact: cnn.onnx,
      modality: 'image',
      aliases: ['production'],
      output_spec: { labels: XRAY_LABELS },
      input_spec: { kind: 'image', width: 16, height: 16, channels: 3, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], layout: 'NCHW' },
    });
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.on('pageerror', (err) => {
      throw err;
    });
  });
  afterAll(async () => {
    await browser?.close();
    await t?.dispose();
  });

  it('shows the demo model on the overview with its production and challenger versions', async () => {
    await open('');
    const row = page.locator('table.overview tbody tr', { hasText: 'breast-cancer' });
    await row.waitFor();
    const prod = await t.services.registry.getVersion('breast-cancer', 'production');
    const challenger = await t.services.registry.getVersion('breast-cancer', 'challenger');
    expect(await row.locator('.badge.prod').innerText()).toContain(prod.version);
    expect(await row.locator('.badge.chal').innerText()).toContain(challenger.version);
    expect(await row.innerText()).toContain('demo'); // who made the last production change
    await shot('01-overview');
    expect(await axeProblems(page)).toEqual([]);
  });

  it('predicts through the form built from the input spec', async () => {
    await page.getByRole('link', { name: 'Predict' }).click();
    await page.locator('form.predict-form[aria-label^="features"] input').first().waitFor();
    const spec = (await t.services.registry.getVersion('breast-cancer', 'production')).input_spec as { features: Array<{ name: string }> };
    expect(await page.locator('form.predict-form[aria-label^="features"] input').count()).toBe(spec.features.length);
    await page.getByRole('button', { name: 'Predict', exact: true }).click();
    const prediction = page.getByTestId('prediction');
    await prediction.waitFor();
    const labels = (await t.services.registry.getVersion('breast-cancer', 'production')).output_spec.labels;
    expect(labels).toContain(await prediction.innerText());
    expect(await page.locator('ul.bars li').count()).toBe(labels.length);
    await shot('02-predict');
    expect(await axeProblems(page)).toEqual([]);
  });

  it('classifies an uploaded chest X-ray (PNG) with the image model', async () => {
    const dir = resolve(SHOTS, 'inputs');
    mkdirSync(dir, { recursive: true });
    // A synthetic radiograph: a bright ellipse on a dark field.
    const w = 200;
    const h = 160;
    const px = Buffer.alloc(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) px[y * w + x] = ((x - w / 2) / (w / 3)) ** 2 + ((y - h / 2) / (h / 2.5)) ** 2 < 1 ? 210 : 30;
    const file = resolve(dir, 'xray.png');
    await sharp(px, { raw: { width: w, height: h, channels: 1 } })
      .png()
      .toFile(file);
    await open('#/predict');
    await page.getByLabel('Model').selectOption('chest-xray');
    await page.getByLabel('Image file').setInputFiles(file);
    await page.getByRole('button', { name: 'Classify image' }).click();
    const prediction = page.getByTestId('prediction');
    await prediction.waitFor();
    expect(XRAY_LABELS).toContain(await prediction.innerText());
    expect(await page.locator('.result').innerText()).toContain('1.0.0');
    await page.locator('dl.facts').waitFor();
    expect(await page.locator('dl.facts').innerText()).toMatch(/png/i);
    await shot('02b-predict-image');
    expect(await axeProblems(page)).toEqual([]);
    // A chest CR in DICOM (a fixture the project generates): classified, with its de-identified acquisition facts.
    await page.getByLabel('Image file').setInputFiles(resolve(import.meta.dirname, '../fixtures/dicom/cr_chest_mono1.dcm'));
    await page.getByRole('button', { name: 'Classify image' }).click();
    await page.locator('dl.facts', { hasText: 'CR' }).waitFor();
    expect(XRAY_LABELS).toContain(await prediction.innerText());
    await shot('02c-predict-dicom');
  });

  it('counts the prediction on the model page', async () => {
    await open('#/models/breast-cancer');
    const total = page.getByTestId('prediction-total');
    await total.waitFor();
    // The log commits within PREDICTION_LOG_FLUSH_MS; the page polls, so wait for the row to show.
    await page.waitForFunction(() => document.querySelector('[data-testid="prediction-total"]')?.textContent === '1', undefined, { timeout: 20_000 });
    expect(await total.innerText()).toBe('1');
    await shot('03-model');
    expect(await axeProblems(page)).toEqual([]);
  });

  it('shows drift per feature and health after a monitoring check of shifted traffic', async () => {
    // 200 real rows of the shipped data, with the radius features shifted: the check sees drift there.
    const lines = readFileSync(resolve(import.meta.dirname, '../../data/breast_cancer/breast_cancer.csv'), 'utf8')
      .trim()
      .split('\n');
    const header = lines[0]!.split(',');
    const instances = lines
      .slice(1, 201)
      .map((line) => Object.fromEntries(header.map((h, i) => [h, Number(line.split(',')[i]) * (h.includes('radius') ? 1.6 : 1)]).filter(([h]) => h !== 'diagnosis')));
    const batch = await t.app.inject({ method: 'POST', url: '/api/v1/ml-models/predict', payload: { model: 'breast-cancer', instances } });
    expect(batch.statusCode).toBe(200);
    await new Promise((r) => setTimeout(r, 300)); // the log's group commit
    const production = await t.services.registry.getVersion('breast-cancer', 'production');
    const report = (await t.services.monitor.checkAll()).find((r) => r.version_id === production.id);
    expect(report?.drift?.drifted_features).toContain('mean_radius');
    await open('#/models/breast-cancer');
    await page.locator('table.heat tbody tr', { hasText: 'mean_radius' }).locator('td.drifted').first().waitFor();
    expect(await page.getByTestId('prediction-total').innerText()).toBe('201'); // 1 from the form + 200
    await page.getByRole('button', { name: 'mean_radius' }).click();
    expect(await page.locator('.compare').innerText()).toMatch(/reference mean .* current mean/);
    await shot('03b-model-drift');
    expect(await axeProblems(page)).toEqual([]);
    await open('');
    const row = page.locator('table.overview tbody tr', { hasText: 'breast-cancer' });
    await row.getByTestId('health').waitFor();
    expect(await row.getByTestId('health').innerText()).toMatch(/Healthy|Warning|Critical/);
    expect(await row.innerText()).toContain('mean_radius');
    await shot('03c-overview-after-check');
    // A release test of the challenger with an evaluation: the model page shows its variants and p-values.
    const test = await t.services.abTests.create({ name: 'rf-vs-logreg', model: 'breast-cancer', treatment: 'breast-cancer@challenger', traffic_split: 0.5, decision_mode: 'recommend-only' });
    for (let u = 0; u < 10; u++) {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/ml-models/predict', payload: { model: 'breast-cancer', instances: instances.slice(u * 10, u * 10 + 10), user_id: `user-${u}` } });
      expect(res.statusCode).toBe(200);
    }
    await new Promise((r) => setTimeout(r, 300));
    await t.services.abTests.evaluateAll();
    await t.services.abTests.stop(test.id, { reason: 'browser test done' });
    await open('#/models/breast-cancer');
    await page.locator('article.release', { hasText: 'rf-vs-logreg' }).locator('table').first().waitFor();
    expect(await page.locator('article.release').innerText()).toMatch(/always-valid p/i);
    await shot('03d-model-release-test');
    expect(await axeProblems(page)).toEqual([]);
    await open('#/models/breast-cancer');
    await page.getByTestId('prediction-total').waitFor();
  });

  it('promotes the challenger with a reason, and the history shows who and why', async () => {
    const challenger = await t.services.registry.getVersion('breast-cancer', 'challenger');
    await page.getByRole('button', { name: `Promote ${challenger.version}…` }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Promote' }).click(); // no reason: refused in the dialog
    expect(await dialog.getByRole('alert').innerText()).toMatch(/reason/i);
    await shot('04-promote-dialog');
    expect(await axeProblems(page)).toEqual([]);
    await dialog.getByLabel(/Reason/).fill('challenger won the offline comparison');
    await dialog.getByRole('button', { name: 'Promote' }).click();
    await page.locator('.timeline li', { hasText: 'challenger won the offline comparison' }).waitFor();
    expect((await t.services.registry.getVersion('breast-cancer', 'production')).version).toBe(challenger.version);
    const history = await t.services.registry.history('breast-cancer');
    expect(history.at(-1)).toMatchObject({ action: 'promoted', to_version: challenger.version, reason: 'challenger won the offline comparison' });
    await shot('05-promoted');
    await open('');
    await page.locator('table.overview tbody tr .badge.prod', { hasText: challenger.version }).waitFor();
    expect(await page.locator('table.overview tbody tr', { hasText: 'breast-cancer' }).innerText()).toContain('challenger won the offline comparison');
  });

  it('renders alerts, pipelines and experiments without serious accessibility problems', async () => {
    for (const depth of [4, 8]) {
      const run = await t.services.tracking.startRun('breast-cancer-tuning', { name: `rf-depth-${depth}`, config: { max_depth: depth } });
      await t.services.tracking.logMetrics(run.id, { roc_auc: 0.99 - 0.01 / depth, accuracy: 0.95 + depth / 1000 });
    }
    for (const [name, heading] of [
      ['alerts', 'Alerts'],
      ['pipelines', 'Pipelines and retraining'],
      ['experiments', 'Experiments'],
    ] as const) {
      await open(`#/${name}`);
      await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
      await page.locator('main p.muted, main table, main article').first().waitFor();
      await shot(`06-${name}`);
      expect(await axeProblems(page), name).toEqual([]);
    }
    // The experiments table sorts on the server by a metric.
    await open('#/experiments');
    await page.getByRole('button', { name: 'roc_auc' }).click();
    await page.waitForFunction(() => document.querySelector('th[aria-sort="descending"]')?.textContent === 'roc_auc');
    await page.locator('tbody tr th', { hasText: 'rf-depth-8' }).first().waitFor();
    expect(await page.locator('tbody tr th[scope="row"]').allInnerTexts()).toEqual(['rf-depth-8', 'rf-depth-4']);
  });
});
