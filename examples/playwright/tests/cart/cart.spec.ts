import { test, expect, openWithCart, storedCart } from '../fixtures';

test.describe('cart with two products', () => {
  test.beforeEach(async ({ page }) => {
    await openWithCart(page, { p1: 2, p6: 1 });
  });

  test('shows each line and the subtotal', { tag: '@smoke' }, async ({ page }) => {
    const lines = page.getByTestId('cart-line');
    await expect(lines).toHaveCount(2);
    await expect(lines.getByTestId('line-total')).toHaveText(['$29.00', '$8.99']);
    await expect(page.getByTestId('subtotal')).toHaveText('$37.99');
    await expect(page.getByTestId('cart-count')).toHaveText('3');
  });

  test('plus and minus change quantities and totals', async ({ page }) => {
    await page.getByRole('button', { name: 'Increase Seed Sampler' }).click();
    await page.getByRole('button', { name: 'Decrease Pocket Atlas' }).click();
    await expect(page.getByTestId('quantity')).toHaveText(['1', '2']);
    await expect(page.getByTestId('subtotal')).toHaveText('$32.48');
    expect(await storedCart(page)).toEqual({ p1: 1, p6: 2 });
  });

  test('remove drops a line', async ({ page }) => {
    await page.getByRole('button', { name: 'Remove Pocket Atlas' }).click();
    await expect(page.getByTestId('cart-line')).toHaveText([/Seed Sampler/]);
    await expect(page.getByTestId('subtotal')).toHaveText('$8.99');
  });

  test('empty cart shows the empty state', async ({ page }) => {
    await page.getByRole('button', { name: 'Empty cart' }).click();
    await expect(page.getByText('Your cart is empty.')).toBeVisible();
    await expect(page.getByRole('link', { name: 'Proceed to checkout' })).toBeHidden();
    expect(await storedCart(page)).toEqual({});
  });

  test('survives a reload', async ({ page }) => {
    await page.getByRole('button', { name: 'Increase Pocket Atlas' }).click();
    await expect(page.getByTestId('cart-count')).toHaveText('4');
    await page.reload();
    await expect(page.getByTestId('quantity')).toHaveText(['3', '1']);
  });
});
