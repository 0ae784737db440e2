// Checkout of a 5-SKU cart: the Order actor (its checkout reserves the five lines from the
// InventorySKU actors in parallel, history on, as shipped) vs a hand-written order DO reserving
// from hand-written SKU DOs (bench/actors/checkout.ts). Checkouts run one after another.

import { post } from "../http.mjs";
import { QUICK } from "../quick.mjs";

const N = QUICK ? 5 : 100;
const SKUS = 5;
const STOCK = 1_000_000;

export default [
  {
    name: `checkout of a ${SKUS}-SKU cart, ${N} sequential checkouts: Order + InventorySKU (history on) vs hand-written order + SKU DOs`,
    goal: 1 / 0.95,
    ops: N,
    seed: {
      figure: "total checkout 70–110 ms p50 sequential, ~25–40 ms with parallel reserves (USE_CASES 4)",
      unit: "ms/checkout",
    },
    // 6 rounds: a round is about 4.5 s of both sides on this machine.
    rounds: 6,
    async setup(base) {
      await post(base, `/bench/checkout/setup/cart?skus=${SKUS}&stock=${STOCK}`);
    },
    subject: (base) => post(base, `/bench/checkout/actor/cart?n=${N}&skus=${SKUS}`),
    baseline: (base) => post(base, `/bench/checkout/plain/cart?n=${N}&skus=${SKUS}`),
  },
];
