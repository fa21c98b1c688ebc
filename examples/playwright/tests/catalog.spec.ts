import { test, expect } from './fixtures';

test.describe('catalog', () => {
  test.beforeEach(async ({ page }) => {
    await page.goto('/');
  });

  test('lists every product', { tag: '@smoke' }, async ({ page }) => {
    await expect(page.getByTestId('product-card')).toHaveCount(8);
    await expect(page.getByRole('status')).toHaveText('8 products');
    await expect(page).toHaveTitle('Catalog - Tiny Shop');
  });

  test('search filters by name and updates the URL', async ({ page }) => {
    await page.getByLabel('Search').fill('pocket');
    await expect(page.getByTestId('product-card')).toHaveText([/Pocket Atlas/, /Pocket Chess Set/]);
    await expect(page.getByRole('status')).toHaveText('2 products');
    await expect(page).toHaveURL(/\?q=pocket$/);
  });

  test('says so when nothing matches', async ({ page }) => {
    await page.getByLabel('Search').fill('submarine');
    await expect(page.getByTestId('product-card')).toHaveCount(0);
    await expect(page.getByRole('status')).toHaveText('No products match your search.');
  });

  const categories = [
    { value: 'books', label: 'Books', count: 3, first: 'Pocket Atlas' },
    { value: 'games', label: 'Games', count: 2, first: 'Wooden Puzzle Box' },
    { value: 'garden', label: 'Garden', count: 3, first: 'Seed Sampler' },
  ];
  for (const category of categories) {
    test(`category "${category.label}" shows ${category.count} products`, async ({ page }) => {
      await page.getByLabel('Category').selectOption({ label: category.label });
      const cards = page.getByTestId('product-card');
      await expect(cards).toHaveCount(category.count);
      await expect(cards.first()).toContainText(category.first);
      await expect(page).toHaveURL(new RegExp(`\\?category=${category.value}$`));
    });
  }

  test('add to cart updates the header count', async ({ page }) => {
    const atlas = page.getByTestId('product-card').filter({ hasText: 'Pocket Atlas' });
    await atlas.getByRole('button', { name: 'Add to cart' }).click();
    await expect(atlas.getByRole('button')).toHaveText('Added');
    await atlas.getByRole('button').click();
    await expect(page.getByTestId('cart-count')).toHaveText('2');
  });
});

test('filters are restored from the URL', async ({ page }) => {
  await page.goto('/?q=seed&category=garden');
  await expect(page.getByLabel('Search')).toHaveValue('seed');
  await expect(page.getByLabel('Category')).toHaveValue('garden');
  await expect(page.getByTestId('product-card')).toHaveText([/Seed Sampler/]);
});

test('reports products that fail to load', async ({ page }) => {
  await page.route('**/data/products.json', (route) => route.fulfill({ status: 500, body: 'boom' }));
  await page.goto('/');
  await expect(page.getByRole('status')).toHaveText('Could not load products. Please try again later.');
  await expect(page.getByTestId('product-card')).toHaveCount(0);
});
