// Demo storefront: a product grid, a cart, and <cartwise-bundles> suggesting for the cart.
import "../lib/cartwise-bundles.js";

const el = document.getElementById("bundles");
const grid = document.getElementById("grid");
const cartList = document.getElementById("cart");
const status = document.getElementById("status");
// The export's currency (`info.currency`) once loaded: amounts are in its minor units.
let currency = { code: "USD", exponent: 2 };
const money = (minor) => new Intl.NumberFormat("en-US", {
  style: "currency", currency: currency.code ?? "USD",
  minimumFractionDigits: currency.exponent, maximumFractionDigits: currency.exponent,
}).format(minor / 10 ** currency.exponent);

/** Cart lines by id, plus bundle discounts taken ({amount, ids, claim}); a discount lasts while
 * all its items stay. Everything here is the shopper's to change: checkout re-checks it. */
const cart = { lines: new Map(), discounts: [] };
window.demoCart = cart;

function addItem(product) {
  const line = cart.lines.get(product.id) ?? { ...product, qty: 0 };
  line.qty += 1;
  cart.lines.set(product.id, line);
  render();
}

function render() {
  cartList.replaceChildren();
  let total = 0;
  for (const line of cart.lines.values()) {
    const li = document.createElement("li");
    li.dataset.id = line.id;
    const name = document.createElement("span");
    name.textContent = `${line.qty} × ${line.title}`;
    const price = document.createElement("span");
    price.textContent = money((line.price ?? 0) * line.qty);
    const remove = document.createElement("button");
    remove.textContent = "×";
    remove.title = "Remove";
    remove.addEventListener("click", () => {
      cart.lines.delete(line.id);
      cart.discounts = cart.discounts.filter((d) => d.ids.every((id) => cart.lines.has(id)));
      render();
    });
    li.append(name, price, remove);
    cartList.append(li);
    total += (line.price ?? 0) * line.qty;
  }
  for (const d of cart.discounts) {
    const li = document.createElement("li");
    li.className = "discount";
    li.textContent = `Bundle discount −${money(d.amount)}`;
    cartList.append(li);
    total -= d.amount;
  }
  document.getElementById("total").textContent = money(total);
  el.cart = { items: [...cart.lines.values()].map((l) => ({ id: l.id, qty: l.qty })) };
}

el.addEventListener("cartwise-add-bundle", (event) => {
  for (const item of event.detail.items) addItem(item);
  const ids = event.detail.items.map((i) => i.id);
  if (event.detail.discount > 0) cart.discounts.push({ amount: event.detail.discount, ids, claim: event.detail.claim });
  render();
});

// The browser proposes, the server disposes: the demo server verifies every bundle against the
// export and prices the order from its own catalog before it confirms a total.
document.getElementById("checkout").addEventListener("click", async () => {
  const result = document.getElementById("checkout-result");
  const order = {
    items: [...cart.lines.values()].map((l) => ({ id: l.id, qty: l.qty })),
    bundles: cart.discounts.map((d) => d.claim),
  };
  const answer = await (await fetch("/checkout", { method: "POST", body: JSON.stringify(order) })).json();
  const refused = (answer.bundles ?? []).filter((b) => !b.ok);
  result.dataset.ok = String(answer.ok);
  result.textContent = answer.ok
    ? `Confirmed by the shop: ${money(answer.total)}`
    : answer.total === null
      ? `Refused: ${answer.error}`
      : `The shop charges ${money(answer.total)}: ${refused.map((b) => b.reason).join("; ")}`;
});
document.getElementById("theme").addEventListener("change", (event) => {
  document.body.className = event.target.value;
});
el.addEventListener("cartwise-error", (event) => { status.textContent = `Error: ${event.detail.message}`; });

const info = await el.ready;
currency = info.currency;
status.textContent = `Export loaded: ${info.catalogSize} products learned from ${info.orders} orders · backend ${info.backend}`;
for (const p of await el.client.products(0, 24)) {
  const card = document.createElement("div");
  card.className = "product";
  card.dataset.id = p.id;
  const title = document.createElement("strong");
  title.textContent = p.title;
  const category = document.createElement("span");
  category.className = "category";
  category.textContent = p.category;
  const price = document.createElement("span");
  price.className = "price";
  price.textContent = p.price === null ? "—" : money(p.price);
  const add = document.createElement("button");
  add.textContent = "Add to cart";
  add.addEventListener("click", () => addItem(p));
  card.append(title, category, price, add);
  grid.append(card);
}
document.body.dataset.ready = "true";
