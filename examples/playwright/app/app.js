// Tiny Shop: every page loads this script; <body data-page="..."> picks what to render.
// State lives in localStorage: the cart ({productId: quantity}), past orders and the theme.
'use strict';

const CART_KEY = 'shop.cart';
const ORDERS_KEY = 'shop.orders';
const THEME_KEY = 'shop.theme';
const EXPRESS_SHIPPING = 999;
const MAX_QUANTITY = 10;

const $ = (selector) => document.querySelector(selector);

function readJson(key, fallback) {
  try {
    const value = JSON.parse(localStorage.getItem(key));
    return value === null ? fallback : value;
  } catch {
    return fallback;
  }
}

function writeJson(key, value) {
  localStorage.setItem(key, JSON.stringify(value));
}

function formatPrice(cents) {
  return '$' + (cents / 100).toFixed(2);
}

function escapeHtml(text) {
  const div = document.createElement('div');
  div.textContent = text;
  return div.innerHTML;
}

async function loadProducts() {
  const response = await fetch('/data/products.json');
  if (!response.ok) throw new Error('HTTP ' + response.status);
  return response.json();
}

// ---- cart -------------------------------------------------------------------------------------

function getCart() {
  return readJson(CART_KEY, {});
}

function saveCart(cart) {
  writeJson(CART_KEY, cart);
  renderCartCount();
}

function addToCart(id, quantity) {
  const cart = getCart();
  cart[id] = Math.min(MAX_QUANTITY, (cart[id] || 0) + quantity);
  saveCart(cart);
}

function cartLines(cart, products) {
  return Object.entries(cart)
    .map(([id, quantity]) => ({ product: products.find((p) => p.id === id), quantity }))
    .filter((line) => line.product && line.quantity > 0);
}

function subtotal(lines) {
  return lines.reduce((sum, line) => sum + line.product.price * line.quantity, 0);
}

// ---- header and theme -------------------------------------------------------------------------

function renderHeader() {
  const header = $('#site-header');
  header.innerHTML = `
    <a class="brand" href="/">Tiny Shop</a>
    <nav aria-label="Main">
      <a href="/">Catalog</a>
      <a href="/cart.html">Cart (<span data-testid="cart-count">0</span>)</a>
    </nav>
    <button type="button" id="theme-toggle"></button>`;
  $('#theme-toggle').addEventListener('click', () => {
    const next = document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark';
    localStorage.setItem(THEME_KEY, next);
    applyTheme();
  });
  applyTheme();
  renderCartCount();
}

function applyTheme() {
  const theme = localStorage.getItem(THEME_KEY) === 'dark' ? 'dark' : 'light';
  document.documentElement.dataset.theme = theme;
  $('#theme-toggle').textContent = theme === 'dark' ? 'Light mode' : 'Dark mode';
}

function renderCartCount() {
  const count = Object.values(getCart()).reduce((sum, quantity) => sum + quantity, 0);
  $('[data-testid="cart-count"]').textContent = String(count);
}

// ---- pages ------------------------------------------------------------------------------------

async function catalogPage() {
  const list = $('[data-testid="product-list"]');
  const status = $('#catalog-status');
  let products;
  try {
    products = await loadProducts();
  } catch {
    status.textContent = 'Could not load products. Please try again later.';
    status.classList.add('error');
    return;
  }
  const search = $('#search');
  const category = $('#category');
  const params = new URLSearchParams(location.search);
  search.value = params.get('q') || '';
  category.value = params.get('category') || 'all';

  const render = () => {
    const query = search.value.trim().toLowerCase();
    const shown = products.filter(
      (p) =>
        (category.value === 'all' || p.category === category.value) &&
        p.name.toLowerCase().includes(query),
    );
    list.innerHTML = shown
      .map(
        (p) => `
      <li class="product-card" data-testid="product-card" data-id="${p.id}">
        <a href="/product.html?id=${encodeURIComponent(p.id)}">${escapeHtml(p.name)}</a>
        <span class="price">${formatPrice(p.price)}</span>
        <button type="button" data-add="${p.id}">Add to cart</button>
      </li>`,
      )
      .join('');
    status.textContent =
      shown.length === 0
        ? 'No products match your search.'
        : `${shown.length} product${shown.length === 1 ? '' : 's'}`;
    const queryString = new URLSearchParams();
    if (search.value) queryString.set('q', search.value);
    if (category.value !== 'all') queryString.set('category', category.value);
    const encoded = queryString.toString();
    history.replaceState(null, '', encoded ? '?' + encoded : location.pathname);
  };
  search.addEventListener('input', render);
  category.addEventListener('change', render);
  // The controls stay disabled until the products are in, so early input is never lost.
  search.disabled = false;
  category.disabled = false;
  list.addEventListener('click', (event) => {
    const id = event.target.dataset && event.target.dataset.add;
    if (!id) return;
    addToCart(id, 1);
    event.target.textContent = 'Added';
  });
  render();
}

