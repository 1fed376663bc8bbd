// Writes interop_node.json: compact JWE tokens minted by node `jose` (tests/idp/node_modules)
// for every key-management algorithm x content encryption pair the module supports, with the
// (test-only) private keys as JWKs. tests/unit/test_jwe.c decrypts every token.
//
//     node tests/data/jwe/make_interop_node.mjs > tests/data/jwe/interop_node.json
//
// Keys are fresh on every run; the committed JSON is one such run. Each token's plaintext is
// an HS256 JWS (cty "JWT").
const jose = await import(new URL('../../idp/node_modules/jose/dist/webapi/index.js', import.meta.url));

const ENCS = ['A128CBC-HS256', 'A192CBC-HS384', 'A256CBC-HS512', 'A128GCM', 'A192GCM', 'A256GCM'];
const CEK_BITS = { 'A128CBC-HS256': 256, 'A192CBC-HS384': 384, 'A256CBC-HS512': 512,
                   A128GCM: 128, A192GCM: 192, A256GCM: 256 };
const ALGS = ['dir', 'A128KW', 'A192KW', 'A256KW', 'RSA-OAEP', 'RSA-OAEP-256',
              'ECDH-ES', 'ECDH-ES+A128KW', 'ECDH-ES+A192KW', 'ECDH-ES+A256KW'];
const CURVES = ['P-256', 'P-384', 'P-521'];

const keys = new Map(); // kid -> { jwk, key (oct) or pub (public JWK) }

async function octKey(kid, bits) {
  if (!keys.has(kid)) {
    const raw = crypto.getRandomValues(new Uint8Array(bits / 8));
    const jwk = { kty: 'oct', kid, k: jose.base64url.encode(raw) };
    keys.set(kid, { jwk, key: raw });
  }
  return keys.get(kid);
}

async function pairKey(kid, alg, opts) {
  if (!keys.has(kid)) {
    const { publicKey, privateKey } = await jose.generateKeyPair(alg, { ...opts, extractable: true });
    const jwk = { ...(await jose.exportJWK(privateKey)), kid };
    keys.set(kid, { jwk, pub: await jose.exportJWK(publicKey) });
  }
  return keys.get(kid);
}

const signer = crypto.getRandomValues(new Uint8Array(32));
const tokens = [];
let n = 0;
for (const alg of ALGS) {
  for (const enc of ENCS) {
    let targets;
    if (alg === 'dir') {
      targets = [['dir-' + CEK_BITS[enc], await octKey('dir-' + CEK_BITS[enc], CEK_BITS[enc])]];
    } else if (alg.startsWith('A')) {
      const bits = Number(alg.slice(1, 4));
      targets = [['kw-' + bits, await octKey('kw-' + bits, bits)]];
    } else if (alg.startsWith('RSA')) {
      targets = [['rsa-2048', await pairKey('rsa-2048', 'RSA-OAEP-256', { modulusLength: 2048 })]];
    } else {
      targets = [];
      for (const crv of CURVES) {
        targets.push(['ec-' + crv, await pairKey('ec-' + crv, 'ECDH-ES', { crv })]);
      }
    }
    for (const [kid, k] of targets) {
      n += 1;
      const plaintext = await new jose.SignJWT({ sub: 'node-interop-' + n, alg, enc })
        .setProtectedHeader({ alg: 'HS256' })
        .sign(signer);
      const hdr = { alg, enc, cty: 'JWT' };
      if (n % 2) hdr.kid = kid; // every other token names its key
      const jwe = await new jose.CompactEncrypt(new TextEncoder().encode(plaintext))
        .setProtectedHeader(hdr)
        .encrypt(k.key ?? (await jose.importJWK(k.pub, alg)));
      tokens.push({ alg, enc, kid, jwe, plaintext });
    }
  }
}
const out = {
  generator: 'node jose (tests/data/jwe/make_interop_node.mjs)',
  keys: [...keys.values()].map((k) => k.jwk),
  tokens,
};
process.stdout.write(JSON.stringify(out, null, 1) + '\n');
