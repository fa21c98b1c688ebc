import { test as base, expect, type Page } from '@playwright/test';
import { startServer } from '../server/server';

type WorkerFixtures = {
  // One app server per worker, on 127.0.0.1 and a port the OS picks.
  app: { url: string };
};

export const test = base.extend<{}, WorkerFixtures>({
  app: [
    async ({}, use) => {
      const server = await startServer({ host: '127.0.0.1', port: 0 });
      await use({ url: server.url });
      await server.close();
    },
    { scope: 'worker' },
  ],
  baseURL: async ({ app }, use) => {
    await use(app.url);
  },
});

export { expect };

export type Cart = Record<string, number>;

// Puts a cart straight into localStorage (the app's only state), then opens `path`.
export async function openWithCart(page: Page, cart: Cart, path = '/cart.html') {
  await page.goto('/healthz');
  await page.evaluate((value) => localStorage.setItem('shop.cart', JSON.stringify(value)), cart);
  await page.goto(path);
}

export async function storedCart(page: Page): Promise<Cart> {
  return page.evaluate(() => JSON.parse(localStorage.getItem('shop.cart') || '{}'));
}