async function productPage() {
  const products = await loadProducts();
  const id = new URLSearchParams(location.search).get('id');
  const product = products.find((p) => p.id === id);
  if (!product) {
    document.title = 'Not found - Tiny Shop';
    $('#product').innerHTML = '<h1>Product not found</h1><a href="/">Back to catalog</a>';
    return;
  }
  document.title = product.name + ' - Tiny Shop';
  $('#product-name').textContent = product.name;
  $('#product-description').textContent = product.description;
  $('#product-price').textContent = formatPrice(product.price);
  $('#add-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const quantity = Number($('#quantity').value);
    const message = $('#add-status');
    if (!Number.isInteger(quantity) || quantity < 1 || quantity > MAX_QUANTITY) {
      message.textContent = `Choose a quantity from 1 to ${MAX_QUANTITY}.`;
      message.className = 'error';
      return;
    }
    addToCart(product.id, quantity);
    message.textContent = `Added ${quantity} × ${product.name} to your cart.`;
    message.className = 'ok';
  });
  $('#add-button').disabled = false;
}

async function cartPage() {
  const products = await loadProducts();
  const render = () => {
    const lines = cartLines(getCart(), products);
    $('#cart-empty').hidden = lines.length > 0;
    $('#cart-full').hidden = lines.length === 0;
    $('#cart-lines').innerHTML = lines
      .map(
        ({ product, quantity }) => `
      <tr data-testid="cart-line" data-id="${product.id}">
        <td class="name">${escapeHtml(product.name)}</td>
        <td>
          <button type="button" data-step="-1" aria-label="Decrease ${escapeHtml(product.name)}">−</button>
          <span data-testid="quantity">${quantity}</span>
          <button type="button" data-step="1" aria-label="Increase ${escapeHtml(product.name)}">+</button>
        </td>
        <td data-testid="line-total">${formatPrice(product.price * quantity)}</td>
        <td><button type="button" data-remove aria-label="Remove ${escapeHtml(product.name)}">Remove</button></td>
      </tr>`,
      )
      .join('');
    $('[data-testid="subtotal"]').textContent = formatPrice(subtotal(lines));
  };
  $('#cart-lines').addEventListener('click', (event) => {
    const row = event.target.closest('tr');
    if (!row || event.target.tagName !== 'BUTTON') return;
    const cart = getCart();
    const id = row.dataset.id;
    if ('remove' in event.target.dataset) {
      delete cart[id];
    } else {
      cart[id] = Math.min(MAX_QUANTITY, cart[id] + Number(event.target.dataset.step));
      if (cart[id] <= 0) delete cart[id];
    }
    saveCart(cart);
    render();
  });
  $('#clear-cart').addEventListener('click', () => {
    saveCart({});
    render();
  });
  render();
}

function validateCheckout(form) {
  const errors = {};
  if (!form.name.value.trim()) errors.name = 'Name is required.';
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(form.email.value.trim()))
    errors.email = 'Enter a valid email address.';
  if (!form.address.value.trim()) errors.address = 'Address is required.';
  return errors;
}

async function checkoutPage() {
  const products = await loadProducts();
  const lines = cartLines(getCart(), products);
  const form = $('#checkout-form');
  if (lines.length === 0) {
    $('#checkout-empty').hidden = false;
    form.hidden = true;
    return;
  }
  const total = () =>
    subtotal(lines) + (form.shipping.value === 'express' ? EXPRESS_SHIPPING : 0);
  const renderTotal = () => {
    $('[data-testid="order-total"]').textContent = formatPrice(total());
  };
  form.hidden = false;
  form.addEventListener('change', renderTotal);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const errors = validateCheckout(form);
    for (const field of ['name', 'email', 'address']) {
      const message = $(`#${field}-error`);
      message.textContent = errors[field] || '';
      form[field].setAttribute('aria-invalid', errors[field] ? 'true' : 'false');
    }
    if (Object.keys(errors).length > 0) return;
    const orders = readJson(ORDERS_KEY, []);
    const id = 'ORD-' + String(orders.length + 1).padStart(4, '0');
    orders.push({
      id,
      name: form.name.value.trim(),
      email: form.email.value.trim(),
      shipping: form.shipping.value,
      total: total(),
      items: lines.map((line) => ({ id: line.product.id, quantity: line.quantity })),
    });
    writeJson(ORDERS_KEY, orders);
    saveCart({});
    location.href = '/confirmation.html?order=' + encodeURIComponent(id);
  });
  renderTotal();
}

function confirmationPage() {
  const id = new URLSearchParams(location.search).get('order');
  const order = readJson(ORDERS_KEY, []).find((o) => o.id === id);
  if (!order) {
    $('#confirmation').innerHTML = '<h1>Order not found</h1><a href="/">Back to catalog</a>';
    return;
  }
  $('#thanks').textContent = `Thank you, ${order.name}!`;
  $('#order-id').textContent = order.id;
  $('#order-total').textContent = formatPrice(order.total);
  $('#order-email').textContent = order.email;
}

const pages = {
  catalog: catalogPage,
  product: productPage,
  cart: cartPage,
  checkout: checkoutPage,
  confirmation: confirmationPage,
};

renderHeader();
pages[document.body.dataset.page]();
