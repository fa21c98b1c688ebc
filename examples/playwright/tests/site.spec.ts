import http from 'node:http';
import { test, expect } from './fixtures';

function rawGet(baseURL: string, rawPath: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(baseURL);
  return new Promise((resolve, reject) => {
    http
      .get({ host: hostname, port, path: rawPath }, (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

test.describe('site', () => {
  test('header links move between pages', { tag: '@smoke' }, async ({ page }) => {
    await page.goto('/');
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: /Cart/ }).click();
    await expect(page).toHaveURL('/cart.html');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Your cart');
    await nav.getByRole('link', { name: 'Catalog' }).click();
    await expect(page).toHaveURL('/');
    await page.goBack();
    await expect(page).toHaveURL('/cart.html');
  });

  test('the theme choice is remembered', async ({ page }) => {
    await page.goto('/');
    await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
    await page.getByRole('button', { name: 'Dark mode' }).click();
    await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
    await page.goto('/cart.html');
    await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
    await expect(page.getByRole('button', { name: 'Light mode' })).toBeVisible();
    expect(await page.evaluate(() => localStorage.getItem('shop.theme'))).toBe('dark');
  });

  test('an unknown page answers 404', async ({ page }) => {
    const response = await page.goto('/no-such-page.html');
    expect(response?.status()).toBe(404);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Page not found');
  });
});

test.describe('server', () => {
  const assets = [
    { path: '/app.js', type: 'text/javascript' },
    { path: '/style.css', type: 'text/css' },
    { path: '/data/products.json', type: 'application/json' },
  ];

  test('serves assets with their content types', async ({ request }) => {
    for (const asset of assets) {
      const response = await request.get(asset.path);
      expect(response.status(), asset.path).toBe(200);
      expect(response.headers()['content-type'], asset.path).toContain(asset.type);
    }
  });

  // Raw paths, sent with node:http because browsers and Playwright's request client would
  // normalise the dot segments away before the server sees them.
  test('never serves files outside the app folder', async ({ app }) => {
    for (const rawPath of ['/..%2fserver%2fserver.js', '/../package.json', '/%2e%2e/package.json']) {
      const response = await rawGet(app.url, rawPath);
      expect(response.status, rawPath).toBe(404);
      expect(response.body, rawPath).toContain('Page not found');
    }
  });
});
