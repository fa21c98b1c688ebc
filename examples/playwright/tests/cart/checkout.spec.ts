import { test, expect, openWithCart, storedCart } from '../fixtures';

test.describe('checkout', () => {
  test.beforeEach(async ({ page }) => {
    await openWithCart(page, { p5: 2 }, '/checkout.html');
  });

  test('total follows the shipping choice', async ({ page }) => {
    await expect(page.getByTestId('order-total')).toHaveText('$25.00');
    await page.getByLabel('Express ($9.99)').check();
    await expect(page.getByTestId('order-total')).toHaveText('$34.99');
    await page.getByLabel('Standard (free)').check();
    await expect(page.getByTestId('order-total')).toHaveText('$25.00');
  });

  test('name, email and address are required', async ({ page }) => {
    await page.getByRole('button', { name: 'Place order' }).click();
    await expect(page.locator('#name-error')).toHaveText('Name is required.');
    await expect(page.locator('#email-error')).toHaveText('Enter a valid email address.');
    await expect(page.locator('#address-error')).toHaveText('Address is required.');
    await expect(page.getByLabel('Email')).toHaveAttribute('aria-invalid', 'true');
    await expect(page).toHaveURL('/checkout.html');
  });

  for (const email of ['plainaddress', 'two@@example.com']) {
    test(`rejects the email "${email}"`, async ({ page }) => {
      await page.getByLabel('Name').fill('Ada');
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Address').fill('1 Analytical Way');
      await page.getByRole('button', { name: 'Place order' }).click();
      await expect(page.locator('#email-error')).toHaveText('Enter a valid email address.');
      await expect(page.locator('#name-error')).toHaveText('');
      expect(await storedCart(page)).toEqual({ p5: 2 });
    });
  }

  test('places an order and empties the cart', { tag: ['@smoke', '@critical'] }, async ({ page }) => {
    await page.getByLabel('Name').fill('Ada Lovelace');
    await page.getByLabel('Email').fill('ada@example.com');
    await page.getByLabel('Address').fill('1 Analytical Way\nLondon');
    await page.getByLabel('Express ($9.99)').check();
    await page.getByRole('button', { name: 'Place order' }).click();

    await expect(page).toHaveURL('/confirmation.html?order=ORD-0001');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Thank you, Ada Lovelace!');
    await expect(page.locator('#order-total')).toHaveText('$34.99');
    await expect(page.locator('#order-email')).toHaveText('ada@example.com');
    await expect(page.getByTestId('cart-count')).toHaveText('0');
    expect(await storedCart(page)).toEqual({});
  });
});

test('checkout with an empty cart shows no form', async ({ page }) => {
  await page.goto('/checkout.html');
  await expect(page.getByText('Your cart is empty.')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Place order' })).toBeHidden();
});
