import { test, expect, storedCart } from './fixtures';

test.describe('product page', () => {
  test.beforeEach(async ({ page }) => {
    await page.goto('/');
    await page.getByRole('link', { name: 'Wooden Puzzle Box' }).click();
  });

  test('opens from the catalog', { tag: '@smoke' }, async ({ page }) => {
    await expect(page).toHaveURL('/product.html?id=p4');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Wooden Puzzle Box');
    await expect(page.locator('#product-price')).toHaveText('$35.00');
    await expect(page).toHaveTitle('Wooden Puzzle Box - Tiny Shop');
  });

  test('adds the chosen quantity to the cart', async ({ page }) => {
    await page.getByLabel('Quantity').fill('3');
    await page.getByRole('button', { name: 'Add to cart' }).click();
    await expect(page.getByRole('status')).toHaveText('Added 3 × Wooden Puzzle Box to your cart.');
    await expect(page.getByTestId('cart-count')).toHaveText('3');
    expect(await storedCart(page)).toEqual({ p4: 3 });
  });

  for (const quantity of ['0', '11']) {
    test(`rejects quantity ${quantity}`, async ({ page }) => {
      await page.getByLabel('Quantity').fill(quantity);
      await page.getByRole('button', { name: 'Add to cart' }).click();
      await expect(page.getByRole('status')).toHaveText('Choose a quantity from 1 to 10.');
      await expect(page.getByTestId('cart-count')).toHaveText('0');
      expect(await storedCart(page)).toEqual({});
    });
  }
});

test('an unknown product shows "not found" and links back', async ({ page }) => {
  await page.goto('/product.html?id=nope');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Product not found');
  await page.getByRole('link', { name: 'Back to catalog' }).click();
  await expect(page).toHaveURL('/');
  await expect(page.getByTestId('product-card')).toHaveCount(8);
});
