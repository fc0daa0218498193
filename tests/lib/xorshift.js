// Deterministic PRNG (xorshift32) shared by the test-data generators: rng(seed)() returns
// the next uint32.
"use strict";

function rng(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x;
  };
}

module.exports = { rng };
